# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform's generated secrets on the controller, vault-encrypted at rest when a vault password is set."""

from __future__ import annotations

DOCUMENTATION = r"""
name: secret
short_description: A generated secret kept in a file on the controller, vault-encrypted when a vault password is set
version_added: 0.1.0
author: lanying.im maintainers (@lanying-im)
description:
  - Returns the secret kept in the file O(_terms[0]) on the controller. The first time, when the file does not exist, a
    random secret of O(length) characters from O(chars) is made and written there (mode 0600, its directory
    0700 made if missing); every later run reads the same value, so no run ever changes a password.
  - With O(encrypt=auto) (the default) the new file is written encrypted with the run's vault password
    (C(--vault-password-file), C(--ask-vault-pass) or C(ANSIBLE_VAULT_PASSWORD_FILE); the first vault identity
    when there are several), and in plain text when the run has none. O(encrypt=always) refuses to write a
    secret in plain text; O(encrypt=never) always writes plain text.
  - A file that is already there is read as it is, encrypted (with any of the run's vault passwords) or not, so
    that the files of an earlier deploy keep working, and can be encrypted later with
    C(ansible-vault encrypt <inventory>/.secrets/*). An encrypted file without the vault password to open it
    stops the run, naming the file.
  - Reads the files C(ansible.builtin.password) wrote (the secret before a C( salt=) part, if any).
  - Two hosts asking for the same new secret at once get the same one, written once (the file appears whole,
    never half written).
options:
  _terms:
    description: The secret's file on the controller, one path.
    required: true
    type: list
    elements: path
  length:
    description: Characters of a new secret (8 or more).
    type: int
    default: 32
  chars:
    description:
      - The characters of a new secret, as names of Python's C(string) constants (C(ascii_letters), C(digits),
        C(ascii_lowercase), C(hexdigits), ...) or as literal characters.
    type: list
    elements: str
    default: [ascii_letters, digits]
  encrypt:
    description: Whether a new secret's file is written vault-encrypted.
    type: str
    choices: [auto, always, never]
    default: auto
notes:
  - The value never appears in the run's output unless a task prints it; the tasks that pass secrets to hosts
    hide their arguments (no_log).
seealso:
  - name: Encrypting content with Ansible Vault
    description: The vault password options this lookup uses.
    link: https://docs.ansible.com/ansible/latest/vault_guide/index.html
"""

EXAMPLES = r"""
- name: The registry's password, made once and kept under the inventory
  ansible.builtin.set_fact:
    registry_password: "{{ lookup('lanying.im.secret', inventory_dir ~ '/.secrets/registry', length=32) }}"

- name: A hexadecimal token, never written in plain text
  ansible.builtin.debug:
    msg: "{{ lookup('lanying.im.secret', '/srv/secrets/token', chars=['hexdigits'], encrypt='always') | length }}"
"""

RETURN = r"""
_raw:
  description: The secret, one string (a list of one element for C(query)).
  type: list
  elements: str
"""

import os
import secrets
import string
import tempfile

from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.parsing.vault import VaultLib, is_encrypted
from ansible.plugins.lookup import LookupBase


def alphabet(chars):
    """The characters a new secret is drawn from: string constants by name, other entries literally."""
    found = []
    for entry in chars:
        value = getattr(string, entry, None) if entry.isidentifier() else None
        found.append(value if isinstance(value, str) else entry)
    return "".join(sorted(set("".join(found))))


def plain_value(text):
    """The secret in a file's text: its first line, without ansible.builtin.password's ' salt=' part."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first.split(" salt=", 1)[0].split(" ident=", 1)[0]


def write_once(path, data):
    """Write data to path only if no file is there: made whole in a temporary file, then linked into place.
    Returns False when another writer got there first (the caller reads that file)."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o700, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".secret-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(temporary)


class LookupModule(LookupBase):

    def _vault(self):
        vault = getattr(self._loader, "_vault", None)
        return vault if vault is not None and vault.secrets else None

    def _read(self, path):
        with open(path, "rb") as stream:
            data = stream.read()
        if is_encrypted(data):
            vault = self._vault()
            if vault is None:
                raise AnsibleLookupError(
                    "lanying.im.secret: %s is vault-encrypted and this run has no vault password; give it with "
                    "--vault-password-file or --ask-vault-pass (or ANSIBLE_VAULT_PASSWORD_FILE)" % path)
            try:
                data = vault.decrypt(data)
            except AnsibleError as error:
                raise AnsibleLookupError("lanying.im.secret: %s cannot be opened with this run's vault password: %s"
                                         % (path, to_text(error)))
        value = plain_value(to_text(data, errors="surrogate_or_strict"))
        if not value:
            raise AnsibleLookupError("lanying.im.secret: %s is empty; remove it to have a new secret made" % path)
        return value

    def _new(self, path, length, chars, encrypt):
        vault = self._vault()
        if encrypt == "always" and vault is None:
            raise AnsibleLookupError(
                "lanying.im.secret: %s does not exist and encrypt=always, but this run has no vault password to "
                "write it with; give one with --vault-password-file or --ask-vault-pass" % path)
        value = "".join(secrets.choice(chars) for _position in range(length))
        data = to_bytes(value + "\n")
        if vault is not None and encrypt != "never":
            vault_id, secret = vault.secrets[0]
            data = VaultLib([(vault_id, secret)]).encrypt(data, secret=secret, vault_id=vault_id)
        if write_once(path, data):
            return value
        return self._read(path)

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleLookupError("lanying.im.secret takes one file, got %d: %s" % (len(terms), terms))
        path = to_text(terms[0])
        length = self.get_option("length")
        chars = alphabet(self.get_option("chars"))
        encrypt = self.get_option("encrypt")
        if length < 8:
            raise AnsibleLookupError("lanying.im.secret: length=%d for %s; a secret has 8 characters or more" % (length, path))
        if len(chars) < 10:
            raise AnsibleLookupError("lanying.im.secret: chars=%s for %s give %d distinct characters; use 10 or more"
                                     % (self.get_option("chars"), path, len(chars)))
        if os.path.exists(path):
            return [self._read(path)]
        return [self._new(path, length, chars, encrypt)]

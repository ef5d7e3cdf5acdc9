"""lanying.im.secret: made once, read ever after, vault-encrypted at rest when the run has a vault password."""

import os
import pathlib
import stat
import subprocess
import sys
import threading

import pytest

from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultSecret
import yaml
from ansible import constants as C

from ansible_collections.lanying.im.plugins.lookup import secret as plugin

COLLECTIONS = pathlib.Path(__file__).resolve().parents[7]
VENV_BIN = pathlib.Path(sys.executable).parent


def lookup(path, vault_passwords=(), **options):
    loader = DataLoader()
    if vault_passwords:
        loader.set_vault_secrets([("id%d" % n, VaultSecret(p.encode())) for n, p in enumerate(vault_passwords)])
    module = plugin.LookupModule(loader=loader, templar=None)
    module._load_name = "lanying.im.secret"
    # Its options as the plugin loader registers them from DOCUMENTATION (choices and types checked).
    C.config.initialize_plugin_configuration_definitions(
        "lookup", module._load_name, yaml.safe_load(plugin.DOCUMENTATION)["options"])
    return module.run([str(path)], variables={}, **options)[0]


def test_a_new_secret_is_made_once_and_kept(tmp_path):
    path = tmp_path / "secrets" / "registry"
    first = lookup(path, length=24, chars=["digits", "ascii_lowercase"])
    assert len(first) == 24 and set(first) <= set("0123456789abcdefghijklmnopqrstuvwxyz")
    assert path.read_text() == first + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert lookup(path, length=40) == first
    assert [p.name for p in path.parent.iterdir()] == ["registry"]


def test_with_a_vault_password_the_file_is_encrypted_and_read_back(tmp_path):
    path = tmp_path / "redis"
    value = lookup(path, vault_passwords=["correct horse"])
    data = path.read_text()
    assert data.startswith("$ANSIBLE_VAULT;1.2;AES256;id0") and value not in data
    assert lookup(path, vault_passwords=["correct horse"]) == value
    # Several vault passwords: any of them opens it.
    assert lookup(path, vault_passwords=["another", "correct horse"]) == value


def test_ansible_vault_opens_what_it_wrote(tmp_path):
    path = tmp_path / "postgres"
    value = lookup(path, vault_passwords=["s3cret pass"])
    password_file = tmp_path / "vault-pass"
    password_file.write_text("s3cret pass\n")
    shown = subprocess.run([str(VENV_BIN / "ansible-vault"), "view", "--vault-password-file", str(password_file), str(path)],
                           capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == value


def test_a_plain_file_of_an_earlier_deploy_is_read_as_it_is(tmp_path):
    path = tmp_path / "user-admin"
    path.write_text("earlier-password\n")
    assert lookup(path, vault_passwords=["pw"]) == "earlier-password"
    assert path.read_text() == "earlier-password\n"


def test_a_file_of_the_password_lookup_with_a_salt(tmp_path):
    path = tmp_path / "old"
    path.write_text("abcDEF123456 salt=xyz\n")
    assert lookup(path) == "abcDEF123456"


def test_an_encrypted_file_without_the_vault_password_stops_the_run(tmp_path):
    path = tmp_path / "metrics"
    lookup(path, vault_passwords=["pw"])
    with pytest.raises(AnsibleLookupError, match="metrics is vault-encrypted and this run has no vault password"):
        lookup(path)
    with pytest.raises(AnsibleLookupError, match="metrics cannot be opened with this run's vault password"):
        lookup(path, vault_passwords=["wrong"])


def test_encrypt_always_refuses_plain_text_and_never_writes_it(tmp_path):
    path = tmp_path / "token"
    with pytest.raises(AnsibleLookupError, match="token does not exist and encrypt=always"):
        lookup(path, encrypt="always")
    assert not path.exists()
    assert lookup(tmp_path / "plain", vault_passwords=["pw"], encrypt="never") == (tmp_path / "plain").read_text().strip()


@pytest.mark.parametrize("options, message", [
    ({"length": 7}, "length=7 for .*; a secret has 8 characters or more"),
    ({"chars": ["abc"]}, "give 3 distinct characters; use 10 or more"),
    ({"encrypt": "sometimes"}, "encrypt"),
])
def test_bad_options_are_refused(tmp_path, options, message):
    with pytest.raises(Exception, match=message):
        lookup(tmp_path / "x", **options)
    assert not (tmp_path / "x").exists()


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty"
    path.write_text("\n")
    with pytest.raises(AnsibleLookupError, match="empty is empty; remove it"):
        lookup(path)


def test_writers_at_once_agree_on_one_secret(tmp_path):
    path = tmp_path / "shared"
    found = []
    threads = [threading.Thread(target=lambda: found.append(lookup(path, vault_passwords=["pw"]))) for _writer in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and len(set(found)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared"]


def test_write_once_keeps_the_first_file(tmp_path):
    path = tmp_path / "f"
    assert plugin.write_once(str(path), b"first\n") is True
    assert plugin.write_once(str(path), b"second\n") is False
    assert path.read_bytes() == b"first\n"


def test_alphabet_names_and_literals():
    assert plugin.alphabet(["digits"]) == "0123456789"
    assert plugin.alphabet(["digits", "-_", "digits"]) == "-0123456789_"


def test_a_run_twice_with_a_vault_password_file(tmp_path):
    """The lookup as a playbook uses it: ansible with a vault password file, twice; the same value both times."""
    path = tmp_path / "s" / "admin"
    password_file = tmp_path / "vault-pass"
    password_file.write_text("pw\n")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_VAULT_PASSWORD_FILE=str(password_file))

    def run():
        result = subprocess.run(
            [str(VENV_BIN / "ansible"), "localhost", "-m", "ansible.builtin.debug",
             "-a", "msg={{ lookup('lanying.im.secret', '%s') | hash('sha256') }}" % path],
            capture_output=True, text=True, env=env, check=True)
        return [line for line in result.stdout.splitlines() if '"msg"' in line][0]

    assert run() == run()
    assert path.read_text().startswith("$ANSIBLE_VAULT;")

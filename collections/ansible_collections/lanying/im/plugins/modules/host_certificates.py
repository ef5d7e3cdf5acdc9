#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_certificates
short_description: Keep a host's certificates from the internal CA, in one pass
version_added: 0.1.0
author: lanying.im maintainers (@lanying-im)
description:
  - Keeps one or more certificates on a host, each with its own key made on the host (the key never
    leaves it), signed by the CA on the controller (its key never leaves the controller).
  - In one pass over the host it makes the directories and any missing key, reads the installed
    certificates, and decides for each whether it is due. A certificate is issued again when it is
    missing, expires within O(ca.renew_days), was made for another key, other names, another common name
    or another usage, or was signed by another CA. Only the public keys of the due certificates travel to
    the controller, and only the new certificates travel back.
  - Installs C(<name>.crt), C(<name>.key) and the CA's C(ca.crt) in each certificate's directory, and the
    expiry time of each certificate and of the CA as a node exporter textfile metric
    (C(lanying_im_certificate_expiry_timestamp_seconds)) in O(textfile_dir).
  - This is an action plugin with a module of the same name. The action reads the CA and signs on the
    controller, the module does the work on the host. The host needs C(python3-cryptography).
options:
  certificates:
    description: The certificates of this host.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: File name stem of the key and certificate, and the C(certificate) label of its metric.
        type: str
        required: true
      dir:
        description: Directory on the host for the key and the certificates (created, C(root:<group>) 0750).
        type: path
        required: true
      group:
        description: Group that may read the key (the service's group).
        type: str
        default: root
      dns:
        description: DNS names the certificate is valid for; the first is its common name (else the first of O(certificates[].ips)).
        type: list
        elements: str
        default: []
      ips:
        description: IP addresses the certificate is valid for.
        type: list
        elements: str
        default: []
      common_name:
        description:
          - The certificate's common name; empty gives the first of O(certificates[].dns) (else of
            O(certificates[].ips)).
          - A service that knows its peers by common name only (pgBackRest's C(tls-server-auth)) is given a
            certificate whose name no other certificate of the host has.
        type: str
      usage:
        description:
          - What the certificate may be used for (its extended key usage) - V(server) to answer TLS
            connections, V(client) to connect with it to a service that checks client certificates.
          - A certificate of a server is not accepted as a client's by the platform's services, and the
            reverse.
        type: list
        elements: str
        choices: [server, client]
        default: [server]
  ca:
    description:
      - The CA that signs, and how long its certificates live. The site playbook's roles pass the shared
        variable C(lanying_im_certificate_authority).
    type: dict
    required: true
    suboptions:
      certificate:
        description: The CA certificate (PEM), a path on the controller.
        type: path
        required: true
      key:
        description: The CA's private key (PEM, unencrypted), a path on the controller. Read only when a certificate is due.
        type: path
        required: true
      valid_days:
        description: Lifetime of a new certificate.
        type: int
        default: 397
      renew_days:
        description: A certificate is issued again this many days before it expires.
        type: int
        default: 30
  textfile_dir:
    description: Directory of the node exporter's textfile collector on the host; empty publishes no metrics.
    type: path
    default: /var/lib/prometheus/node-exporter
  ca_content:
    description: Set by the action plugin (the CA certificate's content); do not set it.
    type: str
  issued:
    description: Set by the action plugin (the new certificates by name); do not set it.
    type: dict
attributes:
  action:
    description: Runs on the controller as an action plugin and calls the module on the host.
    support: full
  check_mode:
    description: Can run in check mode and return the changed status it predicts without changing anything.
    support: full
    details: A certificate whose key does not exist yet is reported as due without a new certificate to show.
  diff_mode:
    description: Returns what changed in diff mode.
    support: full
    details: Certificates and metrics are shown; a new key is shown as created, never its content.
notes:
  - The reasons a certificate was issued are returned in RV(certificates[].reasons).
seealso:
  - name: The lanying.im.pki role
    description: Creates the internal CA these certificates are signed by.
    link: https://github.com/lanying-im/lanying-im/blob/main/docs/
"""

EXAMPLES = r"""
- name: Keep the database server's certificate
  lanying.im.host_certificates:
    ca: "{{ lanying_im_certificate_authority }}"
    certificates:
      - name: postgres
        dir: /etc/lanying-im/postgres/tls
        group: postgres
        dns: [db1.example.com]
        ips: [10.0.0.5]
  register: postgres_tls

- name: Reload PostgreSQL for a new certificate
  ansible.builtin.service:
    name: postgresql
    state: reloaded
  when: postgres_tls.certificates | selectattr('issued') | list | length > 0
"""

RETURN = r"""
certificates:
  description: One entry per certificate, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The certificate's name.
      type: str
      sample: postgres
    path:
      description: The certificate's path on the host.
      type: str
      sample: /etc/lanying-im/postgres/tls/postgres.crt
    issued:
      description: Whether a new certificate was issued (or would be, in check mode).
      type: bool
      sample: false
    changed:
      description: Whether anything of this certificate changed on the host (key, certificate, CA, metric, directory).
      type: bool
      sample: false
    reasons:
      description: Why it was issued; empty when the installed certificate stayed.
      type: list
      elements: str
      sample: ["expires within 30 days"]
    not_after:
      description: When the installed certificate expires, in seconds since the epoch (absent in check mode before the first one).
      type: int
      sample: 1798761600
"""

import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.lanying.im.plugins.module_utils import _certificates as certs

CERTIFICATE_SPEC = dict(
    name=dict(type="str", required=True),
    dir=dict(type="path", required=True),
    group=dict(type="str", default="root"),
    dns=dict(type="list", elements="str", default=[]),
    ips=dict(type="list", elements="str", default=[]),
    common_name=dict(type="str"),
    usage=dict(type="list", elements="str", choices=list(certs.USAGES), default=["server"]),
)

ARGUMENT_SPEC = dict(
    certificates=dict(type="list", elements="dict", required=True, options=CERTIFICATE_SPEC),
    ca=dict(type="dict", required=True, options=dict(
        certificate=dict(type="path", required=True),
        key=dict(type="path", required=True, no_log=False),
        valid_days=dict(type="int", default=397),
        renew_days=dict(type="int", default=30),
    )),
    textfile_dir=dict(type="path", default="/var/lib/prometheus/node-exporter"),
    ca_content=dict(type="str"),
    issued=dict(type="dict"),
)


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode()
    except FileNotFoundError:
        return None


class Host:
    """The files of one run on the host, each written atomically and only when different."""

    def __init__(self, module):
        self.module = module
        self.diff = []

    def directory(self, path, group, mode):
        changed = False
        if not os.path.isdir(path):
            changed = True
            if not self.module.check_mode:
                os.makedirs(path, 0o755)
        if not self.module.check_mode:
            changed = self._attributes(path, group, mode, changed)
        return changed

    def file(self, path, content, group, mode, secret=False):
        before = _read(path)
        changed = before != content
        if changed:
            if secret:
                self.diff.append({"before_header": path, "after_header": path,
                                  "before": "" if before is None else "(a private key)\n",
                                  "after": "(a new private key)\n"})
            else:
                self.diff.append({"before_header": path, "after_header": path,
                                  "before": before or "", "after": content})
            if not self.module.check_mode:
                handle, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".lanying-")
                with os.fdopen(handle, "wb") as out:
                    out.write(to_bytes(content))
                # The temporary file (beside the target) gets its owner, group and mode first, and then
                # takes the target's place: a key is never readable by others, not even for a moment.
                self._attributes(temp, group, mode, True)
                os.replace(temp, path)
        elif os.path.exists(path) and not self.module.check_mode:
            changed = self._attributes(path, group, mode, changed)
        return changed

    def _attributes(self, path, group, mode, changed):
        args = {"path": path, "owner": "root", "group": group, "mode": mode,
                "secontext": [None, None, None, None], "attributes": None}
        return self.module.set_fs_attributes_if_different(args, changed)


def keep(module, host, wanted, ca, ca_content, issued, now):
    """One certificate: directory, key, decision; installs what is current or newly issued."""
    base = os.path.join(wanted["dir"], wanted["name"])
    result = {"name": wanted["name"], "path": base + ".crt", "issued": False, "reasons": []}
    changed = host.directory(wanted["dir"], wanted["group"], "0750")

    key_pem = _read(base + ".key")
    public = None
    if key_pem is not None:
        try:
            public = certs.public_key(key_pem)
        except (ValueError, TypeError):
            key_pem = None
    new_key = key_pem is None
    if new_key:
        key_pem = certs.make_key()
        public = certs.public_key(key_pem)
    changed = host.file(base + ".key", key_pem, wanted["group"], "0640", secret=True) or changed

    names = certs.wanted_names(wanted["dns"], wanted["ips"])
    if not names:
        module.fail_json(msg="certificate %s: give at least one DNS name or IP address" % wanted["name"])
    current_pem = _read(base + ".crt")
    new_pem = (issued or {}).get(wanted["name"])
    if new_pem is None:
        current = None
        if current_pem:
            try:
                current = certs.describe(current_pem)
            except ValueError:
                current = None
        wanted_name = certs.common_name(wanted["dns"], wanted["ips"], wanted.get("common_name"))
        try:
            usage = certs.wanted_usage(wanted["usage"])
        except ValueError as exc:
            module.fail_json(msg="certificate %s: %s" % (wanted["name"], exc))
        reasons = certs.due(current, {"public_key": certs.spki_of(public), "new": new_key}, ca, names, now,
                            module.params["ca"]["renew_days"], wanted_name, usage)
        if reasons:
            # Signed on the controller, for the names and usages the task gives (never what the host reports);
            # the action calls again with the new certificate.
            result.update(reasons=reasons, issued=True, public_key=public, changed=True, new_key=new_key)
            return result
        new_pem = current_pem
    else:
        result["issued"] = True

    changed = host.file(base + ".crt", new_pem, wanted["group"], "0644") or changed
    ca_path = os.path.join(wanted["dir"], "ca.crt")
    changed = host.file(ca_path, ca_content, wanted["group"], "0644") or changed
    not_after = certs.describe(new_pem)["not_after"]
    result["not_after"] = not_after
    textfile_dir = module.params["textfile_dir"]
    if textfile_dir:
        changed = host.directory(textfile_dir, "root", "0755") or changed
        text = certs.metrics(wanted["name"], base + ".crt", not_after, ca_path, ca["not_after"])
        changed = host.file(os.path.join(textfile_dir, "lanying_im_certificate_%s.prom" % wanted["name"]),
                            text, "root", "0644") or changed
    result["changed"] = changed
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not certs.HAS_CRYPTOGRAPHY:
        module.fail_json(msg="python3-cryptography is missing on the host: %s" % certs.CRYPTOGRAPHY_ERROR)
    ca_content = module.params["ca_content"]
    if not ca_content:
        module.fail_json(msg="ca_content is set by the action plugin: call lanying.im.host_certificates as a task")
    ca_content = ca_content.rstrip() + "\n"
    ca = certs.describe(ca_content)
    host = Host(module)
    now = int(time.time())
    results = [keep(module, host, wanted, ca, ca_content, module.params["issued"], now)
               for wanted in module.params["certificates"]]
    module.exit_json(changed=any(result["changed"] for result in results), certificates=results,
                     diff=host.diff)


if __name__ == "__main__":
    main()

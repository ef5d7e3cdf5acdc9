# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of lanying.im.host_certificates: the host's pass, the signatures on the controller, the installs.

The module runs once on the host: it keeps every certificate that is current and returns the public keys
of those that are due. Those are signed here, with the CA's key read on the controller only then, and the
module runs a second time with the new certificates only when there are any.
"""

from __future__ import annotations

import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.lanying.im.plugins.module_utils import _certificates as certs
from ansible_collections.lanying.im.plugins.modules.host_certificates import ARGUMENT_SPEC

MODULE = "lanying.im.host_certificates"


def _read(path, what):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise AnsibleActionFail("cannot read the %s %s on the controller: %s" % (what, path, exc.strerror)) from exc


class ActionModule(ActionBase):
    """Plan and keep on the host, sign on the controller."""

    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        spec = {name: value for name, value in ARGUMENT_SPEC.items() if name not in ("ca_content", "issued")}
        validation, args = self.validate_argument_spec(argument_spec=spec)
        del validation
        if not certs.HAS_CRYPTOGRAPHY:
            raise AnsibleActionFail("the controller's Python has no cryptography: %s" % certs.CRYPTOGRAPHY_ERROR)

        ca_content = _read(args["ca"]["certificate"], "CA certificate").rstrip() + "\n"
        module_args = dict(args, ca_content=ca_content, issued={})
        first = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        if first.get("failed"):
            result.update(first)
            return result
        entries = first["certificates"]
        due = [entry for entry in entries if entry.get("public_key")]
        diff = list(first.get("diff") or [])
        changed = bool(first.get("changed"))
        if due:
            ca_key = _read(args["ca"]["key"], "CA key")
            now = int(time.time())
            # The host gives only its public key: the names, the common name and the usages come from the task.
            given = {item["name"]: item for item in args["certificates"]}
            try:
                issued = {}
                for entry in due:
                    item = given.get(entry["name"])
                    if item is None:
                        raise AnsibleActionFail("the host asked for a certificate this task does not keep: %s" % entry["name"])
                    issued[entry["name"]] = certs.issue(
                        entry["public_key"], certs.wanted_names(item["dns"], item["ips"]), ca_content, ca_key,
                        args["ca"]["valid_days"], now, certs.common_name(item["dns"], item["ips"], item.get("common_name")),
                        item["usage"])
            except ValueError as exc:
                raise AnsibleActionFail("cannot sign with the CA key %s: %s" % (args["ca"]["key"], exc)) from exc
            wanted = [item for item in args["certificates"] if item["name"] in issued]
            second = self._execute_module(module_name=MODULE,
                                          module_args=dict(module_args, certificates=wanted, issued=issued),
                                          task_vars=task_vars)
            if second.get("failed"):
                result.update(second)
                return result
            done = {entry["name"]: entry for entry in second["certificates"]}
            for entry in entries:
                if entry["name"] in done:
                    reasons = entry["reasons"]
                    new = done[entry["name"]]
                    entry.clear()
                    entry.update(new, reasons=reasons, changed=True)
            diff += list(second.get("diff") or [])
            changed = True
        for entry in entries:
            for private in ("public_key", "names", "common_name", "new_key"):
                entry.pop(private, None)
        result.update(changed=changed, certificates=entries)
        if self._task.diff and diff:
            result["diff"] = diff
        return result

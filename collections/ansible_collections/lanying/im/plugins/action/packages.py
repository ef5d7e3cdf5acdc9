# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of lanying.im.packages: a look at the package database, then apt for what is missing only."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.lanying.im.plugins.modules.packages import ARGUMENT_SPEC

MODULE = "lanying.im.packages"
APT = "ansible.legacy.apt"


def apt_args(args, names):
    """The arguments of ansible.builtin.apt for ``names``, with the options that were set."""
    result = dict(name=list(names), state="present",
                  allow_downgrade=args["allow_downgrade"], allow_change_held_packages=args["allow_change_held_packages"])
    if args.get("install_recommends") is not None:
        result["install_recommends"] = args["install_recommends"]
    return result


class ActionModule(ActionBase):
    """Read dpkg's database on the host; run apt only with the packages it lacks."""

    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        del validation
        found = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        if found.get("failed"):
            result.update(found)
            return result
        result.update(changed=False, missing=found["missing"], installed=found["installed"])
        if found["missing"]:
            applied = self._execute_module(module_name=APT, module_args=apt_args(args, found["missing"]),
                                           task_vars=task_vars)
            applied.pop("invocation", None)
            result.update(applied, missing=found["missing"], installed=found["installed"])
        return result

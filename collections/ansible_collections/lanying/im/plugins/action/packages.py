# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of lanying.im.packages: a look at the package database, then apt for what is missing only."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.lanying.im.plugins.modules.packages import ARGUMENT_SPEC

MODULE = "lanying.im.packages"
APT = "ansible.legacy.apt"


def refresh_args(args, index):
    """The arguments of ansible.builtin.apt that refresh a stale or empty index, or None for no refresh."""
    if args["cache_valid_time"] <= 0:
        return None
    # apt judges an index by its directory's date: an empty one in a fresh directory would count as fresh.
    return dict(update_cache=True, cache_valid_time=args["cache_valid_time"]) if index else dict(update_cache=True)


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
            install = apt_args(args, found["missing"])
            refresh = refresh_args(args, found.get("index", True))
            if refresh and self._task.check_mode:
                # Like a task with check_mode false: a fresh index changes no configuration, and lets check
                # mode tell what would be installed.
                self._task.check_mode = False
                try:
                    refreshed = self._execute_module(module_name=APT, module_args=refresh, task_vars=task_vars)
                finally:
                    self._task.check_mode = True
                if refreshed.get("failed"):
                    refreshed.pop("invocation", None)
                    result.update(refreshed)
                    return result
            elif refresh:
                # One apt run refreshes the index and installs.
                install.update(refresh)
            applied = self._execute_module(module_name=APT, module_args=install, task_vars=task_vars)
            applied.pop("invocation", None)
            result.update(applied, missing=found["missing"], installed=found["installed"])
        return result

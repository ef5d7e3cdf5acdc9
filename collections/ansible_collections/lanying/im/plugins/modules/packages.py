#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: packages
short_description: Install Debian packages, asking apt only when one is missing
version_added: 0.1.0
author: lanying.im maintainers (@lanying-im)
description:
  - Makes sure Debian packages are installed, like M(ansible.builtin.apt) with C(state=present), but
    first reads the package database (C(dpkg-query)) and runs apt only for the packages that are not
    installed, or not at the version asked for. apt takes about a second per task even when there is
    nothing to do (it loads its whole cache); the look at the database takes a few milliseconds, so a run
    where every package is in place spends almost nothing here.
  - This is an action plugin with a module of the same name. The module reads the database on the host;
    the action then runs M(ansible.builtin.apt) with the missing packages only, and returns its result.
  - When a package is missing, the package index is refreshed first if it is older than
    O(cache_valid_time) or empty. The refresh also runs in check mode (it changes no configuration), so
    that check mode can tell what a fresh host would install.
  - Check mode and diff are otherwise those of M(ansible.builtin.apt). Nothing is ever removed or upgraded.
options:
  name:
    description:
      - The packages. V(name=version) asks for that version exactly (V(name=version*) for any version that
        starts so), as apt reads it; a package installed at another version is given to apt again.
    type: list
    elements: str
    required: true
  install_recommends:
    description: Passed to M(ansible.builtin.apt) (unset leaves apt's own setting).
    type: bool
  allow_downgrade:
    description: Passed to M(ansible.builtin.apt), for a version asked for that is older than the installed one.
    type: bool
    default: false
  allow_change_held_packages:
    description: Passed to M(ansible.builtin.apt), for a held package asked for at another version.
    type: bool
    default: false
  cache_valid_time:
    description:
      - Seconds a package index stays fresh. When something is to be installed, an older (or an empty)
        index is refreshed first; V(0) never refreshes it here.
    type: int
    default: 3600
notes:
  - Only for hosts with dpkg and apt (Debian and its derivatives).
seealso:
  - module: ansible.builtin.apt
"""

EXAMPLES = r"""
- name: Install Redis
  lanying.im.packages:
    name: [redis-server]

- name: Install the engine at a pinned version
  lanying.im.packages:
    name: [docker.io=20.10.24+dfsg1-1+deb12u1]
    allow_downgrade: true
    allow_change_held_packages: true
"""

RETURN = r"""
missing:
  description: The packages (as asked for) that were not installed, or not at the version asked for; apt ran with these.
  returned: always
  type: list
  elements: str
  sample: [redis-server]
installed:
  description: Each package asked for that is installed, with its version (before apt ran).
  returned: always
  type: dict
  sample: {redis-server: 5:7.0.15-1~deb12u1}
index:
  description: Whether the host has a package index at all (an empty one is always refreshed before an install).
  returned: always
  type: bool
  sample: true
"""

import fnmatch
import glob

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = dict(
    name=dict(type="list", elements="str", required=True),
    install_recommends=dict(type="bool"),
    allow_downgrade=dict(type="bool", default=False),
    allow_change_held_packages=dict(type="bool", default=False),
    cache_valid_time=dict(type="int", default=3600),
)

# An index of a package source, as apt keeps it.
INDEX_FILES = "/var/lib/apt/lists/*_Packages*"

# One line per package dpkg knows: its name, whether it is installed, its version.
QUERY_FORMAT = "${Package}\t${db:Status-Status}\t${Version}\n"


def split_spec(spec):
    """'name=version' -> ('name', 'version'); 'name' -> ('name', None)."""
    name, sep, version = spec.partition("=")
    return name.strip(), (version.strip() if sep else None)


def installed_versions(query_output):
    """{name: version} of the installed packages in dpkg-query's output (QUERY_FORMAT)."""
    found = {}
    for line in query_output.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[1] == "installed":
            found[fields[0]] = fields[2]
    return found


def missing(specs, installed):
    """The specs that ``installed`` ({name: version}) does not satisfy, in their order."""
    result = []
    for spec in specs:
        name, version = split_spec(spec)
        have = installed.get(name)
        if have is None or (version is not None and not fnmatch.fnmatchcase(have, version)):
            result.append(spec)
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    names = sorted(set(split_spec(spec)[0] for spec in module.params["name"]))
    # dpkg-query exits 1 when it knows none of some name (never installed): the others are still listed.
    rc, out, err = module.run_command(["dpkg-query", "--show", "--showformat=" + QUERY_FORMAT, "--"] + names)
    if rc not in (0, 1):
        module.fail_json(msg="dpkg-query could not read the package database: %s" % err.strip(), rc=rc)
    installed = installed_versions(out)
    module.exit_json(changed=False, missing=missing(module.params["name"], installed),
                     installed=dict((name, installed[name]) for name in names if name in installed),
                     index=bool(glob.glob(INDEX_FILES)))


if __name__ == "__main__":
    main()

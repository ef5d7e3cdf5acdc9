#!/usr/bin/env python3
"""Check that every role's meta/argument_specs.yml describes exactly its defaults/main.yml.

For each role: the variables of defaults/main.yml and the options of the `main` entry point must be
the same set, each option must have a type and a description, and an option's documented default
must equal the value in defaults/main.yml. No option of any entry point may document a generated
secret as its default: a failed argument check prints every option's default, rendered. Exit status 1
lists every disagreement.
"""

import pathlib
import sys

import yaml

ROLES = pathlib.Path(__file__).resolve().parent.parent / "collections/ansible_collections/lanying/im/roles"


def problems_of(role):
    defaults_file = role / "defaults" / "main.yml"
    spec_file = role / "meta" / "argument_specs.yml"
    if not spec_file.exists():
        return ["no meta/argument_specs.yml"]
    defaults = yaml.safe_load(defaults_file.read_text()) if defaults_file.exists() else {}
    defaults = defaults or {}
    spec = yaml.safe_load(spec_file.read_text()) or {}
    options = ((spec.get("argument_specs") or {}).get("main") or {}).get("options") or {}
    found = []
    for name in sorted(set(defaults) - set(options)):
        found.append("%s is in defaults/main.yml but not in argument_specs" % name)
    for name in sorted(set(options) - set(defaults)):
        found.append("%s is in argument_specs but not in defaults/main.yml" % name)
    for name, option in sorted(options.items()):
        if not name.startswith(role.name + "_") and not name.startswith("lanying_im_"):
            found.append("%s: public variables start with %s_ (or lanying_im_ when shared)" % (name, role.name))
        for key in ("type", "description"):
            if key not in option:
                found.append("%s: the option has no %s" % (name, key))
        if "password" in str(option.get("default", "")) and "lookup(" in str(option.get("default", "")):
            found.append("%s: a generated secret as the documented default is printed, rendered, when an argument "
                         "check fails; describe it instead" % name)
        if name in defaults and "default" in option and option["default"] != defaults[name]:
            found.append("%s: argument_specs default %r differs from defaults/main.yml %r"
                         % (name, option["default"], defaults[name]))
    return found


def main():
    failed = False
    roles = sorted(p for p in ROLES.iterdir() if p.is_dir() and not p.name.startswith("_"))
    for role in roles:
        for problem in problems_of(role):
            failed = True
            print("%s: %s" % (role.name, problem))
    print("argument specs: %d role(s) checked, %s" % (len(roles), "problems found" if failed else "all agree"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Bootstrap pip into an empty virtual environment without downloading get-pip.py.

ansible-test creates one virtual environment per sanity test and seeds it with pip by running a
get-pip.py script that it downloads from ci-files.testing.ansible.com. Where that host is not
reachable (closed networks, package mirrors only) this script takes its place: it installs the
pip wheel bundled with Python (ensurepip), then installs the packages ansible-test asked for
(pip itself at the pinned version) from whatever index pip is configured to use.
"""

import subprocess
import sys

# Options understood by get-pip.py but not by pip itself.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main():
    # In a child process: ensurepip points PIP_CONFIG_FILE at /dev/null for its own run, which would
    # hide the site's pip configuration (index, certificates) from the install below.
    status = subprocess.call([sys.executable, "-m", "ensurepip", "--default-pip"])
    if status:
        return status
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    if args and args[0] != "install":
        args.insert(0, "install")
    return subprocess.call([sys.executable, "-m", "pip"] + args)


if __name__ == "__main__":
    sys.exit(main())

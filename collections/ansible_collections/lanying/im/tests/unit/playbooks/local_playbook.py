"""Runs a playbook of the collection with ansible-playbook on this machine, for the playbook tests."""

import os
import pathlib
import subprocess
import sys

COLLECTIONS = pathlib.Path(__file__).resolve().parents[6]


def local_host(number, **extra):
    """Host variables of an inventory host that is this machine (a local connection), at 10.0.0.<number>."""
    return dict({"ansible_connection": "local", "ansible_become": False,
                 "ansible_python_interpreter": sys.executable, "lanying_im_address": "10.0.0.%d" % number}, **extra)


def run_playbook(workdir, playbook, *options):
    """Run lanying.im.<playbook> (or a playbook file, *.yml) against workdir/hosts.yml; returns (exit status,
    combined output).

    Ansible's own settings only (no project ansible.cfg): an empty configuration file in workdir.
    """
    config = workdir / "ansible.cfg"
    config.touch()
    env = dict(os.environ, ANSIBLE_CONFIG=str(config), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), NO_COLOR="1",
               ANSIBLE_FORCE_COLOR="0")
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(workdir / "hosts.yml"),
            playbook if playbook.endswith(".yml") else "lanying.im." + playbook] + list(options)
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, cwd=workdir)
    return result.returncode, result.stdout + result.stderr


ROLES = pathlib.Path(__file__).resolve().parents[3] / "roles"

ROLE_VARS_PLAY = """
- name: %(name)s
  hosts: %(host)s
  gather_facts: false
  tasks:
    - name: Load the shared settings and the model
      ansible.builtin.include_role:
        name: lanying.im.platform
        tasks_from: model
        public: true
    - name: Load the role's defaults and variables
      ansible.builtin.include_vars:
        file: "%(role)s/{{ item }}/main.yml"
      loop: [defaults, vars]
"""


def role_vars_play(name, host, role, tasks):
    """A playbook for one host that loads the model and a role's defaults and variables (as the role sees
    them), then runs ``tasks`` (YAML text, indented as a play's task list)."""
    return ROLE_VARS_PLAY % {"name": name, "host": host, "role": ROLES / role} + tasks

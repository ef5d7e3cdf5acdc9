"""scripts/ansible-target.sh, the CI jobs' way to the hosts: what it refuses before it runs anything."""

import os
import subprocess

import pytest

from ansible_collections.lanying.im.tests.unit.playbooks.local_playbook import COLLECTIONS

SCRIPT = COLLECTIONS.parent / "scripts" / "ansible-target.sh"


def target(tmp_path, **variables):
    """Run the script with only the given LANYING_* and CI_* variables; returns (exit status, stderr)."""
    key = tmp_path / "id"
    key.write_text("not a key\n")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("LANYING_", "CI_"))}
    env.update({"LANYING_INVENTORY": str(COLLECTIONS.parent / "inventories" / "example"), "LANYING_SSH_PRIVATE_KEY": str(key)},
               **variables)
    result = subprocess.run(["bash", str(SCRIPT), "--list-hosts"], capture_output=True, text=True, env=env, check=False,
                            timeout=60)
    return result.returncode, result.stderr


@pytest.mark.parametrize("variables", [{"LANYING_ENVIRONMENT": "production"}, {"CI_ENVIRONMENT_NAME": "production"}])
def test_production_without_known_hosts_is_refused(tmp_path, variables):
    status, stderr = target(tmp_path, **variables)
    assert status == 2
    assert "production and no LANYING_SSH_KNOWN_HOSTS" in stderr
    # Refused before anything ran: not even the virtual environment was looked at.
    assert "venv" not in stderr and "PLAY" not in stderr


def test_an_empty_known_hosts_file_is_refused(tmp_path):
    (tmp_path / "known_hosts").write_text("")
    status, stderr = target(tmp_path, LANYING_SSH_KNOWN_HOSTS=str(tmp_path / "known_hosts"))
    assert status == 2 and "is missing or empty" in stderr


def test_a_missing_inventory_is_refused(tmp_path):
    status, stderr = target(tmp_path, LANYING_INVENTORY=str(tmp_path / "nowhere"))
    assert status == 2 and "does not exist" in stderr

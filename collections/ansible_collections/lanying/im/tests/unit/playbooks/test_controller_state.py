"""lanying.im.controller_backup and controller_restore: the controller's CA and secrets, through ansible-playbook.

Each test backs up a small inventory's .pki and .secrets with a vault password file and restores the
archive somewhere: into a new inventory, over changed files (refused, then forced), with a wrong password.
"""


import pytest
from ansible_collections.lanying.im.tests.unit.playbooks.local_playbook import run_playbook

STATE = {".pki/ca.crt": ("-----BEGIN CERTIFICATE-----\nnot a real one\n", 0o644),
         ".pki/ca.key": ("a key\n", 0o600),
         ".secrets/synapse-signing.key": ("ed25519 a_abcd seed\n", 0o600),
         ".secrets/user-admin": ("s3cret-admin-password\n", 0o600)}


def playbook(name, inventory, **extra):
    """Run a playbook of the collection on the controller; returns (exit status, combined output)."""
    options = []
    for key, value in extra.items():
        options += ["-e", "%s=%s" % (key, value)]
    return run_playbook(inventory, name, *options)


def make_inventory(path, with_state=True):
    path.mkdir()
    (path / "hosts.yml").write_text("all:\n  hosts:\n    chat1:\n  vars:\n    lanying_im_server_name: chat.example.test\n")
    if with_state:
        for name, (content, mode) in STATE.items():
            (path / name).parent.mkdir(mode=0o700, exist_ok=True)
            (path / name).write_text(content)
            (path / name).chmod(mode)
    return path


def changed(output):
    return sum(int(part.split("=")[1]) for part in output.split() if part.startswith("changed="))


# One backup for the module: each playbook run takes seconds.
@pytest.fixture(name="backup", scope="module")
def backup_fixture(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("backup")
    source = make_inventory(tmp_path / "source")
    (tmp_path / "backups").mkdir()
    key = tmp_path / "key"
    key.write_text("correct horse battery staple\n")
    status, output = playbook("controller_backup", source, controller_backup_dir=tmp_path / "backups",
                              controller_backup_vault_password_file=key)
    assert status == 0, output
    files = list((tmp_path / "backups").iterdir())
    assert len(files) == 1 and files[0].name.startswith("lanying-im-controller-chat.example.test-")
    return source, files[0], key


def test_backup_is_encrypted_private_and_leaves_nothing_readable(backup):
    archive = backup[1]
    assert archive.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256\n")
    assert archive.stat().st_mode & 0o777 == 0o600
    for content, mode in STATE.values():
        assert content.strip() not in archive.read_text(), mode


def test_restore_into_a_new_inventory_gives_the_same_files_and_modes(backup, tmp_path):
    archive, key = backup[1:]
    target = make_inventory(tmp_path / "new", with_state=False)
    status, output = playbook("controller_restore", target, controller_backup_file=archive,
                              controller_backup_vault_password_file=key)
    assert status == 0, output
    for name, (content, mode) in STATE.items():
        assert (target / name).read_text() == content
        assert (target / name).stat().st_mode & 0o777 == mode
    # Again: the same files are there, nothing to change.
    status, output = playbook("controller_restore", target, controller_backup_file=archive,
                              controller_backup_vault_password_file=key)
    assert status == 0 and changed(output) == 0, output


def test_restore_over_other_content_is_refused_unless_forced(backup, tmp_path):
    archive, key = backup[1:]
    source = make_inventory(tmp_path / "changed")
    (source / ".secrets/user-admin").write_text("a newer password\n")
    status, output = playbook("controller_restore", source, controller_backup_file=archive,
                              controller_backup_vault_password_file=key)
    assert status != 0
    assert "would replace 1 file(s) that hold other content: %s" % (source / ".secrets/user-admin") in output
    assert "Nothing was changed" in output
    assert (source / ".secrets/user-admin").read_text() == "a newer password\n"
    status, output = playbook("controller_restore", source, controller_backup_file=archive,
                              controller_backup_vault_password_file=key, controller_restore_force="true")
    assert status == 0, output
    assert (source / ".secrets/user-admin").read_text() == STATE[".secrets/user-admin"][0]


def test_a_wrong_password_is_refused_and_changes_nothing(backup, tmp_path):
    archive = backup[1]
    wrong = tmp_path / "wrong"
    wrong.write_text("not the password\n")
    target = make_inventory(tmp_path / "new", with_state=False)
    status, output = playbook("controller_restore", target, controller_backup_file=archive,
                              controller_backup_vault_password_file=wrong)
    assert status != 0
    assert "could not be decrypted with controller_backup_vault_password_file" in output
    assert "Nothing was changed" in output
    assert not (target / ".secrets").exists() and not (target / ".pki").exists()


def test_backup_without_a_password_file_names_the_variable(tmp_path):
    source = make_inventory(tmp_path / "source")
    status, output = playbook("controller_backup", source, controller_backup_dir=tmp_path,
                              controller_backup_vault_password_file=tmp_path / "missing")
    assert status != 0
    assert "controller_backup_vault_password_file=%s is not a non-empty file" % (tmp_path / "missing") in output

"""The backup role's metrics: pgBackRest's info (as pgBackRest 2.45 wrote it) and each run's result."""

from __future__ import annotations

import json
import pathlib
import subprocess

INFO = pathlib.Path(__file__).resolve().parent / "fixtures" / "pgbackrest-info.json"


def run(module, tmp_path, monkeypatch, info, *extra):
    def fake_run(command, **kwargs):
        assert ("--output=json" in command and "info" in command) or command[:3] == ["restic", "snapshots", "--json"]
        if info is None:
            raise subprocess.CalledProcessError(1, command)
        return subprocess.CompletedProcess(command, 0, stdout=info, stderr="")

    monkeypatch.setattr(module.subprocess, "run", fake_run)
    state, output = tmp_path / "state.json", tmp_path / "backup.prom"
    module.main(["--state=%s" % state, "--output=%s" % output, "--config=/etc/pgbackrest/pgbackrest.conf",
                 "--stanza=lanying", *extra])
    return output.read_text(), state


def test_a_successful_run_and_the_repository(tmp_path, monkeypatch, role_script):
    module = role_script("backup", "backup_metrics.py")
    text, state = run(module, tmp_path, monkeypatch, INFO.read_text(), "--type=incr", "--result=success")
    assert 'lanying_im_backup_run_success{data="database",type="incr"} 1' in text
    assert 'lanying_im_backup_repository_ok{data="database"} 1' in text
    # The newest of one full and three incremental backups.
    assert 'lanying_im_backup_last_success_timestamp_seconds{data="database"} 1796077656' in text
    assert 'lanying_im_backup_last_full_timestamp_seconds{data="database"} 1796077284' in text
    assert 'lanying_im_backup_size_bytes{data="database"} 40283178' in text
    assert 'lanying_im_backup_count{data="database",type="full"} 1' in text and 'lanying_im_backup_count{data="database",type="incr"} 3' in text
    assert json.loads(state.read_text())["runs"]["incr"]["success"] is True


def test_a_failed_run_is_kept_beside_the_other_types(tmp_path, monkeypatch, role_script):
    module = role_script("backup", "backup_metrics.py")
    run(module, tmp_path, monkeypatch, INFO.read_text(), "--type=full", "--result=success")
    text = run(module, tmp_path, monkeypatch, INFO.read_text(), "--type=incr", "--result=exit-code")[0]
    assert 'lanying_im_backup_run_success{data="database",type="full"} 1' in text
    assert 'lanying_im_backup_run_success{data="database",type="incr"} 0' in text


def test_an_unreadable_repository(tmp_path, monkeypatch, role_script):
    module = role_script("backup", "backup_metrics.py")
    text, state = run(module, tmp_path, monkeypatch, None)
    assert 'lanying_im_backup_repository_ok{data="database"} 0' in text
    assert "lanying_im_backup_last_success_timestamp_seconds" not in text
    assert not state.exists()


def test_a_new_stanza_without_backups(tmp_path, monkeypatch, role_script):
    module = role_script("backup", "backup_metrics.py")
    info = json.dumps([{"name": "lanying", "backup": [], "status": {"code": 2, "message": "no valid backups"}}])
    text = run(module, tmp_path, monkeypatch, info)[0]
    assert 'lanying_im_backup_repository_ok{data="database"} 1' in text
    assert 'lanying_im_backup_count{data="database",type="full"} 0' in text


# restic 0.14's snapshots --json, as it writes the times (nanoseconds, the host's offset).
SNAPSHOTS = json.dumps([
    {"time": "2026-11-30T22:40:01.123456789+00:00", "paths": ["/var/lib/lanying-im/synapse/media_store"],
     "hostname": "platform-build", "tags": ["lanying-media"], "id": "a" * 64, "short_id": "aaaaaaaa"},
    {"time": "2026-11-30T23:40:02.5Z", "paths": ["/var/lib/lanying-im/synapse/media_store"],
     "hostname": "platform-build", "tags": ["lanying-media"], "id": "b" * 64, "short_id": "bbbbbbbb"},
])


def test_media_snapshots_from_restic(tmp_path, monkeypatch, role_script):
    module = role_script("backup", "backup_metrics.py")
    text = run(module, tmp_path, monkeypatch, SNAPSHOTS, "--tool=restic", "--type=media", "--result=success")[0]
    assert 'lanying_im_backup_run_success{data="media",type="media"} 1' in text
    assert 'lanying_im_backup_repository_ok{data="media"} 1' in text
    assert 'lanying_im_backup_last_success_timestamp_seconds{data="media"} 1796082002' in text
    assert 'lanying_im_backup_count{data="media",type="media"} 2' in text
    assert "lanying_im_backup_size_bytes" not in text

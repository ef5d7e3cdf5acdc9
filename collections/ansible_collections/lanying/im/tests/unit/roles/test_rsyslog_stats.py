"""The log shipper's converter of rsyslog counters into node-exporter textfile metrics."""

from __future__ import annotations

import io


STATS = [
    '2026-11-30T15:25:12+00:00 vm rsyslogd-pstats: { "name": "lanying_receiver", "origin": "core.action", '
    '"processed": 3, "failed": 3, "suspended": 0, "suspended.duration": 0, "resumed": 0 }',
    '2026-11-30T15:25:12+00:00 vm rsyslogd-pstats: { "name": "lanying_receiver queue", "origin": "core.queue", '
    '"size": 12, "enqueued": 40, "full": 0, "discarded.full": 0, "discarded.nf": 0, "maxqsize": 20 }',
    '2026-11-30T15:25:12+00:00 vm rsyslogd-pstats: { "name": "action-3-builtin:omfile", "origin": "core.action", '
    '"processed": 44, "failed": 0 }',
    'not a stats line',
]


def test_counters_become_metrics_of_the_shippers_objects_only(tmp_path, monkeypatch, role_script):
    stats = role_script("log_shipper", "rsyslog_stats.py")
    target = tmp_path / "lanying_log_shipper.prom"
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(STATS) + "\n"))
    stats.main(str(target))
    text = target.read_text()
    assert 'lanying_log_shipper_core_action_failed{name="lanying_receiver"} 3' in text
    assert 'lanying_log_shipper_core_queue_size{name="lanying_receiver queue"} 12' in text
    assert 'lanying_log_shipper_core_queue_discarded_full{name="lanying_receiver queue"} 0' in text
    assert "action-3-builtin" not in text
    assert "lanying_log_shipper_stats_timestamp_seconds " in text
    # One HELP and TYPE per family.
    assert text.count("# TYPE lanying_log_shipper_core_action_failed gauge") == 1
    assert not (tmp_path / "lanying_log_shipper.prom.tmp").exists()


def test_labels_are_escaped(role_script):
    stats = role_script("log_shipper", "rsyslog_stats.py")
    rendered = stats.render({("core.queue", 'odd "name"\\'): {"size": 1}}, 0)
    assert 'name="odd \\"name\\"\\\\"' in rendered

"""The log shipper's reader of syslog-ng's counters into node-exporter textfile metrics."""

from __future__ import annotations

import json

# syslog-ng 3.38's `syslog-ng-ctl stats` on a shipping host (a receiver away, 200 events waiting).
STATS = """SourceName;SourceId;SourceInstance;State;Type;Number
dst.http;d_lanying_receiver#0;http,https://10.0.0.5:9200/_bulk;a;batch_size_max;0
src.file;s_lanying_docker#0;/var/lib/docker/containers/abc/abc-json.log;a;processed;12
dst.http;d_lanying_receiver#0;http,https://10.0.0.5:9200/_bulk;a;dropped;3
dst.http;d_lanying_receiver#0;http,https://10.0.0.5:9200/_bulk;a;processed;0
dst.http;d_lanying_receiver#0;http,https://10.0.0.5:9200/_bulk;a;queued;200
dst.http;d_lanying_receiver#0;http,https://10.0.0.5:9200/_bulk;a;written;40
dst.http;d_lanying_receiver#1;http,https://10.0.0.5:9200/_bulk;a;written;2
dst.file;d_syslog#0;/var/log/syslog;a;written;999
destination;d_lanying_receiver;;a;processed;245
destination;d_syslog;;a;processed;999
"""
DQTOOL = ("Reliable disk-buffer state loaded; filename='/var/lib/syslog-ng/lanying-im/syslog-ng-00000.rqf', "
          "number_of_messages='230'\n")


def test_counters_of_the_destination_only(role_script):
    stats = role_script("log_shipper", "shipper_stats.py")
    assert stats.parse(STATS, "d_lanying_receiver") == {"processed": 245, "written": 42, "dropped": 3, "queued": 200}
    assert stats.parse(STATS, "d_other") is None
    assert stats.parse("", "d_lanying_receiver") is None


def test_disk_buffer_count(role_script):
    stats = role_script("log_shipper", "shipper_stats.py")
    assert stats.buffered(DQTOOL + DQTOOL.replace("00000", "00001").replace("230", "5")) == 235
    assert stats.buffered("") is None


def test_stalled_counts_from_the_last_progress(role_script):
    stats = role_script("log_shipper", "shipper_stats.py")
    waiting = {"processed": 1, "written": 40, "dropped": 0, "queued": 20}
    seconds, state = stats.stalled(waiting, {}, 100.0)
    assert (seconds, state) == (0, {"written": 40, "since": 100.0})
    seconds, state = stats.stalled(waiting, state, 130.0)
    assert seconds == 30 and state["since"] == 100.0
    # Something written: progress, whatever waits.
    seconds, state = stats.stalled(dict(waiting, written=41), state, 140.0)
    assert seconds == 0 and state == {"written": 41, "since": 140.0}
    # Nothing waiting is not stalled.
    seconds, _state = stats.stalled(dict(waiting, written=41, queued=0), state, 500.0)
    assert seconds == 0


def test_main_writes_metrics_and_state(tmp_path, role_script):
    stats = role_script("log_shipper", "shipper_stats.py")
    metrics, state = tmp_path / "lanying_log_shipper.prom", tmp_path / "state.json"
    state.write_text(json.dumps({"written": 42, "since": 1.0}))
    assert stats.main("d_lanying_receiver", str(metrics), str(state), str(tmp_path),
                      stats_text=lambda: STATS, buffer_text=lambda _directory: DQTOOL) == 0
    text = metrics.read_text()
    # The disk buffer's count is larger than syslog-ng's own after a reload: that one is reported.
    assert "\nlanying_log_shipper_queued_events 230\n" in text
    assert "\nlanying_log_shipper_written_events_total 42\n" in text
    assert "\nlanying_log_shipper_dropped_events_total 3\n" in text
    assert "# TYPE lanying_log_shipper_written_events_total counter" in text
    assert "\nlanying_log_shipper_up 1\n" in text
    stalled = int(text.split("\nlanying_log_shipper_stalled_seconds ")[1].split("\n")[0])
    assert stalled > 1000
    assert json.loads(state.read_text())["since"] == 1.0
    assert not (tmp_path / "lanying_log_shipper.prom.tmp").exists()


def test_main_reports_a_silent_syslog_ng(tmp_path, role_script):
    stats = role_script("log_shipper", "shipper_stats.py")
    metrics = tmp_path / "m.prom"
    assert stats.main("d_lanying_receiver", str(metrics), str(tmp_path / "s.json"), str(tmp_path),
                      stats_text=lambda: "", buffer_text=lambda _directory: "") == 1
    text = metrics.read_text()
    assert "\nlanying_log_shipper_up 0\n" in text and "queued_events" not in text
    assert "lanying_log_shipper_stats_timestamp_seconds " in text

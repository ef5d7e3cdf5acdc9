# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# lanying.im: the log shipper's counters (syslog-ng-ctl stats, for the destination named on the command
# line) as Prometheus metrics in a file for the node exporter's textfile collector, rewritten atomically.
# Besides syslog-ng's own counters it reports how long events have been waiting with none written
# (lanying_log_shipper_stalled_seconds): the receiver away, refusing the credentials or the certificate.
# syslog-ng 3.38 reports no waiting events after a reload: the disk buffer's own count (dqtool) is
# read too, and the larger of the two is reported.
# Usage: shipper_stats.py <destination id> <metrics file> <state file> <buffer directory>
#   (run by a systemd timer)
import glob
import json
import os
import re
import subprocess
import sys
import time

COUNTERS = {
    "processed": ("lanying_log_shipper_processed_events_total", "counter",
                  "Events handed to the shipper's output since syslog-ng started."),
    "written": ("lanying_log_shipper_written_events_total", "counter",
                "Events the receiver accepted since syslog-ng started."),
    "dropped": ("lanying_log_shipper_dropped_events_total", "counter",
                "Events given up (buffer full, or refused for good by the receiver) since syslog-ng started."),
    "queued": ("lanying_log_shipper_queued_events", "gauge",
               "Events waiting in the output's disk buffer."),
}


def parse(text, destination):
    """The destination's counters in `syslog-ng-ctl stats` (CSV with ';'), or None when it has none.

    The destination's own line counts what entered it (processed); the lines of its driver
    (dst.<driver>, one per worker) count what waits, was written or was dropped.
    """
    totals = dict.fromkeys(COUNTERS, 0)
    found = False
    for line in text.splitlines():
        fields = line.split(";")
        if len(fields) != 6 or not fields[5].isdigit():
            continue
        kind, number = fields[4], int(fields[5])
        if fields[0] == "destination" and fields[1] == destination and kind == "processed":
            totals[kind] = number
        elif (fields[0].startswith("dst.") and fields[1].startswith(destination + "#")
              and kind in ("written", "dropped", "queued")):
            totals[kind] += number
            found = True
    return totals if found else None


def buffered(text):
    """Events in the disk buffer files, from `dqtool info` (None when it reported none)."""
    numbers = re.findall(r"number_of_messages='([0-9]+)'", text)
    return sum(int(n) for n in numbers) if numbers else None


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)


def read_stats():
    return run(["syslog-ng-ctl", "stats"]).stdout


def read_buffer(directory):
    files = sorted(glob.glob(os.path.join(directory, "*.rqf")))
    if not files:
        return ""
    answer = run(["dqtool", "info"] + files)
    return answer.stdout + answer.stderr


def stalled(totals, state, now):
    """(seconds events have waited with none written, the new state)."""
    progressing = (not state or totals["queued"] == 0
                   or totals["written"] != state.get("written") or state.get("since") is None)
    since = now if progressing else state["since"]
    return now - since, {"written": totals["written"], "since": since}


def render(totals, stalled_seconds, now):
    lines = []
    if totals is not None:
        for key, (name, kind, text) in COUNTERS.items():
            lines += ["# HELP %s %s" % (name, text), "# TYPE %s %s" % (name, kind), "%s %d" % (name, totals[key])]
        lines += ["# HELP lanying_log_shipper_stalled_seconds Seconds events have waited with none accepted.",
                  "# TYPE lanying_log_shipper_stalled_seconds gauge",
                  "lanying_log_shipper_stalled_seconds %d" % stalled_seconds]
    lines += ["# HELP lanying_log_shipper_up Whether syslog-ng answered with the output's counters.",
              "# TYPE lanying_log_shipper_up gauge",
              "lanying_log_shipper_up %d" % (totals is not None),
              "# HELP lanying_log_shipper_stats_timestamp_seconds When the shipper's counters were last read.",
              "# TYPE lanying_log_shipper_stats_timestamp_seconds gauge",
              "lanying_log_shipper_stats_timestamp_seconds %d" % now]
    return "\n".join(lines) + "\n"


def write_atomically(path, text, mode):
    temporary = path + ".tmp"
    with open(temporary, "w") as out:
        out.write(text)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def main(destination, metrics_path, state_path, buffer_dir, stats_text=read_stats, buffer_text=read_buffer):
    now = time.time()
    totals = parse(stats_text(), destination)
    if totals is not None:
        on_disk = buffered(buffer_text(buffer_dir))
        if on_disk is not None:
            totals["queued"] = max(totals["queued"], on_disk)
    try:
        with open(state_path) as source:
            state = json.load(source)
    except (OSError, ValueError):
        state = {}
    seconds = 0
    if totals is not None:
        seconds, state = stalled(totals, state, now)
        write_atomically(state_path, json.dumps(state), 0o600)
    write_atomically(metrics_path, render(totals, seconds, now), 0o644)
    return 0 if totals is not None else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))

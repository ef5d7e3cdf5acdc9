# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database backups' metrics, for the node exporter's textfile collector.

Run by lanying-backup@<type>.service after each backup (with --type and systemd's --result), and by the
deploy (without them) to refresh the file. Keeps the last result of each backup type in a small state
file; reads what the repository holds from `pgbackrest info` (as postgres). Writes atomically.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

TYPES = ("full", "diff", "incr")


def read_state(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def write_atomically(path, text):
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".lanying-backup-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def repository_info(config, stanza):
    """pgbackrest's info on the stanza, or None when it cannot be read."""
    command = ["pgbackrest", "--config=%s" % config, "--stanza=%s" % stanza, "--output=json", "info"]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--"] + command
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
        stanzas = json.loads(result.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return stanzas[0] if stanzas else None


def metrics(state, info, now):
    lines = []

    def metric(name, kind, text, samples):
        lines.append("# HELP %s %s" % (name, text))
        lines.append("# TYPE %s %s" % (name, kind))
        for labels, value in samples:
            label_text = ",".join('%s="%s"' % item for item in sorted(labels.items()))
            lines.append("%s%s %s" % (name, "{%s}" % label_text if label_text else "", value))

    runs = state.get("runs", {})
    metric("lanying_im_backup_run_success", "gauge", "Whether the last backup of this type succeeded (1) or failed (0).",
           [({"type": kind}, 1 if run["success"] else 0) for kind, run in sorted(runs.items())])
    metric("lanying_im_backup_run_timestamp_seconds", "gauge", "When the last backup of this type ended.",
           [({"type": kind}, int(run["time"])) for kind, run in sorted(runs.items())])
    metric("lanying_im_backup_repository_ok", "gauge",
           "Whether pgBackRest reads the repository and finds the stanza in order (status code 0 or no backup yet).",
           [({}, 1 if info is not None and info.get("status", {}).get("code") in (0, 2) else 0)])
    backups = [b for b in (info or {}).get("backup", []) if not b.get("error")]
    if backups:
        newest = max(backups, key=lambda b: b["timestamp"]["stop"])
        metric("lanying_im_backup_last_success_timestamp_seconds", "gauge",
               "When the newest complete backup in the repository ended.", [({}, newest["timestamp"]["stop"])])
        fulls = [b for b in backups if b["type"] == "full"]
        if fulls:
            metric("lanying_im_backup_last_full_timestamp_seconds", "gauge",
                   "When the newest full backup in the repository ended.",
                   [({}, max(b["timestamp"]["stop"] for b in fulls))])
        metric("lanying_im_backup_size_bytes", "gauge", "The database size the newest backup holds.",
               [({}, newest["info"]["size"])])
        metric("lanying_im_backup_repository_bytes", "gauge", "Repository space the newest backup takes (compressed).",
               [({}, newest["info"]["repository"]["delta"])])
    metric("lanying_im_backup_count", "gauge", "Backups of each type in the repository.",
           [({"type": kind}, sum(1 for b in backups if b["type"] == kind)) for kind in TYPES])
    metric("lanying_im_backup_metrics_timestamp_seconds", "gauge", "When these backup metrics were written.",
           [({}, int(now))])
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--type", choices=TYPES, help="the backup type that just ran")
    parser.add_argument("--result", default="", help="systemd's SERVICE_RESULT of that run (success or a reason)")
    parser.add_argument("--state", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--stanza", required=True)
    args = parser.parse_args(argv)
    now = time.time()
    state = read_state(args.state)
    if args.type:
        state.setdefault("runs", {})[args.type] = {"success": args.result == "success", "time": now}
        write_atomically(args.state, json.dumps(state, sort_keys=True) + "\n")
    write_atomically(args.output, metrics(state, repository_info(args.config, args.stanza), now))
    return 0


if __name__ == "__main__":
    sys.exit(main())

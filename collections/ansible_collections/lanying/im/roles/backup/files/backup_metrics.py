# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backups' metrics, for the node exporter's textfile collector.

Run by the backup services after each backup (with --type and systemd's --result), and by the deploy
(without them) to write the file first. Keeps the last result of each backup type in a small state file;
reads what the repository holds from `pgbackrest info` (the database, as postgres) or `restic snapshots`
(the media store, with the repository in the environment). Every metric carries data="database" or
data="media". Writes atomically.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime

TYPES = ("full", "diff", "incr", "media")


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


def _restic_time(text):
    """restic's snapshot time (RFC 3339 with nanoseconds) as a Unix time."""
    text = text.replace("Z", "+00:00")
    if "." in text:
        head, tail = text.split(".", 1)
        digits = "".join(c for c in tail if c.isdigit())
        zone = tail[len(digits):]
        text = "%s.%s%s" % (head, digits[:6], zone)
    return datetime.fromisoformat(text).timestamp()


def restic_info(tag, restic="restic"):
    """The repository's snapshots of ``tag`` in pgbackrest info's shape, or None when it cannot be read."""
    try:
        result = subprocess.run([restic, "snapshots", "--json", "--tag", tag], capture_output=True, text=True,
                                timeout=300, check=True)
        snapshots = json.loads(result.stdout) or []
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return {"status": {"code": 0 if snapshots else 2},
            "backup": [{"type": "media", "timestamp": {"stop": int(_restic_time(s["time"]))}} for s in snapshots]}


def metrics(state, info, now, data="database", types=TYPES[:3]):
    lines = []

    def metric(name, kind, text, samples):
        lines.append("# HELP %s %s" % (name, text))
        lines.append("# TYPE %s %s" % (name, kind))
        for labels, value in samples:
            labels = dict(labels, data=data)
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
        if "info" in newest:
            metric("lanying_im_backup_size_bytes", "gauge", "The database size the newest backup holds.",
                   [({}, newest["info"]["size"])])
            metric("lanying_im_backup_repository_bytes", "gauge",
                   "Repository space the newest backup takes (compressed).",
                   [({}, newest["info"]["repository"]["delta"])])
    metric("lanying_im_backup_count", "gauge", "Backups of each type in the repository.",
           [({"type": kind}, sum(1 for b in backups if b["type"] == kind)) for kind in types])
    metric("lanying_im_backup_metrics_timestamp_seconds", "gauge", "When these backup metrics were written.",
           [({}, int(now))])
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--type", choices=TYPES, help="the backup type that just ran")
    parser.add_argument("--result", default="", help="systemd's SERVICE_RESULT of that run (success or a reason)")
    parser.add_argument("--state", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--tool", choices=["pgbackrest", "restic"], default="pgbackrest")
    parser.add_argument("--config", help="pgbackrest: its configuration file")
    parser.add_argument("--stanza", help="pgbackrest: the stanza")
    parser.add_argument("--tag", default="lanying-media", help="restic: the snapshots' tag")
    parser.add_argument("--restic", default="restic", help="restic: the program to run (a wrapper with its settings)")
    args = parser.parse_args(argv)
    now = time.time()
    state = read_state(args.state)
    if args.type:
        state.setdefault("runs", {})[args.type] = {"success": args.result == "success", "time": now}
        write_atomically(args.state, json.dumps(state, sort_keys=True) + "\n")
    if args.tool == "restic":
        text = metrics(state, restic_info(args.tag, args.restic), now, data="media", types=("media",))
    else:
        text = metrics(state, repository_info(args.config, args.stanza), now)
    write_atomically(args.output, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

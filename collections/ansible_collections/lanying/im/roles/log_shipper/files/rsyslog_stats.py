# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# lanying.im: rsyslog's impstats counters (one JSON object per line on stdin, from omprog) as
# Prometheus metrics in a file for the node exporter's textfile collector, rewritten atomically after
# every line. Names: lanying_log_shipper_<origin>_<counter>{name="<rsyslog object>"}.
import json
import os
import re
import sys
import time

_SAFE = re.compile(r"[^a-zA-Z0-9_]+")
_UNNAMED_ACTION = re.compile(r"^action-[0-9]+-")
_HELP = {
    "core_queue": "rsyslog queue counter (size: events waiting now)",
    "core_action": "rsyslog action counter (failed, suspended: the receiver refused or was away)",
    "omelasticsearch": "rsyslog Elasticsearch output counter (failed.*: requests or documents that failed)",
}


def metric_name(origin, counter):
    return "lanying_log_shipper_%s_%s" % (_SAFE.sub("_", origin).strip("_"), _SAFE.sub("_", counter).strip("_"))


def label(value):
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(objects, now):
    lines = []
    families = {}
    for (origin, name), counters in sorted(objects.items()):
        for counter, value in sorted(counters.items()):
            families.setdefault(metric_name(origin, counter), (origin, []))[1].append((name, value))
    for family, (origin, samples) in sorted(families.items()):
        help_text = _HELP.get(_SAFE.sub("_", origin), "rsyslog counter")
        lines.append("# HELP %s %s" % (family, help_text))
        lines.append("# TYPE %s gauge" % family)
        for name, value in samples:
            lines.append('%s{name="%s"} %s' % (family, label(name), value))
    lines.append("# HELP lanying_log_shipper_stats_timestamp_seconds When rsyslog last reported its counters.")
    lines.append("# TYPE lanying_log_shipper_stats_timestamp_seconds gauge")
    lines.append("lanying_log_shipper_stats_timestamp_seconds %d" % now)
    return "\n".join(lines) + "\n"


def parse(line):
    """Return (origin, name, {counter: number}) of one impstats line, or None."""
    start = line.find("{")
    if start < 0:
        return None
    try:
        data = json.loads(line[start:])
    except ValueError:
        return None
    if not isinstance(data, dict) or "name" not in data:
        return None
    if _UNNAMED_ACTION.match(str(data["name"])):
        # Actions of the distribution's own rules (action-3-builtin:omfile): not the shipper's.
        return None
    counters = {k: v for k, v in data.items()
                if k not in ("name", "origin") and isinstance(v, (int, float)) and not isinstance(v, bool)}
    return str(data.get("origin", "core")), str(data["name"]), counters


def main(path):
    objects = {}
    for line in sys.stdin:
        found = parse(line)
        if found is None:
            continue
        origin, name, counters = found
        objects[(origin, name)] = counters
        temporary = path + ".tmp"
        with open(temporary, "w") as out:
            out.write(render(objects, time.time()))
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)


if __name__ == "__main__":
    main(sys.argv[1])

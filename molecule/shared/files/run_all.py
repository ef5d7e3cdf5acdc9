#!/usr/bin/env python3
"""Run several commands, a few at a time, and print what each did, in the order given.

Reads a JSON list of {"argv": [...], "env": {...}} from the file named on the command line; runs them with
--jobs at a time; prints a JSON list of {"rc", "stdout", "stderr", "seconds"}, one per command. Used where a
check runs many short, independent playbook runs (bad input refused up front): the runs are mostly the
controller's own work, so two at a time use both cores.
"""

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import time


def run(command):
    started = time.monotonic()
    result = subprocess.run(command["argv"], capture_output=True, text=True, check=False,
                            env=dict(os.environ, **command.get("env", {})))
    return {"rc": result.returncode, "stdout": result.stdout, "stderr": result.stderr,
            "seconds": round(time.monotonic() - started, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commands")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with open(args.commands) as source:
        commands = json.load(source)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run, commands))
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

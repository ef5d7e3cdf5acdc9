# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lanying.im delivery probe, run by lanying-probe.timer (python3 lanying_probe.py [SETTINGS.json]).

Sends one message between the two probe users through the gateway, waits for its delivery and leaves
the outcome for the node exporter (textfile collector), where Prometheus alerts on it. The same code as
the lanying.im.im_probe module, on the standard library alone. Exit status 1 when delivery failed.
"""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, "/usr/local/lib/lanying-im/probe")

from ansible_collections.lanying.im.plugins.module_utils._im_probe import (  # noqa: E402
    ProbeFailure, probe_metrics, run_probe)
from ansible_collections.lanying.im.plugins.module_utils._matrix import (  # noqa: E402
    MatrixClient, MatrixError, MatrixUnreachable, urllib_transport)


def write_atomically(path, text):
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".lanying-probe-")
    with os.fdopen(handle, "w") as out:
        out.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def main():
    with open(sys.argv[1] if len(sys.argv) > 1 else "/etc/lanying-im/probe/probe.json") as source:
        config = json.load(source)
    transport = urllib_transport(config.get("ca_path"))
    sender = MatrixClient(config["url"], transport, timeout=30)
    receiver = MatrixClient(config["url"], transport, timeout=30)
    result, failure = None, None
    try:
        result = run_probe(sender, receiver, config, check_mode=False)
    except ProbeFailure as err:
        failure = err
    finally:
        for client in (sender, receiver):
            try:
                client.logout()
            except (MatrixError, MatrixUnreachable):
                pass
    write_atomically(config["textfile"], probe_metrics(result, failure, time.time()))
    print(json.dumps({"probe": "delivered" if failure is None else "failed",
                      "msg": result["msg"] if failure is None else str(failure),
                      "reason": "" if failure is None else failure.reason}))
    return 0 if failure is None else 1


if __name__ == "__main__":
    sys.exit(main())

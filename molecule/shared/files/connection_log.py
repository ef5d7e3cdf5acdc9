"""Accept TCP connections on ADDRESS:PORT for SECONDS and append one JSON line per connection to LOG
(peer address and the first bytes it sent), so that a test can tell whether anything connected.

    connection_log.py ADDRESS PORT SECONDS LOG
"""

import json
import socket
import sys
import time


def main(address, port, seconds, log):
    deadline = time.monotonic() + float(seconds)
    with socket.create_server((address, int(port)), reuse_port=False) as server, open(log, "a") as out:
        server.settimeout(0.5)
        while time.monotonic() < deadline:
            try:
                conn, peer = server.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(1.0)
                try:
                    first = conn.recv(64)
                except OSError:
                    first = b""
            out.write(json.dumps({"peer": peer[0], "first_bytes": first.decode("latin-1")}) + "\n")
            out.flush()


if __name__ == "__main__":
    main(*sys.argv[1:5])

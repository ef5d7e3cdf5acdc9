"""Open a TCP connection to every ADDRESS:PORT given, all at once, and print a JSON object of the
outcomes: "open", "refused" (the host answered that nothing listens there), "timeout" (no answer: a
firewall dropped the packets) or the error. ADDRESS:PORT/udp sends a datagram instead, "open" when one
comes back (an echoing listener).

    probe_ports.py [--timeout=SECONDS] ADDRESS:PORT[/tcp|/udp]...
"""

import json
import socket
import sys
from concurrent.futures import ThreadPoolExecutor


def probe(target, timeout):
    endpoint, _, protocol = target.partition("/")
    address, port = endpoint.rsplit(":", 1)
    try:
        if protocol == "udp":
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.settimeout(timeout)
                sock.sendto(b"probe", (address, int(port)))
                sock.recvfrom(512)
                return target, "open"
        with socket.create_connection((address, int(port)), timeout=timeout):
            return target, "open"
    except ConnectionRefusedError:
        return target, "refused"
    except socket.timeout:
        return target, "timeout"
    except OSError as err:
        return target, "error: %s" % err


def main(argv):
    timeout = 3.0
    targets = []
    for arg in argv:
        if arg.startswith("--timeout="):
            timeout = float(arg.split("=", 1)[1])
        else:
            targets.append(arg)
    with ThreadPoolExecutor(max_workers=max(1, min(64, len(targets)))) as pool:
        outcomes = dict(pool.map(lambda t: probe(t, timeout), targets))
    print(json.dumps(outcomes, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Run hosts' nftables rulesets in network namespaces of this host and try every listener from every host.

    firewall_drill.py DRILL.json          (as root) prints a JSON report; exit status 1 when a try went wrong

DRILL.json: {"hosts": {name: address}, "rulesets": {name: path of its nft file}, "listeners": [the model's
listeners], "others": {name: address}, "public_sources": [networks]}. Every host gets a namespace on one
bridge, its ruleset loaded by nft, and a plain socket on each of its listeners (TCP: accepts; UDP: echoes),
so that the firewall is what is under test. A listener the host forwards (the model's "forwarded": ServiceLB's
host ports, kube-proxy's node ports) is served instead in a namespace standing in for a pod, behind the host's
namespace (a veth pair, the host routing), with a DNAT rule in the host's namespace as ServiceLB and
kube-proxy install it (nat prerouting, to a local address and the port -> the pod). The "others" are sources
without a ruleset or listeners (a pod of the cluster, a host outside it). Then every listener is tried from
every other namespace: a TCP connection, or a UDP datagram that must come back. Expected: an answer from the
listener's clients (hosts, or networks such as the pods') and for a public one from the public sources
(everyone when none are given); nothing at all (the firewall drops) from the rest.

    firewall_drill.py --serve SPEC.json   (inside a namespace) the sockets of one host's listeners

The tries are probe_ports.py's (beside this file), run inside each source's namespace.
"""

import ipaddress
import json
import os
import selectors
import socket
import subprocess
import sys
import time

PREFIX = "fwd-"
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe_ports.py")
TIMEOUT = 1.5


def run(*argv, namespace=None, check=True, **kwargs):
    if namespace:
        argv = ("ip", "netns", "exec", PREFIX + namespace) + argv
    return subprocess.run(argv, check=check, capture_output=True, text=True, **kwargs)


def serve(spec_file):
    with open(spec_file) as handle:
        spec = json.load(handle)
    selector = selectors.DefaultSelector()
    for address, port, protocol in spec:
        kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
        sock = socket.socket(socket.AF_INET, kind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        if protocol == "tcp":
            sock.listen(64)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, protocol)
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            if key.data == "tcp":
                connection, _ = key.fileobj.accept()
                connection.close()
            else:
                data, peer = key.fileobj.recvfrom(512)
                key.fileobj.sendto(data, peer)


def within(address, networks):
    return any(ipaddress.ip_address(address) in ipaddress.ip_network(network) for network in networks)


def expected(listener, source, address, public_sources):
    if listener["public"]:
        return "open" if public_sources is None or within(address, public_sources) else "timeout"
    if source in listener["clients"] or within(address, listener.get("networks", [])):
        return "open"
    return "timeout"


def forward_to_pod(name, number, entries):
    """A namespace standing in for a pod behind host ``name``, and the DNAT rule that sends it ``entries``."""
    pod, host_side, pod_side = "pod-%s" % name, "fwh%d" % number, "fwp%d" % number
    host_address, pod_address = "10.250.%d.1" % number, "10.250.%d.2" % number
    run("ip", "netns", "add", PREFIX + pod)
    run("ip", "link", "set", "lo", "up", namespace=pod)
    run("ip", "link", "add", host_side, "type", "veth", "peer", "name", pod_side, namespace=name)
    run("ip", "link", "set", pod_side, "netns", PREFIX + pod, namespace=name)
    run("ip", "addr", "add", host_address + "/30", "dev", host_side, namespace=name)
    run("ip", "link", "set", host_side, "up", namespace=name)
    run("ip", "addr", "add", pod_address + "/30", "dev", pod_side, namespace=pod)
    run("ip", "link", "set", pod_side, "up", namespace=pod)
    run("ip", "route", "add", "default", "via", host_address, namespace=pod)
    # The host routes between its link and the pod's. A new namespace inherits forwarding from the machine's
    # (which runs a container engine: on); /proc/sys is read-only in a container, so it is written only when off.
    forwarding = run("cat", "/proc/sys/net/ipv4/ip_forward", namespace=name).stdout.strip()
    if forwarding != "1":
        result = run(sys.executable, "-c", "open('/proc/sys/net/ipv4/ip_forward', 'w').write('1')", namespace=name,
                     check=False)
        if result.returncode != 0:
            raise SystemExit("cannot turn forwarding on in the namespace of %s: %s" % (name, result.stderr.strip()))
    rules = "\n".join("\t\tfib daddr type local %s dport %d dnat to %s:%d" % (e["protocol"], e["port"], pod_address,
                                                                              e["port"]) for e in entries)
    table = ("table ip drill_nat {\n\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
             "%s\n\t}\n}\n" % rules)
    result = run("nft", "-f", "-", namespace=name, check=False, input=table)
    if result.returncode != 0:
        raise SystemExit("nft refused the DNAT rules of %s: %s" % (name, result.stderr))
    return pod, [[pod_address, e["port"], e["protocol"]] for e in entries]


def drill(drill_file):
    with open(drill_file) as handle:
        spec = json.load(handle)
    workdir = os.path.dirname(os.path.abspath(drill_file))
    sources = dict(spec["hosts"], **spec.get("others", {}))
    public_sources = spec.get("public_sources")
    servers = []
    names = ["switch"] + sorted(sources)
    try:
        for name in names:
            run("ip", "netns", "add", PREFIX + name)
            run("ip", "link", "set", "lo", "up", namespace=name)
        run("ip", "link", "add", "br0", "type", "bridge", namespace="switch")
        run("ip", "link", "set", "br0", "up", namespace="switch")
        for number, (name, address) in enumerate(sorted(sources.items())):
            outside, inside = "fwo%d" % number, "fwi%d" % number
            run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside, namespace="switch")
            run("ip", "link", "set", inside, "netns", PREFIX + name, namespace="switch")
            run("ip", "link", "set", outside, "master", "br0", "up", namespace="switch")
            run("ip", "addr", "add", address + "/32", "dev", inside, namespace=name)
            run("ip", "link", "set", inside, "up", namespace=name)
            # Every other address is on the same link, whatever its network.
            for other in sources.values():
                if other != address:
                    run("ip", "route", "add", other + "/32", "dev", inside, namespace=name)
        for name, path in sorted(spec["rulesets"].items()):
            result = run("nft", "-f", path, namespace=name, check=False)
            if result.returncode != 0:
                raise SystemExit("nft refused the ruleset of %s: %s" % (name, result.stderr))
        listeners = [entry for entry in spec["listeners"] if entry["address"] != "127.0.0.1"]
        served = []
        for number, name in enumerate(sorted(spec["hosts"])):
            own = [[e["address"], e["port"], e["protocol"]] for e in listeners
                   if e["host"] == name and not e.get("forwarded")]
            if own:
                served.append((name, own))
            forwarded = [e for e in listeners if e["host"] == name and e.get("forwarded")]
            if forwarded:
                pod, sockets = forward_to_pod(name, number, forwarded)
                names.append(pod)
                served.append((pod, sockets))
        for name, sockets in served:
            spec_file = os.path.join(workdir, "serve-%s.json" % name)
            with open(spec_file, "w") as handle:
                json.dump(sockets, handle)
            process = subprocess.Popen(["ip", "netns", "exec", PREFIX + name, sys.executable, __file__, "--serve",
                                        spec_file], stdout=subprocess.PIPE, text=True)
            servers.append(process)
            if process.stdout.readline().strip() != "ready":
                raise SystemExit("the sockets of %s did not start" % name)
        report = {"tries": 0, "answered": 0, "dropped": 0, "wrong": [],
                  "forwarded": {"tries": 0, "answered": 0, "dropped": 0},
                  "listeners": sorted(set("%s %s" % (e["component"], e["name"]) for e in listeners))}
        for source, address in sorted(sources.items()):
            tries = {"%s:%d/%s" % (e["address"], e["port"], e["protocol"]): e for e in listeners if e["host"] != source}
            outcomes = json.loads(run(sys.executable, PROBE, "--timeout=%s" % TIMEOUT, *sorted(tries),
                                      namespace=source).stdout)
            for target, entry in sorted(tries.items()):
                want = expected(entry, source, address, public_sources)
                outcome = "answered" if outcomes[target] == "open" else "dropped"
                report["tries"] += 1
                report[outcome] += 1
                if entry.get("forwarded"):
                    report["forwarded"]["tries"] += 1
                    report["forwarded"][outcome] += 1
                if outcomes[target] != want:
                    report["wrong"].append("%s %s on %s (%s) from %s: %s, expected %s" % (
                        entry["component"], entry["name"], entry["host"], target, source, outcomes[target], want))
        print(json.dumps(report, indent=1, sort_keys=True))
        return 1 if report["wrong"] else 0
    finally:
        for process in servers:
            process.kill()
        for name in names:
            run("ip", "netns", "del", PREFIX + name, check=False)
        time.sleep(0.1)


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        serve(sys.argv[2])
    else:
        sys.exit(drill(sys.argv[1]))

# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployment model of lanying.im (private to this collection; no stable API).

One function, ``build_topology``, turns the inventory groups and a small user spec into every service
instance of the platform (which host, which ports, which image, which routes). Every role reads this one
model: the chat role deploys the instances placed on its host, the gateway renders its routing table
from it, monitoring renders scrape targets from it. It is plain Python and raises ``TopologyError``
with a message naming the setting, the bad value and the fix.
"""

from __future__ import annotations

import difflib
import ipaddress
import re

from ansible_collections.lanying.im.plugins.plugin_utils._components import (
    K3S_PORTS, Context, listeners, placement, roles, scrape_jobs, with_addresses)
from ansible_collections.lanying.im.plugins.plugin_utils._monitoring import MONITORING_PORTS, pod_scrape_jobs
from ansible_collections.lanying.im.plugins.plugin_utils._workers import (
    WORKER_PORTS, WorkerSpecError, place_workers, synapse_settings, worker_counts, worker_routes)

REQUIRED_GROUPS = ("im_app", "im_gateway", "im_db")
# Where Synapse and the gateway run: containers on the im_app and im_gateway hosts, or the k3s cluster of
# the k3s_server and k3s_agent groups (lanying_im_runtime).
RUNTIMES = ("docker", "k3s")
# The state that leaves the hosts on k3s: the main process and the media store are the cluster's.
CLUSTER = "k3s"

DEFAULT_PORTS = {
    "client": 8008,  # Matrix client and federation API of a Synapse process (plain HTTP, behind the gateway)
    "replication": 8009,  # Synapse HTTP replication listener, used once workers exist
    "metrics": 9000,  # Prometheus metrics listener of a Synapse process
    "https": 443,  # gateway TLS
    "http": 80,  # gateway plain HTTP (redirects and ACME)
    "gateway_status": 8081,  # gateway's connection counters (nginx stub_status) on the loopback address
    "postgres": 5432,
    "redis": 6379,
    "logging": 9200,  # a log receiver of the logging group (the Elasticsearch/OpenSearch API, TLS)
    # With a backup group (lanying.im.backup): pgBackRest's TLS servers on the repository host and the
    # database host, and the media store's restic repository served by rclone on the repository host.
    "backup_server": 8432,
    "backup_media": 8433,
    # With the platform on k3s: the node ports of the gateway's LoadBalancer Service (kube-proxy forwards
    # them to a gateway pod) and of its health check (externalTrafficPolicy Local), fixed so that the
    # firewall knows them; inside k3s's service node port range.
    "gateway_node_https": 30443,
    "gateway_node_http": 30080,
    "gateway_node_health": 30254,
}
# k3s's default service-node-port-range: the node ports above must lie inside it.
NODE_PORT_RANGE = (30000, 32767)
NODE_PORTS = ("gateway_node_https", "gateway_node_http", "gateway_node_health")
# First port of each block the workers' ports are taken from (see _workers.WORKER_TYPES offsets).
DEFAULT_PORTS.update(WORKER_PORTS)
DEFAULT_PORTS.update(MONITORING_PORTS)

DEFAULT_SPEC = {
    "server_name": None,
    "public_baseurl": None,
    "ports": {},
    "images": {},
    "database_name": "synapse",
    "database_user": "synapse",
    "federation": False,
    "max_upload_mb": 50,
    "workers": "none",
    # The hosts that hold the platform's state, named explicitly: database (PostgreSQL and Redis, an im_db
    # host), main (the main Synapse process, an im_app host) and media (the media store: the media
    # worker's im_app host; without a media worker the main process keeps it). None: the default.
    "stateful": {},
}
STATEFUL_KEYS = ("database", "main", "media")

# Which ports each kind of instance listens on (host network).
_INSTANCE_PORTS = {
    "main": ("client", "replication", "metrics"),
    "worker": ("client", "replication", "metrics"),
    "gateway": ("https", "http", "gateway_status"),
    "postgres": ("postgres",),
    "redis": ("redis",),
}

# Everything the main process serves while no worker exists: the gateway sends these paths to it.
# The gateway answers /.well-known/matrix/* itself, from the model.
MAIN_ROUTES = ("/_matrix", "/_synapse/client", "/_synapse/admin")
# Paths only the admin networks may reach (lanying.im.gateway restricts them).
ADMIN_ROUTES = ("/_synapse/admin",)

_HOST = r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
_SERVER_NAME = re.compile(r"^(?=.{1,253}(:|$))" + _HOST + r"(:(?P<port>[0-9]{1,5}))?$")
_BASEURL = re.compile(r"^https?://" + _HOST + r"(:(?P<port>[0-9]{1,5}))?/$")
# PostgreSQL identifiers lanying.im writes unquoted into pg_hba.conf and SQL.
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# registry[:port]/path/name[:tag][@sha256:digest], nothing a shell or a configuration file could misread.
_IMAGE = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*"
                    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$")


class TopologyError(ValueError):
    """A spec or inventory the platform cannot be built from."""


def _fail(message):
    raise TopologyError(message)


def _check_keys(where, given, allowed):
    for key in sorted(set(given) - set(allowed), key=str):
        close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
        hint = "did you mean %r? " % close[0] if close else ""
        _fail("%s: unknown key %r; %sallowed keys: %s" % (where, key, hint, ", ".join(sorted(allowed))))


def _merged_spec(spec):
    if not isinstance(spec, dict):
        _fail("lanying_im_topology: expected a mapping of settings, got %s" % type(spec).__name__)
    _check_keys("lanying_im_topology", spec, DEFAULT_SPEC)
    merged = dict(DEFAULT_SPEC)
    merged.update(spec)
    if not isinstance(merged["ports"], dict):
        _fail("lanying_im_topology.ports: expected a mapping of port name to number, got %r" % (merged["ports"],))
    _check_keys("lanying_im_topology.ports", merged["ports"], DEFAULT_PORTS)
    ports = dict(DEFAULT_PORTS)
    ports.update(merged["ports"])
    for name, number in sorted(ports.items()):
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 65535:
            _fail("lanying_im_topology.ports.%s is %r; it must be a port number from 1 to 65535" % (name, number))
    merged["ports"] = ports
    if not isinstance(merged["federation"], bool):
        _fail("lanying_im_topology.federation is %r; it must be true or false" % (merged["federation"],))
    upload = merged["max_upload_mb"]
    if isinstance(upload, bool) or not isinstance(upload, int) or not 1 <= upload <= 10240:
        _fail("lanying_im_topology.max_upload_mb is %r; it must be a whole number of megabytes from 1 to 10240"
              % (upload,))
    if not isinstance(merged["images"], dict):
        _fail("lanying_im_topology.images: expected a mapping of image name to reference, got %r" % (merged["images"],))
    _check_keys("lanying_im_topology.images", merged["images"], ("synapse", "gateway"))
    for name, reference in sorted(merged["images"].items()):
        if reference is not None and (not isinstance(reference, str) or not _IMAGE.match(reference)):
            _fail("lanying_im_topology.images.%s is %r; it must be an image reference such as "
                  "registry.example.com:5000/lanying/%s:1.0 (lower-case path, optional tag and @sha256 digest)"
                  % (name, reference, name))
    if not isinstance(merged["stateful"], dict):
        _fail("lanying_im_topology.stateful: expected a mapping of database, main and media to a host, got %r"
              % (merged["stateful"],))
    _check_keys("lanying_im_topology.stateful", merged["stateful"], STATEFUL_KEYS)
    merged["stateful"] = {key: merged["stateful"].get(key) or None for key in STATEFUL_KEYS}
    for key in ("database_name", "database_user"):
        value = merged[key]
        if not isinstance(value, str) or not _IDENTIFIER.match(value):
            _fail("lanying_im_topology.%s is %r; it must be a PostgreSQL identifier: a lower-case letter or '_', "
                  "then up to 62 lower-case letters, digits or '_'" % (key, value))
    return merged


def _check_names(spec):
    server_name = spec["server_name"]
    if server_name in (None, ""):
        _fail("the server name is not set: set lanying_im_server_name to the domain users' IDs end in "
              "(@alice:chat.example.com -> chat.example.com); it can never change once users exist")
    matched = _SERVER_NAME.match(server_name) if isinstance(server_name, str) else None
    if not matched or not 1 <= int(matched.group("port") or 1) <= 65535:
        _fail("lanying_im_topology.server_name is %r; it must be the domain users' IDs end in "
              "(@alice:chat.example.com -> chat.example.com), a DNS name with an optional port from 1 to 65535"
              % (server_name,))
    baseurl = spec["public_baseurl"]
    if baseurl is None:
        baseurl = "https://%s/" % server_name.split(":")[0]
    matched = _BASEURL.match(baseurl) if isinstance(baseurl, str) else None
    if not matched or not 1 <= int(matched.group("port") or 1) <= 65535:
        _fail("lanying_im_topology.public_baseurl is %r; it must be the URL clients use, "
              "'https://host[:port]/' (a DNS name or IPv4 address, a port from 1 to 65535) with the trailing "
              "slash and no path" % (baseurl,))
    return server_name, baseurl


def _check_instance_ports(instances):
    for i in instances:
        for port_name, number in sorted(i["ports"].items()):
            if not 1 <= number <= 65535:
                _fail("%s on host %s would listen on %s port %d, past 65535: lower the first port of its block "
                      "(lanying_im_topology.ports.worker_%s) or the number of workers" % (
                          i["name"], i["host"], port_name, number, port_name))


def _groups(groups):
    if not isinstance(groups, dict):
        _fail("inventory groups: expected a mapping of group name to host list, got %s" % type(groups).__name__)
    for group in REQUIRED_GROUPS:
        if not groups.get(group):
            _fail("inventory group %s has no host; put at least one host in it (one host may be in every group)"
                  % group)
    return {name: list(hosts or []) for name, hosts in groups.items()}


def _port_range(value):
    """(first, last) of a port or a 'first-last' range, None when it is neither."""
    text = str(value)
    match = re.match(r"^([0-9]{1,5})(-([0-9]{1,5}))?$", text) if not isinstance(value, bool) else None
    if not match:
        return None
    first, last = int(match.group(1)), int(match.group(3) or match.group(1))
    return (first, last) if 1 <= first <= last <= 65535 else None


def _check_host_ports(host_ports):
    """The ports a host has that the platform does not own (SSH, firewall_allow), as {host: [entries]}."""
    if host_ports is None:
        return {}
    if not isinstance(host_ports, dict):
        _fail("host ports: expected a mapping of host to a list of {name, port, protocol}, got %s"
              % type(host_ports).__name__)
    checked = {}
    for host, entries in host_ports.items():
        for entry in entries or []:
            if not isinstance(entry, dict) or _port_range(entry.get("port")) is None \
                    or entry.get("protocol", "tcp") not in ("tcp", "udp"):
                _fail("host %s: %r is not a port of the host; it must be {name, port: 1-65535 or first-last, "
                      "protocol: tcp or udp}" % (host, entry))
            checked.setdefault(host, []).append(dict(entry, protocol=entry.get("protocol", "tcp")))
    return checked


def _check_port_clashes(found, host_ports):
    """Two listeners on one port of a host, or a listener on a port the host keeps for something else."""
    used = {}
    for entry in found:
        key = (entry["host"], entry["port"], entry["protocol"])
        if key in used:
            _fail("port %d on host %s is used twice: %s (%s) and %s (%s); change one in lanying_im_topology.ports"
                  % (entry["port"], entry["host"], used[key]["component"], used[key]["name"], entry["component"],
                     entry["name"]))
        used[key] = entry
    for entry in found:
        for kept in host_ports.get(entry["host"], []):
            first, last = _port_range(kept["port"])
            if kept["protocol"] == entry["protocol"] and first <= entry["port"] <= last:
                _fail("port %d on host %s is the host's %s (%s port %s): %s (%s) cannot listen there; change "
                      "lanying_im_topology.ports (or the host's setting)"
                      % (entry["port"], entry["host"], kept.get("name", "port"), kept["protocol"], kept["port"],
                         entry["component"], entry["name"]))


def _check_addressed(found, addresses):
    """Every host with a listener, and every client of one, has an address (the firewall admits by address)."""
    missing = sorted(set(h for entry in found for h in [entry["host"]] + entry["clients"] if not addresses.get(h)))
    if missing:
        _fail("these hosts have no address, and the platform's listeners bind to theirs and admit clients by "
              "theirs: %s. A run reads the address of every host of the inventory, also of those a --limit "
              "leaves out: make them reachable, or set lanying_im_address for them" % ", ".join(missing))


def _check_families(found, addresses):
    """A client reaches a listener by its address: both of one family (IPv4 or IPv6), or nothing connects."""
    for entry in found:
        address = entry["address"] or addresses.get(entry["host"])
        if not address or entry["address"] in ("127.0.0.1", "::1"):
            continue
        version = ipaddress.ip_address(address).version
        for client in entry["clients"]:
            other = addresses.get(client)
            if other and ipaddress.ip_address(other).version != version:
                _fail("host %s (%s) is a client of %s (%s) on host %s (%s), an address of the other family: no "
                      "connection could be made. Give every host an address of one family, IPv4 or IPv6 "
                      "(lanying_im_address)" % (client, other, entry["component"], entry["name"], entry["host"], address))


def _check_backup_host(where, db_host, groups):
    if len(groups.get("backup") or []) > 1:
        _fail("the inventory group backup holds %d hosts (%s): it names the one host that keeps the repositories"
              % (len(groups["backup"]), ", ".join(groups["backup"])))
    repository = where["backup_repository"]
    if repository and repository[0] == db_host:
        _fail("the backup group's host %s is the database host: a repository there is lost with the database; "
              "name another host in the backup group, or leave the group empty and set backup_repository "
              "(path or s3)" % repository[0])


def _check_addresses(addresses, registry_port):
    if addresses is None:
        addresses = {}
    if not isinstance(addresses, dict):
        _fail("host addresses: expected a mapping of host to address, got %s" % type(addresses).__name__)
    if isinstance(registry_port, bool) or not isinstance(registry_port, int) or not 1 <= registry_port <= 65535:
        _fail("lanying_im_registry_port is %r; it must be a port number from 1 to 65535" % (registry_port,))
    for host, address in sorted(addresses.items()):
        if address in (None, ""):
            continue
        try:
            ipaddress.ip_address(address if isinstance(address, str) else "")
        except ValueError:
            _fail("the address of host %s (lanying_im_address, or its default route's) is %r; it must be an IP address "
                  "such as 10.0.0.5 or fd00::5 (the platform's listeners bind to it and the firewall admits it)"
                  % (host, address))
    return {host: (address or None) for host, address in addresses.items()}


def _check_k3s(k3s):
    """The cluster's API port and its pods' IPv4 networks (the firewall admits them to the API and kubelets)."""
    k3s = dict({"api_port": 6443, "pod_networks": ["10.42.0.0/16"], "namespace": "lanying-im", "api_endpoint": ""},
               **(k3s or {}))
    port = k3s["api_port"]
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        _fail("k3s_api_port is %r; it must be a port number from 1 to 65535" % (port,))
    networks = k3s["pod_networks"]
    if isinstance(networks, str):
        networks = networks.split(",")
    found = []
    for network in networks:
        try:
            parsed = ipaddress.ip_network(str(network).strip(), strict=False)
        except ValueError:
            _fail("k3s_server_config cluster-cidr names %r, which is not a network such as 10.42.0.0/16" % (network,))
        if parsed.version == 4:
            found.append(str(parsed))
    namespace = k3s["namespace"]
    if not isinstance(namespace, str) or not re.match(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", namespace):
        _fail("k3s_platform_namespace is %r; it must be a Kubernetes namespace name (lower-case letters, digits and "
              "'-', at most 63)" % (namespace,))
    endpoint = k3s["api_endpoint"] or ""
    if not isinstance(endpoint, str) or not re.match(r"^[A-Za-z0-9.:\[\]-]*$", endpoint):
        _fail("k3s_api_endpoint is %r; it must be a host name or address (or empty: the first server)" % (endpoint,))
    return {"api_port": port, "pod_networks": found, "namespace": namespace, "api_endpoint": endpoint}


def _runtime_groups(groups, runtime, spec):
    """The groups the model places Synapse and the gateway over, and the cluster's nodes ([] on Docker).

    On k3s the im_app and im_gateway groups stay empty: the cluster's nodes stand in for them (the
    processes and the gateway's replicas are spread over the cluster, and the data tier admits the nodes,
    whose addresses the pods' traffic leaves from).
    """
    if runtime not in RUNTIMES:
        _fail("lanying_im_runtime is %r; it must be one of: docker (Synapse and the gateway in containers on the "
              "im_app and im_gateway hosts), k3s (on the cluster of the k3s_server and k3s_agent groups)"
              % (runtime,))
    if runtime == "docker" or not isinstance(groups, dict):
        return groups, []
    servers = list(groups.get("k3s_server") or [])
    if not servers:
        _fail("lanying_im_runtime is k3s, but the inventory group k3s_server has no host: put the cluster's servers "
              "there (and its other nodes in k3s_agent), or set lanying_im_runtime to docker")
    nodes = servers + [h for h in groups.get("k3s_agent") or [] if h not in servers]
    for name in ("im_app", "im_gateway"):
        if groups.get(name):
            _fail("lanying_im_runtime is k3s, so Synapse and the gateway run on the cluster (k3s_server, k3s_agent); "
                  "the inventory group %s must be empty, and lists %s" % (name, ", ".join(groups[name])))
    build = list(groups.get("im_build") or [])
    if not build and not (spec["images"].get("synapse") and spec["images"].get("gateway")):
        _fail("lanying_im_runtime is k3s, and the inventory group im_build has no host: the platform's images are "
              "built there, by a Docker engine outside the cluster; name one host in im_build (or both images in "
              "lanying_im_topology.images)")
    if build and build[0] in nodes:
        _fail("lanying_im_runtime is k3s, and im_build's host %s is a k3s node: the images are built by a Docker "
              "engine, whose iptables rules clash with k3s's on one host; name a host outside the cluster in "
              "im_build" % build[0])
    for key in ("main", "media"):
        if spec["stateful"][key] is not None:
            _fail("lanying_im_topology.stateful.%s is %r, but with lanying_im_runtime k3s the %s is the cluster's: "
                  "leave it unset" % (key, spec["stateful"][key],
                                      "main process (a pod)" if key == "main" else "media store (a PersistentVolumeClaim)"))
    return dict(groups, im_app=nodes, im_gateway=nodes), nodes


def _api_address(k3s, where, addresses):
    """host:port of the cluster's API as Prometheus reaches it: k3s_api_endpoint, else the first server."""
    host = k3s["api_endpoint"] or addresses.get(where["k3s_server"][0]) or where["k3s_server"][0]
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host
    return "%s:%d" % (host, k3s["api_port"])


def _stateful_host(stateful, key, members):
    host = stateful[key]
    if host is None:
        return members[0]
    if host not in members:
        group = "im_db" if key == "database" else "im_app"
        _fail("lanying_im_topology.stateful.%s is %r, which is not a host of %s (%s)"
              % (key, host, group, ", ".join(members)))
    return host


def _hosts(hosts, where, found, addresses):
    """Each host's address, components, and where its listeners bind ('<component> <name>': 'address:port')."""
    return {host: {"address": addresses.get(host),
                   "components": sorted(c for c, members in where.items() if host in members),
                   "listen": dict(("%s %s" % (e["component"], e["name"]),
                                   "%s:%d" % (e["address"], e["port"]) if e["address"] else None)
                                  for e in found if e["host"] == host)}
            for host in hosts}


def is_platform(groups, runtime="docker"):
    """Whether the inventory asks for the chat platform: the k3s runtime, or a host in any of its groups.

    An inventory with none of them gets the host baseline only (and a model of its own listeners); one with
    some of them is checked as a platform, and the model names the group that has no host.
    """
    if runtime != "docker" or not isinstance(groups, dict):
        return True
    return any(groups.get(name) for name in REQUIRED_GROUPS)


def _listener_ports(ports, registry_port, k3s):
    return dict(ports, registry=registry_port, k3s_api=k3s["api_port"], **K3S_PORTS)


def _baseline(groups, spec, addresses, registry_port, k3s, host_ports, require_addresses):
    """The model of an inventory without the chat platform: every host's node exporter, and a k3s cluster's
    nodes with their listeners (the firewall of a cluster alone admits what the cluster needs)."""
    if not isinstance(groups, dict):
        _fail("inventory groups: expected a mapping of group name to host list, got %s" % type(groups).__name__)
    groups = {name: list(hosts or []) for name, hosts in groups.items()}
    context = Context(dict(groups, im_db=[]), [], _listener_ports(spec["ports"], registry_port, k3s), k3s=k3s)
    where = placement(context)
    for name in where:
        if name not in ("node_exporter", "k3s_server", "k3s_agent"):
            where[name] = context.where[name] = []
    found = [found_entry[1] for found_entry in listeners(context)]
    _check_port_clashes(found, host_ports)
    if require_addresses:
        _check_addressed(found, addresses)
    _check_families(found, addresses)
    hosts = sorted(set(h for members in where.values() for h in members))
    return {
        "platform": False,
        "runtime": "docker",
        "placement": where,
        "roles": roles(where),
        "hosts": _hosts(hosts, where, with_addresses(found, addresses), addresses),
        "listeners": with_addresses(found, addresses),
        "ports": dict(spec["ports"]),
        "monitoring": {"prometheus": None, "scrape_jobs": []},
    }


def build_topology(groups, spec, addresses=None, registry_port=5000, k3s=None, runtime="docker", host_ports=None,
                   require_addresses=False):
    """Return the deployment model for ``groups`` (inventory group -> hosts) and the user ``spec``.

    ``addresses`` maps each host to the address other hosts reach it at (unknown hosts get None, or an
    error with ``require_addresses``); ``registry_port`` is the private registry's port; ``k3s`` the
    cluster's ``api_port`` and ``pod_networks`` (when the inventory has k3s groups); ``runtime`` where
    Synapse and the gateway run (``docker``: containers on the im_app and im_gateway hosts; ``k3s``: the
    cluster of the k3s groups); ``host_ports`` the ports each host keeps for something else (SSH, the
    firewall's extra ports), which no listener may take.
    """
    k3s = _check_k3s(k3s)
    spec = _merged_spec(spec)
    addresses = _check_addresses(addresses, registry_port)
    host_ports = _check_host_ports(host_ports)
    if runtime in RUNTIMES and not is_platform(groups, runtime):
        return _baseline(groups, spec, addresses, registry_port, k3s, host_ports, require_addresses)
    groups, nodes = _runtime_groups(groups, runtime, spec)
    groups = _groups(groups)
    server_name, baseurl = _check_names(spec)
    ports = spec["ports"]
    if nodes:
        for name in NODE_PORTS:
            if not NODE_PORT_RANGE[0] <= ports[name] <= NODE_PORT_RANGE[1]:
                _fail("lanying_im_topology.ports.%s is %d; with lanying_im_runtime k3s it must be a node port from %d to "
                      "%d (the cluster's service-node-port-range)" % ((name, ports[name]) + NODE_PORT_RANGE))

    def instance(name, kind, host, image=None, routes=()):
        return {
            "name": name,
            "kind": kind,
            "host": host,
            "ports": {port: ports[port] for port in _INSTANCE_PORTS[kind]},
            "image": image,
            "routes": list(routes),
        }

    stateful = spec["stateful"]
    main_host = _stateful_host(stateful, "main", groups["im_app"])
    db_host = _stateful_host(stateful, "database", groups["im_db"])
    # The data tier and its exporters run on the first im_db host: the named one.
    groups["im_db"] = [db_host] + [host for host in groups["im_db"] if host != db_host]
    try:
        counts = worker_counts(spec["workers"], spec["federation"])
    except WorkerSpecError as err:
        _fail(str(err))
    workers = place_workers(counts, groups["im_app"], ports, spec["federation"])
    media_workers = [w for w in workers if w["worker_type"] == "media"]
    if stateful["media"] is not None:
        media_host = _stateful_host(stateful, "media", groups["im_app"])
        if not media_workers and media_host != main_host:
            _fail("lanying_im_topology.stateful.media is %r, but the workers preset runs no media worker: the main "
                  "process (on %s) keeps the media store; set stateful.media to %s, or choose workers with a "
                  "media worker" % (media_host, main_host, main_host))
        for worker in media_workers:
            worker["host"] = media_host
    media_host = media_workers[0]["host"] if media_workers else main_host
    for worker in workers:
        worker.update(image=spec["images"].get("synapse"), routes=[])
    instances = [instance("synapse-main", "main", main_host, spec["images"].get("synapse"), MAIN_ROUTES)]
    instances += workers
    instances += [instance("gateway-%s" % host, "gateway", host, spec["images"].get("gateway"))
                  for host in groups["im_gateway"]]
    instances += [instance("postgres", "postgres", db_host), instance("redis", "redis", db_host)]
    _check_instance_ports(instances)
    # What runs on the hosts themselves: on k3s, the data tier only (Synapse and the gateway are pods).
    host_instances = [i for i in instances if i["kind"] in ("postgres", "redis")] if nodes else instances
    context = Context(groups, host_instances, _listener_ports(ports, registry_port, k3s), nodes, k3s, media_host)
    where = placement(context)
    _check_backup_host(where, db_host, groups)
    found = listeners(context)
    entries = [found_entry[1] for found_entry in found]
    _check_port_clashes(entries, host_ports)
    if require_addresses:
        _check_addressed(entries, addresses)
    _check_families(entries, addresses)

    main = instances[0]
    synapse_processes = [i for i in instances if i["kind"] in ("main", "worker")]
    upstreams, worker_paths = worker_routes(workers, spec["federation"])
    for worker in workers:
        worker["routes"] = [r["path"] for r in worker_paths
                            if {"host": worker["host"], "port": worker["ports"]["client"]}
                            in upstreams[r["upstream"]]["servers"]]
    upstreams["main"] = {"servers": [{"host": main["host"], "port": main["ports"]["client"]}], "balance": None,
                         "fallback": None}
    public_host = baseurl.split("/")[2]
    if ":" not in public_host:
        public_host += ":443" if baseurl.startswith("https:") else ":80"
    well_known = {"client": {"m.homeserver": {"base_url": baseurl.rstrip("/")}}}
    if spec["federation"]:
        well_known["server"] = {"m.server": public_host}
    hosts = sorted(set(h for members in where.values() for h in members))
    return {
        "platform": True,
        "server_name": server_name,
        "runtime": runtime,
        # On k3s: the namespace of the platform's objects (its pods' logs on the nodes are named after it).
        "namespace": k3s["namespace"] if nodes else None,
        "placement": where,
        "roles": roles(where),
        # Where the platform's state lives; lanying.im.platform stops a run that would move it.
        "stateful": {"database": db_host, "main": CLUSTER if nodes else main_host,
                     "media": CLUSTER if nodes else media_host},
        "hosts": _hosts(hosts, where, with_addresses(entries, addresses), addresses),
        "listeners": with_addresses(entries, addresses),
        "public_baseurl": baseurl,
        "federation": spec["federation"],
        "max_upload_mb": spec["max_upload_mb"],
        "instances": instances,
        "workers": counts,
        "upstreams": upstreams,
        # Worker routes (regular expressions, in matching order) come before the main process's prefixes.
        "routes": worker_paths + [{"path": path, "match": "prefix", "upstream": "main", "admin": path in ADMIN_ROUTES}
                                  for path in MAIN_ROUTES],
        "synapse": synapse_settings(main, workers, spec["federation"]),
        "well_known": well_known,
        "database": {
            "host": db_host,
            "port": ports["postgres"],
            "name": spec["database_name"],
            "user": spec["database_user"],
            "clients": sorted(set(groups["im_app"])),
            # Each Synapse process keeps a pool of up to 10 connections (cp_max), plus room for
            # administration and monitoring; lanying.im.postgres sets max_connections above it.
            "connections_needed": 10 * len(synapse_processes) + 20,
        },
        "redis": {"host": db_host, "port": ports["redis"], "clients": sorted(set(groups["im_app"]))},
        "ports": dict(ports),
        "monitoring": {
            "prometheus": (groups.get("monitoring") or [None])[0],
            "scrape_jobs": scrape_jobs(found) + (
                pod_scrape_jobs(_api_address(k3s, where, addresses), k3s["namespace"])
                if nodes and groups.get("monitoring") else []),
        },
    }

# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the lanying.im collection: where each component runs, and every network listener.

``placement`` says which hosts run which component, from the inventory groups, once. ``listeners``
lists every port the platform opens on a host: which component, which address, and who may connect
(the hosts that are its clients, or everyone for the gateway's public ports). Roles bind to these
addresses, Prometheus scrapes them, and the host firewall opens exactly these ports to exactly these
clients.
"""

from __future__ import annotations

from ansible_collections.lanying.im.plugins.plugin_utils._monitoring import engine_hosts, all_hosts

LOOPBACK = "127.0.0.1"

# The ports a k3s node listens on besides its API (k3s_api_port): the kubelet, flannel's VXLAN (UDP) and,
# on servers, embedded etcd's client and peer ports.
K3S_PORTS = {"k3s_kubelet": 10250, "k3s_vxlan": 8472, "k3s_etcd_client": 2379, "k3s_etcd_peer": 2380}


def _unique(hosts):
    seen = set()
    return [h for h in hosts if not (h in seen or seen.add(h))]


def placement(groups, instances):
    """Return {component: [hosts]} for every component of the platform (empty lists included)."""
    db = groups["im_db"][:1]
    monitoring = list(groups.get("monitoring") or [])[:1]
    synapse_hosts = _unique(i["host"] for i in instances if i["kind"] in ("main", "worker"))
    build = (list(groups.get("im_build") or []) or groups["im_app"])[:1]
    return {
        "synapse": synapse_hosts,
        "gateway": list(groups["im_gateway"]),
        "postgres": db,
        "redis": db,
        "registry": list(groups.get("im_registry") or []),
        "docker": engine_hosts(groups),
        "build": build,
        "node_exporter": all_hosts(groups),
        "postgres_exporter": db,
        "redis_exporter": db,
        "nginx_exporter": list(groups["im_gateway"]),
        "prometheus": monitoring,
        "alertmanager": monitoring,
        "probe": list(groups["im_gateway"])[:1],
        # Every host ships its logs; the logging group receives them (or the user's own Elasticsearch).
        "log_shipper": all_hosts(groups),
        "log_receiver": list(groups.get("logging") or []),
        # The backups' repository host (lanying.im.backup): the first host of the backup group, if any;
        # pgBackRest runs there and on the database host.
        "backup_repository": list(groups.get("backup") or [])[:1],
        "backup": _unique(db + list(groups.get("backup") or [])[:1]),
        # A k3s cluster (lanying.im.k3s): its nodes' own listeners are part of the model.
        "k3s_server": list(groups.get("k3s_server") or []),
        "k3s_agent": [h for h in groups.get("k3s_agent") or [] if h not in (groups.get("k3s_server") or [])],
        # With lanying_im_runtime k3s (else empty): the cluster's servers and agents, which site.yml makes,
        # and the server that applies the chat platform's objects.
        "cluster_server": [],
        "cluster_agent": [],
        "chat_cluster": [],
    }


def _listener(component, name, host, port, clients=(), public=False, address=None, protocol="tcp", networks=()):
    entry = {
        "component": component,
        "name": name,
        "host": host,
        "address": address,
        "port": port,
        "protocol": protocol,
        # Same-host clients always get in over the loopback interface; they are left out here.
        "clients": sorted(set(c for c in clients if c != host)),
        "public": public,
    }
    if networks:
        # Clients known by network rather than by host (a cluster's pods).
        entry["networks"] = list(networks)
    return entry


def k3s_endpoints(where, api_port):
    """[(host, port name, port)] of the k3s nodes' TCP listeners, for the port clash check."""
    endpoints = []
    for host in where["k3s_server"]:
        endpoints += [(host, "k3s_api", api_port), (host, "k3s_etcd_client", K3S_PORTS["k3s_etcd_client"]),
                      (host, "k3s_etcd_peer", K3S_PORTS["k3s_etcd_peer"])]
    for host in where["k3s_server"] + where["k3s_agent"]:
        endpoints.append((host, "k3s_kubelet", K3S_PORTS["k3s_kubelet"]))
    return endpoints


def backup_endpoints(where, ports):
    """[(host, port name, port)] of the backups' TLS servers, for the port clash check."""
    endpoints = []
    for host in where["backup_repository"]:
        endpoints += [(host, "backup_server", ports["backup_server"]), (host, "backup_media", ports["backup_media"])]
        endpoints += [(db, "backup_server", ports["backup_server"]) for db in where["postgres"]]
    return endpoints


def listeners(instances, groups, ports, registry_port, where, k3s=None):
    """Return every listener of the platform, in a stable order.

    ``where`` is the result of ``placement``. Addresses are filled in by ``with_addresses``. ``k3s`` holds
    the cluster's API port and its pods' networks (``api_port``, ``pod_networks``).
    """
    monitoring = where["prometheus"]
    synapse_hosts = where["synapse"]
    found = []
    workers = any(i["kind"] == "worker" for i in instances)
    for i in instances:
        if i["kind"] in ("main", "worker"):
            # The gateway forwards clients' requests; nothing else talks to a process's client port.
            found.append(_listener(i["name"], "client", i["host"], i["ports"]["client"], where["gateway"]))
            if workers:
                # Synapse processes call one another's replication listeners (none without workers).
                found.append(_listener(i["name"], "replication", i["host"], i["ports"]["replication"], synapse_hosts))
            found.append(_listener(i["name"], "metrics", i["host"], i["ports"]["metrics"], monitoring))
        elif i["kind"] == "gateway":
            found += [
                _listener("gateway", "https", i["host"], i["ports"]["https"], public=True),
                _listener("gateway", "http", i["host"], i["ports"]["http"], public=True),
                # Read by the nginx exporter on the same host only.
                _listener("gateway", "status", i["host"], i["ports"]["gateway_status"], address=LOOPBACK),
            ]
        elif i["kind"] in ("postgres", "redis"):
            # The exporters run on the same host as the server.
            found.append(_listener(i["kind"], i["kind"], i["host"], i["ports"][i["kind"]], groups["im_app"]))
    cluster = where.get("cluster_server", []) + where.get("cluster_agent", [])
    for host in cluster:
        # With the platform on k3s: its load balancer (ServiceLB) answers the gateway's ports on every node.
        found += [_listener("gateway", "https", host, ports["https"], public=True),
                  _listener("gateway", "http", host, ports["http"], public=True)]
    for host in where["registry"]:
        # The engines pull and push; so do the cluster's nodes (containerd) with the platform on k3s.
        found.append(_listener("registry", "registry", host, registry_port, where["docker"] + cluster))
    exporters = [("node_exporter", "node_exporter"), ("postgres_exporter", "postgres_exporter"),
                 ("redis_exporter", "redis_exporter"), ("nginx_exporter", "nginx_exporter"),
                 ("registry", "registry_metrics"), ("docker", "docker_metrics"),
                 ("prometheus", "prometheus"), ("alertmanager", "alertmanager")]
    for component, port_name in exporters:
        for host in where[component]:
            # Alertmanager's client is Prometheus; Prometheus's are the operators, on its own host or
            # through an SSH tunnel unless the firewall is told otherwise.
            found.append(_listener(component, port_name, host, ports[port_name], monitoring))
    for host in where["log_receiver"]:
        # Every host's log shipper sends there.
        found.append(_listener("log_receiver", "logging", host, ports["logging"], where["log_shipper"]))
    for host in where["backup_repository"]:
        # pgBackRest's TLS servers call each other: the database host pushes WAL to the repository host,
        # which takes backups from the database host. The media store's host sends its snapshots; on k3s the
        # node that holds the media store's volume, which may be any node of the cluster.
        media_clients = where.get("media_store") or where.get("cluster_server", []) + where.get("cluster_agent", [])
        found.append(_listener("backup", "pgbackrest", host, ports["backup_server"], where["postgres"]))
        found.append(_listener("backup", "media", host, ports["backup_media"], media_clients))
        for db in where["postgres"]:
            found.append(_listener("backup", "pgbackrest", db, ports["backup_server"], [host]))
    servers = where["k3s_server"]
    nodes = servers + where["k3s_agent"]
    k3s = k3s or {"api_port": 6443, "pod_networks": []}
    # With the platform on the cluster, Prometheus finds and scrapes the pods through the API.
    api_clients = nodes + ([h for h in where["prometheus"] if h not in nodes] if where.get("cluster_server") else [])
    for host in servers:
        # Every node registers and talks to the API; pods reach it too (the kubernetes Service). Operators
        # come through a load balancer or firewall_allow.
        found.append(_listener("k3s", "api", host, k3s["api_port"], api_clients, networks=k3s["pod_networks"]))
        found.append(_listener("k3s", "etcd_client", host, K3S_PORTS["k3s_etcd_client"], servers))
        found.append(_listener("k3s", "etcd_peer", host, K3S_PORTS["k3s_etcd_peer"], servers))
    for host in nodes:
        # The API servers call each kubelet (logs, exec); so does metrics-server, from its pod.
        found.append(_listener("k3s", "kubelet", host, K3S_PORTS["k3s_kubelet"], servers,
                               networks=k3s["pod_networks"]))
        # Pod traffic between nodes, in flannel's VXLAN.
        found.append(_listener("k3s", "vxlan", host, K3S_PORTS["k3s_vxlan"], nodes, protocol="udp"))
    return found


def with_addresses(found, addresses):
    """Fill in each listener's address and its clients' addresses from ``addresses`` (host -> address)."""
    result = []
    for entry in found:
        entry = dict(entry)
        if entry["address"] is None:
            entry["address"] = addresses.get(entry["host"])
        entry["client_addresses"] = [addresses.get(c) for c in entry["clients"]] + entry.get("networks", [])
        result.append(entry)
    return result

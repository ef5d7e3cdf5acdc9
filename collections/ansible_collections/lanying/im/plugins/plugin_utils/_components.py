# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the lanying.im collection: the table of the platform's components.

Each entry of ``COMPONENTS`` says, for one component: the role that deploys it, where it runs (a rule
over the inventory groups and the placement of the components before it), and its network listeners:
port, protocol, who may connect, whether it speaks TLS and checks the metrics account, and the
Prometheus job that scrapes it, and on a cluster the pod it runs in. ``placement``, ``listeners``,
``scrape_jobs`` and ``pod_traffic`` read this table and nothing else: the port clash check, the host
firewall, Prometheus, the cluster's NetworkPolicies and the docs all follow from it, so a new component
is its role, its entry here and its check.
"""

from __future__ import annotations

import collections

LOOPBACK = "127.0.0.1"

# The ports a k3s node listens on besides its API (k3s_api_port): the kubelet, flannel's VXLAN (UDP) and,
# on servers, embedded etcd's client and peer ports.
K3S_PORTS = {"k3s_kubelet": 10250, "k3s_vxlan": 8472, "k3s_etcd_client": 2379, "k3s_etcd_peer": 2380}

# One network listener of a component, on each of its hosts (or on the hosts of ``on``).
#   name      the listener's name in the model (the firewall rule's comment, the clash message)
#   port      the key of its port number in the model's ports
#   clients   component names (their hosts may connect) or a rule (context -> hosts)
#   public    everyone may connect (the gateway's client networks decide)
#   loopback  bound to 127.0.0.1: only the same host connects, no firewall rule
#   pods      the cluster's pod networks may connect too
#   tls       serves TLS when lanying_im_metrics_tls asks for it; auth: checks the metrics account
#   job       the Prometheus job that scrapes it (None: not scraped), metrics_path its path
#   when      a rule (context -> bool): without it, the listener does not exist
#   on        a rule (context -> hosts) for a listener that is not on every host of its component
#   pod_clients  components whose pods (on a cluster) connect to it from inside the cluster
#   forwarded  the host rewrites the destination and forwards the packets to a pod (ServiceLB's host
#             ports, kube-proxy's node ports): nothing on the host listens, and the firewall filters the
#             port before the rewrite (True, or a rule: context -> bool)
Listener = collections.namedtuple(
    "Listener", "name port clients public loopback protocol pods tls auth job metrics_path when on pod_clients forwarded")
Listener.__new__.__defaults__ = ((), False, False, "tcp", False, False, False, None, None, None, None, (), False)

# role: the roles that deploy it (a name, a tuple of names, or None: none of its own); hosts: a rule
# (context -> hosts); listeners: on each host; per_process: listeners of each Synapse process on its host;
# pod: with the platform on a cluster, the pod it runs in (its NetworkPolicy admits these listeners).
Component = collections.namedtuple("Component", "name role hosts listeners per_process pod")
Component.__new__.__defaults__ = (None, (), (), None)


def _unique(hosts):
    seen = set()
    return [h for h in hosts if not (h in seen or seen.add(h))]


def all_hosts(groups):
    """Every host of the inventory, once, in a stable order."""
    hosts = list(groups.get("all") or [])
    for name in sorted(groups):
        if name not in ("all", "ungrouped"):
            hosts += groups[name]
    return _unique(hosts)


class Context(object):
    """What the table's rules read: the groups, the processes on hosts, the ports, the cluster."""

    def __init__(self, groups, instances, ports, nodes=(), k3s=None, media_host=None):
        self.groups = groups
        self.instances = instances
        self.ports = ports
        # With lanying_im_runtime k3s: the cluster's nodes, which run Synapse and the gateway ([] on Docker).
        self.nodes = list(nodes)
        self.k3s = k3s or {"api_port": 6443, "pod_networks": []}
        self.media_host = media_host
        self.where = {}

    def group(self, name):
        return list(self.groups.get(name) or [])

    def hosts(self, *components):
        return _unique(h for c in components for h in self.where.get(c, []))

    @property
    def on_cluster(self):
        return bool(self.nodes)

    @property
    def db(self):
        return self.group("im_db")[:1]

    @property
    def workers(self):
        return any(i["kind"] == "worker" for i in self.instances)

    @property
    def cluster_nodes(self):
        return self.hosts("cluster_server", "cluster_agent")


def _engines(c):
    if c.on_cluster:
        return c.group("im_build")[:1]
    return _unique(c.group("im_app") + c.group("im_build") + c.group("im_gateway"))


def _k3s_servers(c):
    return c.group("k3s_server")


def _k3s_agents(c):
    return [h for h in c.group("k3s_agent") if h not in c.group("k3s_server")]


def _media_clients(c):
    # The media store's host sends its snapshots; on k3s the node that holds its volume, which may be any.
    return c.hosts("media_store") or c.cluster_nodes


def _api_clients(c):
    # Every node registers and talks to the API; with the platform on the cluster, Prometheus finds and
    # scrapes the pods through it. Operators come through a load balancer or firewall_allow.
    nodes = c.hosts("k3s_server", "k3s_agent")
    return nodes + ([h for h in c.where["prometheus"] if h not in nodes] if c.on_cluster else [])


_SCRAPED = dict(clients=("prometheus",))

COMPONENTS = (
    # The Synapse processes (main and workers) on the hosts the model places them on. The gateway forwards
    # clients' requests; processes call one another's replication listeners once workers exist.
    Component("synapse", "lanying.im.synapse",
              lambda c: [] if c.on_cluster else _unique(i["host"] for i in c.instances if i["kind"] in ("main", "worker")),
              per_process=(
                  Listener("client", "client", clients=("gateway",)),
                  Listener("replication", "replication", clients=("synapse",), when=lambda c: c.workers),
                  Listener("metrics", "metrics", job="synapse", metrics_path="/_synapse/metrics", **_SCRAPED)),
              pod="synapse"),
    # The HTTP edge. With the platform on k3s, its load balancer (ServiceLB) answers the public ports on
    # every node, and kube-proxy the Service's node ports, both by forwarding to a gateway pod; the health
    # check node port (kube-proxy's own, for an outside load balancer) has no client of its own. The status
    # page is read by the nginx exporter on the same host only.
    Component("gateway", "lanying.im.gateway", lambda c: [] if c.on_cluster else c.group("im_gateway"), (
        Listener("https", "https", public=True, on=lambda c: c.hosts("gateway", "cluster_server", "cluster_agent"),
                 forwarded=lambda c: c.on_cluster),
        Listener("http", "http", public=True, on=lambda c: c.hosts("gateway", "cluster_server", "cluster_agent"),
                 forwarded=lambda c: c.on_cluster),
        Listener("https_node_port", "gateway_node_https", public=True, on=lambda c: c.cluster_nodes, forwarded=True,
                 when=lambda c: c.on_cluster),
        Listener("http_node_port", "gateway_node_http", public=True, on=lambda c: c.cluster_nodes, forwarded=True,
                 when=lambda c: c.on_cluster),
        Listener("health_node_port", "gateway_node_health", on=lambda c: c.cluster_nodes, when=lambda c: c.on_cluster),
        Listener("status", "gateway_status", loopback=True)), pod="gateway"),
    # The data tier, on the first im_db host (the named one); every im_app host (on k3s: every node, whose
    # address the pods' traffic leaves from) is a client.
    Component("postgres", "lanying.im.postgres", lambda c: c.db, (
        Listener("postgres", "postgres", clients=lambda c: c.group("im_app"), pod_clients=("synapse",)),)),
    Component("redis", "lanying.im.redis", lambda c: c.db, (
        Listener("redis", "redis", clients=lambda c: c.group("im_app"), pod_clients=("synapse",)),)),
    # The engines pull and push; so do the cluster's nodes (containerd) with the platform on k3s.
    Component("docker", "lanying.im.docker", _engines, (
        Listener("docker_metrics", "docker_metrics", job="docker", **_SCRAPED),)),
    Component("registry", "lanying.im.registry", lambda c: c.group("im_registry"), (
        Listener("registry", "registry", clients=lambda c: c.hosts("docker", "cluster_server", "cluster_agent")),
        Listener("registry_metrics", "registry_metrics", job="registry", **_SCRAPED))),
    # The host that builds the platform's images: the first im_build host, else the first im_app host.
    Component("build", "lanying.im.images",
              lambda c: c.group("im_build")[:1] if c.on_cluster else (c.group("im_build") or c.group("im_app"))[:1]),
    Component("node_exporter", "lanying.im.node_exporter", lambda c: all_hosts(c.groups), (
        Listener("node_exporter", "node_exporter", tls=True, auth=True, job="node", **_SCRAPED),)),
    Component("postgres_exporter", "lanying.im.postgres_exporter", lambda c: c.db, (
        Listener("postgres_exporter", "postgres_exporter", tls=True, auth=True, job="postgres", **_SCRAPED),)),
    Component("redis_exporter", "lanying.im.redis_exporter", lambda c: c.db, (
        Listener("redis_exporter", "redis_exporter", tls=True, job="redis", **_SCRAPED),)),
    # On a cluster, a container of the gateway's pod.
    Component("nginx_exporter", "lanying.im.nginx_exporter", lambda c: c.hosts("gateway"), (
        Listener("nginx_exporter", "nginx_exporter", tls=True, job="nginx", **_SCRAPED),), pod="gateway"),
    # Prometheus scrapes its own host over the loopback interface; its other clients are the operators,
    # through an SSH tunnel unless firewall_allow opens it.
    Component("prometheus", "lanying.im.prometheus", lambda c: c.group("monitoring")[:1], (
        Listener("prometheus", "prometheus", tls=True, auth=True, job="prometheus", **_SCRAPED),)),
    Component("alertmanager", "lanying.im.alertmanager", lambda c: c.group("monitoring")[:1], (
        Listener("alertmanager", "alertmanager", tls=True, auth=True, job="alertmanager", **_SCRAPED),)),
    # The delivery probe is a client of the gateway: on k3s from outside the cluster where there is a
    # monitoring host, as the users are, else on the first server.
    Component("probe", "lanying.im.probe",
              lambda c: (c.group("monitoring") or c.group("k3s_server"))[:1] if c.on_cluster else c.hosts("gateway")[:1]),
    # Every host ships its logs; the logging group receives them (or the user's own Elasticsearch).
    Component("log_shipper", "lanying.im.log_shipper", lambda c: all_hosts(c.groups)),
    Component("log_receiver", None, lambda c: c.group("logging"), (
        Listener("logging", "logging", clients=("log_shipper",)),)),
    # The hosts that may have run Synapse processes (im_app): where the ones the model no longer places are
    # removed, once the gateway stopped sending them requests.
    Component("chat_hosts", None, lambda c: [] if c.on_cluster else c.group("im_app")),
    # The host whose media store the backups keep: the media worker's (or the main process's) host; on
    # k3s a volume of the cluster.
    Component("media_store", None, lambda c: [] if c.on_cluster else [c.media_host]),
    # pgBackRest on the database host and, with a backup group, its repository host (the first of the
    # group), where pgBackRest's TLS servers call each other and rclone keeps the media store's snapshots.
    Component("backup_repository", None, lambda c: c.group("backup")[:1], (
        Listener("pgbackrest", "backup_server", clients=("postgres",)),
        Listener("media", "backup_media", clients=_media_clients))),
    Component("backup", "lanying.im.backup", lambda c: _unique(c.db + c.group("backup")[:1]), (
        Listener("pgbackrest", "backup_server", clients=("backup_repository",),
                 on=lambda c: c.hosts("postgres") if c.where["backup_repository"] else []),)),
    # A k3s cluster (lanying.im.k3s): its nodes' own listeners. The API servers call each kubelet (logs,
    # exec), so does metrics-server from its pod; pod traffic between nodes goes in flannel's VXLAN.
    Component("k3s_server", None, _k3s_servers, (
        Listener("api", "k3s_api", clients=_api_clients, pods=True),
        Listener("etcd_client", "k3s_etcd_client", clients=("k3s_server",)),
        Listener("etcd_peer", "k3s_etcd_peer", clients=("k3s_server",)),
        Listener("kubelet", "k3s_kubelet", clients=("k3s_server",), pods=True),
        Listener("vxlan", "k3s_vxlan", clients=("k3s_server", "k3s_agent"), protocol="udp"))),
    Component("k3s_agent", None, _k3s_agents, (
        Listener("kubelet", "k3s_kubelet", clients=("k3s_server",), pods=True),
        Listener("vxlan", "k3s_vxlan", clients=("k3s_server", "k3s_agent"), protocol="udp"))),
    # With lanying_im_runtime k3s (else empty): the cluster's servers and agents, which site.yml makes,
    # and the server that applies the chat platform's objects.
    Component("cluster_server", "lanying.im.k3s", lambda c: c.group("k3s_server") if c.on_cluster else []),
    Component("cluster_agent", "lanying.im.k3s", lambda c: _k3s_agents(c) if c.on_cluster else []),
    Component("chat_cluster", ("lanying.im.synapse", "lanying.im.gateway"),
              lambda c: c.group("k3s_server")[:1] if c.on_cluster else []),
)

# The component of each listener's entry in the model: k3s's servers and agents share one name.
_LISTENER_COMPONENT = {"k3s_server": "k3s", "k3s_agent": "k3s", "backup_repository": "backup"}


def _hosts(rule, context):
    if callable(rule):
        return list(rule(context))
    return context.hosts(*rule)


def placement(context):
    """Return {component: [hosts]} for every component of the table (empty lists included)."""
    for component in COMPONENTS:
        context.where[component.name] = [h for h in component.hosts(context) if h is not None]
    return dict(context.where)


def roles(where):
    """{role: [hosts]} of every role that runs on some host, from ``placement``'s result."""
    found = collections.OrderedDict()
    for component in COMPONENTS:
        names = component.role if isinstance(component.role, tuple) else (component.role,) if component.role else ()
        for name in names:
            found[name] = _unique(found.get(name, []) + where.get(component.name, []))
    return dict((name, hosts) for name, hosts in found.items() if hosts)


def _entry(component, listener, host, port, context):
    clients = _hosts(listener.clients, context) if not (listener.public or listener.loopback) else []
    entry = {
        "component": component,
        "name": listener.name,
        "host": host,
        "address": LOOPBACK if listener.loopback else None,
        "port": port,
        "protocol": listener.protocol,
        # Same-host clients always get in over the loopback interface; they are left out here.
        "clients": sorted(set(c for c in clients if c != host)),
        "public": listener.public,
        "forwarded": bool(listener.forwarded(context) if callable(listener.forwarded) else listener.forwarded),
    }
    if listener.pods and context.k3s["pod_networks"]:
        # Clients known by network rather than by host (a cluster's pods).
        entry["networks"] = list(context.k3s["pod_networks"])
    return entry


def listeners(context):
    """Return [(listener, entry, labels)] for every listener of the platform, the Synapse processes' first.

    Needs ``placement`` first. ``entry`` is the listener as the model lists it (its address is filled in by
    ``with_addresses``); ``labels`` are its scrape target's labels.
    """
    found = []
    for component in COMPONENTS:
        for listener in component.per_process:
            if listener.when and not listener.when(context):
                continue
            for i in context.instances:
                if i["kind"] in ("main", "worker") and i["host"] in context.where[component.name]:
                    labels = {"process": i["name"], "worker_type": i.get("worker_type", "main")}
                    found.append((listener, _entry(i["name"], listener, i["host"], i["ports"][listener.port], context),
                                  labels))
    for component in COMPONENTS:
        name = _LISTENER_COMPONENT.get(component.name, component.name)
        for listener in component.listeners:
            if listener.when and not listener.when(context):
                continue
            hosts = listener.on(context) if listener.on else context.where[component.name]
            found += [(listener, _entry(name, listener, host, context.ports[listener.port], context), {})
                      for host in hosts]
    return found


def scrape_jobs(found):
    """The scrape jobs of ``listeners``' result, in the table's order.

    [{name, tls, auth, metrics_path (if not /metrics), targets: [{host, port, labels}]}]; tls means the
    endpoint serves TLS when the platform asks for it (lanying_im_metrics_tls), auth that it also checks the
    metrics account.
    """
    jobs = collections.OrderedDict()
    for listener, entry, labels in found:
        if listener.job is None:
            continue
        job = jobs.setdefault(listener.job, dict({"name": listener.job, "tls": listener.tls, "auth": listener.auth,
                                                  "targets": []},
                                                 **({"metrics_path": listener.metrics_path}
                                                    if listener.metrics_path else {})))
        job["targets"].append({"host": entry["host"], "port": entry["port"], "labels": labels})
    return list(jobs.values())


def pod_traffic(context):
    """What the cluster's NetworkPolicies admit, from the table: [(pod, direction, peer, port key)].

    For every listener of a component that runs in a pod: ``ingress`` from each client, a peer that is
    ``{"pod": name}`` (a component in a pod), ``{"component": name}`` (outside the cluster) or
    ``{"public": True}``; and ``egress`` of each client's pod to it. For a listener outside the cluster
    that pods call (``pod_clients``): ``egress`` of those pods to ``{"component": name}``. Loopback
    listeners and those whose ``when`` is false are left out. ``context`` needs only the processes.
    """
    pods = dict((c.name, c.pod) for c in COMPONENTS if c.pod)
    found = []
    for component in COMPONENTS:
        for listener in component.per_process + component.listeners:
            if listener.loopback or (listener.when and not listener.when(context)):
                continue
            if component.pod:
                if listener.public:
                    found.append((component.pod, "ingress", {"public": True}, listener.port))
                for client in listener.clients if not callable(listener.clients) else ():
                    if client in pods:
                        found.append((component.pod, "ingress", {"pod": pods[client]}, listener.port))
                        found.append((pods[client], "egress", {"pod": component.pod}, listener.port))
                    else:
                        found.append((component.pod, "ingress", {"component": client}, listener.port))
            else:
                found += [(pods[client], "egress", {"component": component.name}, listener.port)
                          for client in listener.pod_clients]
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

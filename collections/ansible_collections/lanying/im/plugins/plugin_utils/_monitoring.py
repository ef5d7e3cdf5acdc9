# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the lanying.im collection: what Prometheus scrapes, derived from the deployment model.

Every scrape job lists its targets as (host, port, labels); roles turn hosts into addresses. Adding a
host to a group or a worker to the spec adds its targets here, and nowhere else.
"""

from __future__ import annotations

# Default ports of the monitoring endpoints (the exporters' registered defaults where one exists).
MONITORING_PORTS = {
    "node_exporter": 9100,
    "postgres_exporter": 9187,
    "redis_exporter": 9121,
    "nginx_exporter": 9113,
    "registry_metrics": 5001,  # the registry's debug listener
    "docker_metrics": 9323,  # the Docker engine's own metrics
    "prometheus": 9090,
    "alertmanager": 9093,
}


def all_hosts(groups):
    """Every host of the inventory, once, in a stable order."""
    hosts = list(groups.get("all") or [])
    for name in sorted(groups):
        if name not in ("all", "ungrouped"):
            hosts += groups[name]
    seen = set()
    return [h for h in hosts if not (h in seen or seen.add(h))]


def engine_hosts(groups):
    """The hosts that run a container engine: im_app, im_build and im_gateway."""
    hosts = []
    for name in ("im_app", "im_build", "im_gateway"):
        hosts += [h for h in groups.get(name, []) if h not in hosts]
    return hosts


def monitoring_endpoints(groups, ports):
    """Return [(host, port name, port)] of every monitoring and logging listener, for the port clash check."""
    endpoints = [(host, "node_exporter", ports["node_exporter"]) for host in all_hosts(groups)]
    db = groups["im_db"][:1]
    endpoints += [(host, "postgres_exporter", ports["postgres_exporter"]) for host in db]
    endpoints += [(host, "redis_exporter", ports["redis_exporter"]) for host in db]
    endpoints += [(host, "nginx_exporter", ports["nginx_exporter"]) for host in groups["im_gateway"]]
    endpoints += [(host, "registry_metrics", ports["registry_metrics"]) for host in groups.get("im_registry", [])]
    endpoints += [(host, "docker_metrics", ports["docker_metrics"]) for host in engine_hosts(groups)]
    for host in groups.get("monitoring", [])[:1]:
        endpoints += [(host, "prometheus", ports["prometheus"]), (host, "alertmanager", ports["alertmanager"])]
    endpoints += [(host, "logging", ports["logging"]) for host in groups.get("logging", [])]
    return endpoints


def _target(host, port, **labels):
    return {"host": host, "port": port, "labels": labels}


def scrape_jobs(instances, groups, ports):
    """Return the scrape jobs, in a stable order: [{name, targets: [{host, port, labels}]}]."""
    synapse = [i for i in instances if i["kind"] in ("main", "worker")]
    by_name = {}
    for host, port_name, port in monitoring_endpoints(groups, ports):
        by_name.setdefault(port_name, []).append(_target(host, port))
    jobs = [
        ("node", by_name.get("node_exporter", [])),
        ("synapse", [_target(i["host"], i["ports"]["metrics"], process=i["name"],
                             worker_type=i.get("worker_type", "main")) for i in synapse]),
        ("postgres", by_name.get("postgres_exporter", [])),
        ("redis", by_name.get("redis_exporter", [])),
        ("nginx", by_name.get("nginx_exporter", [])),
        ("registry", by_name.get("registry_metrics", [])),
        ("docker", by_name.get("docker_metrics", [])),
        ("prometheus", by_name.get("prometheus", [])),
        ("alertmanager", by_name.get("alertmanager", [])),
    ]
    return [{"name": name, "targets": targets} for name, targets in jobs if targets]


# The pods' labels the k3s objects set (lanying.im.plugins.plugin_utils._k8s).
SYNAPSE_POD_SELECTOR = "app.kubernetes.io/part-of=lanying-im,app.kubernetes.io/name=synapse"
GATEWAY_POD_SELECTOR = "app.kubernetes.io/part-of=lanying-im,app.kubernetes.io/name=gateway"


def pod_scrape_jobs(api_server, namespace):
    """The jobs of the platform on k3s whose targets are pods, found and scraped through the cluster's API.

    Pod addresses are reachable from the cluster's nodes only; Prometheus, outside the cluster, lists the
    pods of ``namespace`` at ``api_server`` (host:port) and reads each one's port named ``port_name``
    through the API server's pod proxy, with the token of a ServiceAccount that may do only that
    (``token_secret``): the Synapse processes' metrics, and the gateway's from its exporter container.
    """
    access = {"api_server": api_server, "namespace": namespace, "port_name": "metrics",
              "service_account": "prometheus", "token_secret": "prometheus-token"}
    return [
        {"name": "synapse", "targets": [],
         "kubernetes": dict(access, selector=SYNAPSE_POD_SELECTOR, metrics_path="/_synapse/metrics")},
        {"name": "nginx", "targets": [],
         "kubernetes": dict(access, selector=GATEWAY_POD_SELECTOR, metrics_path="/metrics")},
    ]

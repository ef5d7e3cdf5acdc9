# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the lanying.im collection: the monitoring ports' defaults, and Prometheus's jobs of pods.

The jobs of the hosts' listeners come from the component table (``_components``); this module adds those
whose targets are the platform's pods on a k3s cluster.
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

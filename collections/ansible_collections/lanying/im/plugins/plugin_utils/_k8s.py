# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The chat platform as Kubernetes objects, from the deployment model (private to this collection).

``k8s_model`` turns the model of the Docker runtime (``_topology.build_topology``) into the same model
for a cluster: every Synapse process is reached at a Service instead of a host address, every process
listens on the model's standard ports (each pod has its own address), and the sync and client-reader
workers of one type become one scaled unit. The Synapse and gateway templates render their files from
it unchanged, so both runtimes run the same processes with the same routes and settings.

``k8s_objects`` takes that model, the rendered files and a few cluster settings and returns the objects:
Namespace, Secrets, ConfigMaps, one Deployment per Synapse unit (named writers: one replica, Recreate;
sync and client readers: replicas, RollingUpdate without unavailability, PodDisruptionBudget, optional
HorizontalPodAutoscaler), a Service per unit, the media store's PersistentVolumeClaim, the gateway as a
Deployment behind a LoadBalancer Service, and NetworkPolicies that allow what the host firewall allows.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import json
import re

from ansible_collections.lanying.im.plugins.plugin_utils._components import Context, pod_traffic
from ansible_collections.lanying.im.plugins.plugin_utils._monitoring import pod_scrape_jobs
from ansible_collections.lanying.im.plugins.plugin_utils._workers import synapse_settings

# Worker types whose processes are interchangeable: one Deployment with replicas (the others are named
# in Synapse's settings and run as exactly one pod each).
SCALABLE = ("sync", "client_reader")

PART_OF = "lanying-im"
SYNAPSE_PYTHON = "/opt/synapse/bin/python"
CONFIG_MOUNT = "/config"
DATA_MOUNT = "/data"
# Where a scaled worker's process file is written at start, with its pod name as worker_name.
RUN_MOUNT = "/run/synapse"
POD_NAME_MARK = "@POD_NAME@"

# Requests and limits per unit kind: memory limited, CPU requested but not capped (a capped Synapse
# stalls its event loop under load instead of using an idle core).
DEFAULT_RESOURCES = {
    "main": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}},
    "sync": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "768Mi"}},
    "client_reader": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "768Mi"}},
    "media": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
    "worker": {"requests": {"cpu": "50m", "memory": "192Mi"}, "limits": {"memory": "512Mi"}},
    "gateway": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
    "gateway_exporter": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
}

# The gateway's metrics exporter (Debian's prometheus-nginx-exporter, in the gateway image) runs beside
# nginx in its pod as an unprivileged user and reads nginx's connection counters on the pod's loopback.
GATEWAY_EXPORTER = "/usr/bin/prometheus-nginx-exporter"
NOBODY = 65534

GATEWAY_CAPABILITIES = ["CHOWN", "NET_BIND_SERVICE", "SETGID", "SETUID"]
# Where nginx writes in its pod (the rest of the image is read-only): responses buffered to disk (media, on
# the node's disk), its pid and the log it opens before it reads its configuration (in memory, small).
GATEWAY_WRITABLE = [("nginx-temp", "/var/lib/nginx", {}),
                    ("nginx-run", "/run", {"medium": "Memory", "sizeLimit": "1Mi"}),
                    ("nginx-log", "/var/log/nginx", {"medium": "Memory", "sizeLimit": "1Mi"})]

DEFAULT_SETTINGS = {
    "namespace": "lanying-im",
    "images": {},
    "synapse_files": {},
    "synapse_secret_files": {},
    "gateway_files": {},
    "gateway_tls": {},
    "autoscale_max": 4,
    "autoscale_cpu_percent": 70,
    "gateway_replicas": None,
    "resources": {},
    "media_size": "10Gi",
    "storage_class": None,
    "synapse_uid": 991,
    "database_addresses": [],
    # Prometheus outside the cluster scrapes the Synapse and gateway pods through the API server's pod proxy: a
    # ServiceAccount that may only list the namespace's pods and use their proxy, and the metrics port
    # open to where the API server's connections come from - the nodes' addresses (metrics_from) and, per
    # node, its pod network's first two addresses (flannel's VXLAN interface and the pods' bridge).
    "prometheus_access": False,
    "metrics_from": [],
    "node_pod_networks": [],
    # Where Synapse may open HTTPS (push gateways; with federation, other homeservers, also on 8448): the
    # internet, not the private, shared, link-local (a cloud's metadata service) and loopback networks.
    "synapse_egress": [{"cidr": "0.0.0.0/0",
                        "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
                                   "127.0.0.0/8"]}],
}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$")


class K8sError(ValueError):
    """Settings the cluster objects cannot be made from."""


def unit_name(instance):
    """The Deployment and Service of a Synapse process: its own name, or its worker type's for SCALABLE."""
    if instance.get("worker_type") in SCALABLE:
        return "synapse-%s" % instance["worker_type"].replace("_", "-")
    return instance["name"]


def service_host(name, namespace, cluster_domain="cluster.local"):
    return "%s.%s.svc.%s" % (name, namespace, cluster_domain)


def k8s_model(model, namespace="lanying-im", cluster_domain="cluster.local", autoscale=False):
    """The model of the Docker runtime, with every Synapse process reached at its unit's Service.

    A scaled unit (sync, client readers) is a StatefulSet with a Service per pod unless ``autoscale``: the
    gateway keeps hashing each user (or room) to one pod, as it hashes to one process on Docker hosts.
    With ``autoscale`` it is a Deployment behind one Service, which the HorizontalPodAutoscaler resizes;
    the gateway then reaches the pods through that Service and the per-user affinity is given up.
    """
    if not isinstance(namespace, str) or not _DNS_LABEL.match(namespace):
        raise K8sError("k3s namespace is %r; it must be a DNS label: lower-case letters, digits and '-', "
                       "at most 63, starting and ending with a letter or digit" % (namespace,))
    result = copy.deepcopy(model)
    ports = model["ports"]
    standard = {"client": ports["client"], "replication": ports["replication"], "metrics": ports["metrics"]}
    hosts = {host: dict(entry) for host, entry in model["hosts"].items()
             if host in (model["database"]["host"], model["redis"]["host"])}
    instances, seen = [], {}
    for instance in result["instances"]:
        if instance["kind"] not in ("main", "worker"):
            continue
        unit = unit_name(instance)
        host = service_host(unit, namespace, cluster_domain)
        hosts[host] = {"address": host, "components": ["synapse"]}
        if unit in seen:
            seen[unit]["replicas"] += 1
            continue
        instance = dict(instance, host=host, ports=dict(standard), unit=unit, replicas=1)
        if instance.get("worker_type") in SCALABLE:
            # Each pod names itself: the process file carries a mark replaced by the pod name at start.
            instance.update(name=unit, worker_name=POD_NAME_MARK, sticky=not autoscale)
        seen[unit] = instance
        instances.append(instance)
    for instance in instances:
        if instance.get("sticky"):
            # StatefulSet pods are <unit>-0, <unit>-1...; each has a Service of its own name.
            instance["pods"] = ["%s-%d" % (instance["unit"], n) for n in range(instance["replicas"])]
            for pod in instance["pods"]:
                host = service_host(pod, namespace, cluster_domain)
                hosts[host] = {"address": host, "components": ["synapse"]}
    main = instances[0]
    workers = [i for i in instances if i["kind"] == "worker"]
    result["instances"] = instances
    result["hosts"] = hosts
    result["synapse"] = synapse_settings(main, workers, model["federation"])
    for upstream in result["upstreams"].values():
        servers = []
        for server in upstream["servers"]:
            owner = next(i for i in model["instances"] if i["kind"] in ("main", "worker")
                         and i["host"] == server["host"] and i["ports"]["client"] == server["port"])
            unit = seen[unit_name(owner)]
            for name in unit.get("pods") or [unit["unit"]]:
                target = {"host": service_host(name, namespace, cluster_domain), "port": ports["client"]}
                if target not in servers:
                    servers.append(target)
        upstream["servers"] = servers
    # The gateway's Deployment; Kubernetes needs no per-host gateway.
    result["gateway"] = {"name": "gateway", "kind": "gateway",
                         "ports": {p: ports[p] for p in ("https", "http", "gateway_status")},
                         "image": next((i["image"] for i in model["instances"] if i["kind"] == "gateway"), None),
                         "replicas": max(1, len([i for i in model["instances"] if i["kind"] == "gateway"]))}
    result["runtime"] = "k3s"
    result["autoscale"] = bool(autoscale)
    result["namespace"] = namespace
    result["listeners"] = []
    return result


def _settings(settings):
    if not isinstance(settings, dict):
        raise K8sError("k3s objects: expected a mapping of settings, got %s" % type(settings).__name__)
    unknown = sorted(set(settings) - set(DEFAULT_SETTINGS))
    if unknown:
        raise K8sError("k3s objects: unknown setting %r; known: %s" % (unknown[0], ", ".join(sorted(DEFAULT_SETTINGS))))
    merged = dict(DEFAULT_SETTINGS)
    merged.update({k: v for k, v in settings.items() if v is not None})
    for key in ("autoscale_max", "autoscale_cpu_percent", "synapse_uid"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise K8sError("k3s_%s is %r; it must be a whole number, 1 or more" % (key, value))
    if merged["gateway_replicas"] is not None and (isinstance(merged["gateway_replicas"], bool)
                                                   or not isinstance(merged["gateway_replicas"], int)
                                                   or merged["gateway_replicas"] < 1):
        raise K8sError("k3s_gateway_replicas is %r; it must be a whole number, 1 or more, or null for one per "
                       "im_gateway host" % (merged["gateway_replicas"],))
    if not isinstance(merged["media_size"], str) or not _QUANTITY.match(merged["media_size"]):
        raise K8sError("k3s_media_size is %r; it must be a Kubernetes quantity such as 10Gi" % (merged["media_size"],))
    resources = copy.deepcopy(DEFAULT_RESOURCES)
    if not isinstance(merged["resources"], dict):
        raise K8sError("k3s_resources: expected a mapping of unit kind to requests and limits, got %r"
                       % (merged["resources"],))
    for kind, given in sorted(merged["resources"].items()):
        if kind not in resources:
            raise K8sError("k3s_resources: unknown kind %r; kinds: %s" % (kind, ", ".join(sorted(resources))))
        if not isinstance(given, dict) or set(given) - {"requests", "limits"}:
            raise K8sError("k3s_resources.%s must be a mapping with requests and/or limits, got %r" % (kind, given))
        for part, amounts in given.items():
            if not isinstance(amounts, dict) or set(amounts) - {"cpu", "memory"}:
                raise K8sError("k3s_resources.%s.%s must map cpu and/or memory to a quantity, got %r"
                               % (kind, part, amounts))
            for name, amount in amounts.items():
                if not isinstance(amount, str) or not _QUANTITY.match(amount):
                    raise K8sError("k3s_resources.%s.%s.%s is %r; it must be a Kubernetes quantity such as "
                                   "250m or 512Mi (as a string)" % (kind, part, name, amount))
            resources[kind][part] = dict(amounts)
    merged["resources"] = resources
    merged["synapse_egress"] = _egress(merged["synapse_egress"])
    return merged


def _egress(blocks):
    """k3s_synapse_egress: a list of {cidr, except} network blocks, each exception inside its block."""
    if not isinstance(blocks, list):
        raise K8sError("k3s_synapse_egress: expected a list of {cidr, except} blocks, got %r" % (blocks,))
    found = []
    for block in blocks:
        if not isinstance(block, dict) or "cidr" not in block or set(block) - {"cidr", "except"}:
            raise K8sError("k3s_synapse_egress: each entry is {cidr: <network>, except: [<network>, ...]}, got %r"
                           % (block,))
        try:
            network = ipaddress.ip_network(str(block["cidr"]), strict=True)
            excepted = [ipaddress.ip_network(str(e), strict=True) for e in block.get("except") or []]
        except ValueError as error:
            raise K8sError("k3s_synapse_egress: %s in %r (networks in CIDR form, host bits zero)" % (error, block))
        outside = [str(e) for e in excepted if e.version != network.version or not e.subnet_of(network)]
        if outside:
            raise K8sError("k3s_synapse_egress: the exceptions %s are not inside %s" % (", ".join(outside), network))
        found.append(dict({"cidr": str(network)}, **({"except": [str(e) for e in excepted]} if excepted else {})))
    return found


def _digest(*parts):
    """A digest of files, for a pod template annotation: new files, new pods (a rolling update)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _labels(component, unit, kind=None, worker_type=None):
    labels = {"app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/name": component,
              "app.kubernetes.io/instance": unit}
    if kind:
        labels["lanying.im/kind"] = kind
    if worker_type:
        labels["lanying.im/worker-type"] = worker_type.replace("_", "-")
    return labels


def _meta(name, namespace, labels=None):
    meta = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return meta


def _container_security(uid):
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
            "runAsUser": uid, "runAsGroup": uid, "capabilities": {"drop": ["ALL"]}}


def _synapse_pod(instance, settings, config_map, secret, media_claim):
    app = instance.get("worker_app", "synapse.app.homeserver")
    ports = instance["ports"]
    process_file = "%s/%s.yaml" % (CONFIG_MOUNT, instance["name"])
    # The settings and the credentials in one directory, as on a Docker host: the same paths in every file.
    sources = [{"configMap": {"name": config_map}}, {"secret": {"name": secret}}]
    volumes = [{"name": "config", "projected": {"defaultMode": 0o440, "sources": sources}},
               {"name": "tmp", "emptyDir": {}}]
    mounts = [{"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True},
              {"name": "tmp", "mountPath": "/tmp"}]
    args = ["--config-path=%s/homeserver.yaml" % CONFIG_MOUNT, "--config-path=%s/secrets.yaml" % CONFIG_MOUNT]
    env = []
    if instance.get("worker_name") == POD_NAME_MARK:
        # worker_name must be unique per process: the pod's name, written into a copy of the file.
        volumes.append({"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}})
        mounts.append({"name": "run", "mountPath": RUN_MOUNT})
        env.append({"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
        command = ["/bin/sh", "-c",
                   'sed "s/%s/$POD_NAME/" %s > %s/process.yaml && exec %s -m %s "$@"'
                   % (POD_NAME_MARK, process_file, RUN_MOUNT, SYNAPSE_PYTHON, app), "synapse"]
        args.append("--config-path=%s/process.yaml" % RUN_MOUNT)
    else:
        command = [SYNAPSE_PYTHON, "-m", app]
        args.append("--config-path=%s" % process_file)
    if media_claim:
        volumes.append({"name": "media", "persistentVolumeClaim": {"claimName": media_claim}})
        mounts.append({"name": "media", "mountPath": DATA_MOUNT})
    probe = {"httpGet": {"path": "/health", "port": "client"}, "periodSeconds": 5, "timeoutSeconds": 4}
    container = {
        "name": "synapse",
        "image": settings["images"]["synapse"],
        "command": command,
        "args": args,
        "ports": [{"name": "client", "containerPort": ports["client"], "protocol": "TCP"},
                  {"name": "replication", "containerPort": ports["replication"], "protocol": "TCP"},
                  {"name": "metrics", "containerPort": ports["metrics"], "protocol": "TCP"}],
        # Migrations on the first start of a new version can take minutes: startup allows 10.
        "startupProbe": dict(probe, failureThreshold=120),
        "readinessProbe": dict(probe, failureThreshold=2),
        "livenessProbe": dict(probe, periodSeconds=15, failureThreshold=4),
        "resources": settings["resources"][_resource_kind(instance)],
        "securityContext": _container_security(settings["synapse_uid"]),
        "volumeMounts": mounts,
    }
    if env:
        container["env"] = env
    return {
        "securityContext": {"fsGroup": settings["synapse_uid"], "seccompProfile": {"type": "RuntimeDefault"}},
        "enableServiceLinks": False,
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": 30,
        "containers": [container],
        "volumes": volumes,
    }


def _resource_kind(instance):
    if instance["kind"] == "main":
        return "main"
    if instance["worker_type"] in ("sync", "client_reader", "media"):
        return instance["worker_type"]
    return "worker"


def _service(name, namespace, labels, ports, service_type="ClusterIP", node_ports=None, **extra):
    """A Service; ``node_ports`` ({port name: number}) fixes the node ports of a LoadBalancer or NodePort one."""
    node_ports = node_ports or {}
    spec = {"type": service_type, "selector": {"app.kubernetes.io/part-of": PART_OF,
                                               "app.kubernetes.io/instance": labels["app.kubernetes.io/instance"]},
            "ports": [dict({"name": port, "port": number, "targetPort": port, "protocol": "TCP"},
                           **({"nodePort": node_ports[port]} if port in node_ports else {}))
                      for port, number in ports]}
    spec.update(extra)
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, namespace, labels), "spec": spec}


def _peer(component):
    return {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": PART_OF,
                                            "app.kubernetes.io/name": component}}}


def _blocks(addresses):
    return [{"ipBlock": {"cidr": address if "/" in address else "%s/32" % address}} for address in addresses]


def _tcp(*numbers):
    return [{"protocol": "TCP", "port": number} for number in numbers]


def _metrics_sources(settings):
    """Where the API server's connections to the pods come from (see DEFAULT_SETTINGS)."""
    sources = [str(address) for address in settings["metrics_from"]]
    for network in settings["node_pod_networks"]:
        try:
            parsed = ipaddress.ip_network(str(network), strict=False)
        except ValueError:
            raise K8sError("k3s objects: node_pod_networks names %r, which is not a network such as 10.42.1.0/24"
                           % (network,))
        sources += [str(parsed.network_address), str(parsed.network_address + 1)]
    if not sources:
        raise K8sError("k3s objects: prometheus_access needs metrics_from or node_pod_networks (where the API "
                       "server's connections to the pods come from)")
    return sorted(set(sources), key=lambda a: ipaddress.ip_network(a if "/" in a else a + "/32", strict=False))


def _prometheus_access(namespace, job):
    """The account Prometheus lists the pods and reads their metrics with, and its long-lived token."""
    name, labels = job["service_account"], _labels("prometheus", job["service_account"])
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, namespace, labels),
         "automountServiceAccountToken": False},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _meta(name, namespace, labels),
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
                   {"apiGroups": [""], "resources": ["pods/proxy"], "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": _meta(name, namespace, labels),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]},
        {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
         "metadata": dict(_meta(job["token_secret"], namespace, labels),
                          annotations={"kubernetes.io/service-account.name": name})},
    ]


def _gateway_exporter(model, settings):
    """The gateway pod's metrics exporter: nginx's counters on the pod's loopback, served on its own port."""
    port = model["ports"]["nginx_exporter"]
    return {
        "name": "exporter",
        "image": settings["images"]["gateway"],
        "command": [GATEWAY_EXPORTER,
                    "--nginx.scrape-uri=http://127.0.0.1:%d/stub_status" % model["gateway"]["ports"]["gateway_status"],
                    "--web.listen-address=:%d" % port],
        "ports": [{"name": "metrics", "containerPort": port, "protocol": "TCP"}],
        # Its own liveness only: an exporter that fails is restarted; it never takes the gateway out of
        # the load balancer (no readiness of its own).
        "livenessProbe": {"tcpSocket": {"port": "metrics"}, "periodSeconds": 20, "failureThreshold": 3},
        "resources": settings["resources"]["gateway_exporter"],
        "securityContext": _container_security(NOBODY),
    }


def _network_policies(model, settings, namespace, workers):
    """A NetworkPolicy per pod of the component table (lanying.im's _components.pod_traffic), after a
    default deny: each pod answers its listeners' clients and calls the listeners it is a client of.

    Peers outside the cluster are known by address: Prometheus by where the API server's connections come
    from (with prometheus_access, else its rules are left out), the data tier by database_addresses; DNS and
    HTTPS out to the internet (push gateways, federation) are the pods' only other ways out.
    """
    ports = model["ports"]
    dns = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                   "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
           "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
    outside = {
        "prometheus": _blocks(_metrics_sources(settings)) if settings["prometheus_access"] else None,
        "postgres": _blocks(settings["database_addresses"]) or None,
        "redis": _blocks(settings["database_addresses"]) or None,
    }
    # HTTPS out: push gateways (the pushers), and with federation other homeservers (also on 8448). The host
    # firewall filters only what comes in; here the rest of the way out stays closed.
    internet = {"synapse": [{"to": [{"ipBlock": block} for block in settings["synapse_egress"]],
                             "ports": _tcp(443, 8448) if model["federation"] else _tcp(443)}]
                if settings["synapse_egress"] else []}
    rules = {}
    context = Context({}, workers, {})
    for pod, direction, peer, port in pod_traffic(context):
        if "pod" in peer:
            peers = [_peer(peer["pod"])]
        elif "public" in peer:
            peers = None
        else:
            peers = outside.get(peer["component"])
            if peers is None:
                continue
        found = rules.setdefault(pod, {"ingress": [], "egress": []})[direction]
        key = "from" if direction == "ingress" else "to"
        # Consecutive rules for the same peers become one rule with their ports.
        if found and found[-1].get(key) == peers:
            found[-1]["ports"] += _tcp(ports[port])
        else:
            found.append(dict({key: peers} if peers is not None else {}, ports=_tcp(ports[port])))

    def policy(name, component, ingress, egress):
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": _meta(name, namespace, _labels("network-policy", name)),
                "spec": {"podSelector": _peer(component)["podSelector"] if component else {},
                         "policyTypes": ["Ingress", "Egress"], "ingress": ingress, "egress": egress}}

    # Nothing in the namespace answers or calls out unless a policy below allows it.
    return [policy("default-deny", None, [], [])] + [
        policy(pod, pod, rules[pod]["ingress"], [dns] + rules[pod]["egress"] + internet.get(pod, []))
        for pod in sorted(rules)]


def k8s_objects(model, settings):
    """Every object of the platform on a cluster, in the order to apply them."""
    if model.get("runtime") != "k3s":
        raise K8sError("k3s objects: the model must come from im_k8s_model (the runtime's own model)")
    settings = _settings(settings)
    namespace = model["namespace"]
    images = settings["images"]
    for name in ("synapse", "gateway"):
        if not images.get(name):
            raise K8sError("k3s objects: no %s image: set k3s_platform_images.%s or lanying_im_topology.images.%s, or "
                           "build and push it first (lanying.im.images)" % (name, name, name))
    instances = model["instances"]
    workers = [i for i in instances if i["kind"] == "worker"]
    for needed in ["homeserver.yaml", "log.yaml", "ca.crt"] + ["%s.yaml" % i["name"] for i in instances]:
        if needed not in settings["synapse_files"]:
            raise K8sError("k3s objects: the Synapse file %s is missing from synapse_files" % needed)
    for needed in ("secrets.yaml", "signing.key"):
        if needed not in settings["synapse_secret_files"]:
            raise K8sError("k3s objects: the Synapse file %s is missing from synapse_secret_files" % needed)
    if "nginx.conf" not in settings["gateway_files"] or set(settings["gateway_tls"]) != {"tls.crt", "tls.key"}:
        raise K8sError("k3s objects: the gateway needs nginx.conf in gateway_files and tls.crt and tls.key in "
                       "gateway_tls")
    media_unit = next((i["unit"] for i in workers if i["worker_type"] == "media"), instances[0]["unit"])

    # Pod Security admission: no pod of the namespace may ask for more than the baseline profile (no host
    # namespaces, paths or ports, no privileged container, only the harmless capabilities).
    namespace_labels = {"app.kubernetes.io/part-of": PART_OF, "pod-security.kubernetes.io/enforce": "baseline",
                        "pod-security.kubernetes.io/enforce-version": "latest"}
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": namespace_labels}}]
    objects.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                    "metadata": _meta("synapse-secrets", namespace, _labels("synapse", "synapse-secrets")),
                    "stringData": dict(settings["synapse_secret_files"])})
    objects.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                    "metadata": _meta("gateway-tls", namespace, _labels("gateway", "gateway-tls")),
                    "stringData": dict(settings["gateway_tls"])})
    objects.append({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": _meta("synapse-config", namespace, _labels("synapse", "synapse-config")),
                    "data": dict(settings["synapse_files"])})
    objects.append({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": _meta("gateway-config", namespace, _labels("gateway", "gateway-config")),
                    "data": dict(settings["gateway_files"])})
    claim = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": settings["media_size"]}}}
    if settings["storage_class"]:
        claim["storageClassName"] = settings["storage_class"]
    objects.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": _meta("synapse-media", namespace, _labels("synapse", "synapse-media")),
                    "spec": claim})

    synapse_digest = _digest(settings["synapse_files"], settings["synapse_secret_files"])
    for instance in instances:
        unit = instance["unit"]
        labels = _labels("synapse", unit, instance["kind"], instance.get("worker_type"))
        scalable = instance.get("worker_type") in SCALABLE
        pod = _synapse_pod(instance, settings, "synapse-config", "synapse-secrets",
                           "synapse-media" if unit == media_unit else None)
        spec = {
            "selector": {"matchLabels": {"app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/instance": unit}},
            "template": {"metadata": {"labels": labels, "annotations": {"lanying.im/config": synapse_digest}},
                         "spec": pod},
        }
        service_ports = [(p, instance["ports"][p]) for p in ("client", "replication", "metrics")]
        if instance.get("sticky"):
            # Pods with stable names, one at a time through an update; while one restarts, the gateway
            # sends its users' requests to the main process (the upstream's fallback).
            spec.update(replicas=instance["replicas"], serviceName=unit, podManagementPolicy="Parallel",
                        updateStrategy={"type": "RollingUpdate"})
            objects.append({"apiVersion": "apps/v1", "kind": "StatefulSet",
                            "metadata": _meta(unit, namespace, labels), "spec": spec})
            objects.append(_service(unit, namespace, labels, service_ports, clusterIP="None"))
            for pod in instance["pods"]:
                service = _service(pod, namespace, dict(labels, **{"lanying.im/pod": pod}), service_ports)
                service["spec"]["selector"] = {"statefulset.kubernetes.io/pod-name": pod}
                objects.append(service)
        else:
            if scalable:
                # New pods are ready before old ones go: requests keep being served during a rollout.
                spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
            else:
                # A named process (the main one, a stream writer, the media store's owner) never runs twice.
                spec.update(replicas=1, strategy={"type": "Recreate"})
            objects.append({"apiVersion": "apps/v1", "kind": "Deployment",
                            "metadata": _meta(unit, namespace, labels), "spec": spec})
            objects.append(_service(unit, namespace, labels, service_ports))
        if scalable:
            objects.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                            "metadata": _meta(unit, namespace, labels),
                            "spec": {"maxUnavailable": 1, "selector": spec["selector"]}})
            if not instance.get("sticky"):
                objects.append({
                    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                    "metadata": _meta(unit, namespace, labels),
                    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": unit},
                             "minReplicas": instance["replicas"],
                             "maxReplicas": max(instance["replicas"], settings["autoscale_max"]),
                             "metrics": [{"type": "Resource", "resource": {
                                 "name": "cpu", "target": {"type": "Utilization",
                                                           "averageUtilization": settings["autoscale_cpu_percent"]}}}]},
                })

    gateway = model["gateway"]
    labels = _labels("gateway", "gateway", "gateway")
    replicas = settings["gateway_replicas"] or gateway["replicas"]
    gateway_ports = gateway["ports"]
    probe = {"tcpSocket": {"port": "https"}, "periodSeconds": 5}
    objects.append({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta("gateway", namespace, labels),
        "spec": {
            "replicas": replicas,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "selector": {"matchLabels": {"app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/instance": "gateway"}},
            "template": {"metadata": {"labels": labels, "annotations": {
                "lanying.im/config": _digest(settings["gateway_files"], settings["gateway_tls"])}}, "spec": {
                "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                "enableServiceLinks": False,
                "automountServiceAccountToken": False,
                # The load balancer answers only on nodes that run a gateway pod (the Local traffic policy): at
                # most one more on any node than on another, so that with a replica per node every node
                # answers. A surge pod of a rollout still fits (skew 1); a cordoned node (an upgrade's drain)
                # does not count, so its pod starts elsewhere.
                "topologySpreadConstraints": [{
                    "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
                    "nodeTaintsPolicy": "Honor",
                    "labelSelector": {"matchLabels": {"app.kubernetes.io/part-of": PART_OF,
                                                      "app.kubernetes.io/instance": "gateway"}}}],
                "containers": [{
                    "name": "nginx",
                    "image": images["gateway"],
                    "ports": [{"name": "https", "containerPort": gateway_ports["https"], "protocol": "TCP"},
                              {"name": "http", "containerPort": gateway_ports["http"], "protocol": "TCP"}],
                    "readinessProbe": probe,
                    "livenessProbe": dict(probe, periodSeconds=15, failureThreshold=4),
                    "resources": settings["resources"]["gateway"],
                    # nginx's master runs as root to bind its ports and prepare its temporary directories,
                    # its workers as an unprivileged user: the capabilities for that, and no others. The image
                    # stays read-only; nginx writes only its temporary files, pid and startup log, each in a
                    # directory of its own that lives as long as the pod.
                    "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                        "capabilities": {"drop": ["ALL"], "add": GATEWAY_CAPABILITIES}},
                    "volumeMounts": [
                        {"name": "config", "mountPath": "/etc/nginx/nginx.conf", "subPath": "nginx.conf",
                         "readOnly": True},
                        {"name": "tls", "mountPath": "/etc/lanying/tls", "readOnly": True},
                    ] + [{"name": name, "mountPath": path} for name, path, _size in GATEWAY_WRITABLE],
                }] + ([_gateway_exporter(model, settings)] if settings["prometheus_access"] else []),
                "volumes": [
                    {"name": "config", "configMap": {"name": "gateway-config"}},
                    {"name": "tls", "secret": {"secretName": "gateway-tls", "items": [
                        {"key": "tls.crt", "path": "gateway.crt"},
                        {"key": "tls.key", "path": "gateway.key"}]}},
                ] + [{"name": name, "emptyDir": size} for name, _path, size in GATEWAY_WRITABLE],
            }},
        },
    })
    # Local traffic policy: the gateway sees each client's own address (the admin routes are allowed by it).
    # The node ports and the health check's are the model's, which the nodes' firewalls filter.
    model_ports = model["ports"]
    objects.append(_service("gateway", namespace, labels, [("https", gateway_ports["https"]),
                                                           ("http", gateway_ports["http"])],
                            service_type="LoadBalancer", externalTrafficPolicy="Local",
                            node_ports={"https": model_ports["gateway_node_https"],
                                        "http": model_ports["gateway_node_http"]},
                            healthCheckNodePort=model_ports["gateway_node_health"]))
    objects.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                    "metadata": _meta("gateway", namespace, labels),
                    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {
                        "app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/instance": "gateway"}}}})
    objects += _network_policies(model, settings, namespace, workers)
    if settings["prometheus_access"]:
        objects += _prometheus_access(namespace, pod_scrape_jobs("", namespace)[0]["kubernetes"])
    return objects

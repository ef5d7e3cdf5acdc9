"""The platform on Kubernetes: the cluster's model and objects (im_k8s_model, im_k8s_objects).

Every object is validated with kubernetes-validate --strict against the schemas of the Kubernetes minor
of the pinned k3s version, for the example layouts (one host; the example inventory's small preset;
standard over three app hosts), and the two runtimes are compared: the same processes, ports, routes,
Synapse settings and credentials.
"""

import os
import re
import shlex
import subprocess

import kubernetes_validate
import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.lanying.im.plugins.filter.im_k8s_model import im_k8s_model
from ansible_collections.lanying.im.plugins.filter.im_k8s_objects import im_k8s_objects
from ansible_collections.lanying.im.plugins.plugin_utils._topology import build_topology

COLLECTION = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
ONE_HOST = {"im_gateway": ["one"], "im_app": ["one"], "im_db": ["one"], "im_registry": ["one"],
            "monitoring": ["one"]}
EXAMPLE = {"im_gateway": ["edge-1", "edge-2"], "im_app": ["app-1", "app-2", "app-3"], "im_db": ["db-1"],
           "im_registry": ["registry"], "monitoring": ["mon-1"], "logging": ["log-1"]}
LAYOUTS = {"one host": (ONE_HOST, "none"), "small": (EXAMPLE, "small"), "standard": (EXAMPLE, "standard")}
IMAGES = {"synapse": "registry.example.com:5000/lanying/synapse:1.0",
          "gateway": "registry.example.com:5000/lanying/gateway:1.0"}


def kubernetes_minor():
    """The Kubernetes minor of the k3s version the k3s role installs (v1.32.4+k3s1 -> 1.32)."""
    with open(os.path.join(COLLECTION, "roles", "k3s", "defaults", "main.yml")) as defaults:
        version = yaml.safe_load(defaults)["k3s_version"]
    return re.match(r"^v(\d+\.\d+)\.", version).group(1)


def docker_model(layout):
    groups, workers = LAYOUTS[layout]
    addresses = {host: "10.0.0.%d" % n for n, host in enumerate(sorted({h for g in groups.values() for h in g}), 1)}
    return build_topology(groups, {"server_name": "chat.example.com", "workers": workers}, addresses)


def settings(model, **extra):
    files = {"homeserver.yaml": "server_name: chat.example.com\n", "log.yaml": "version: 1\n", "ca.crt": "CA"}
    files.update({"%s.yaml" % i["name"]: "worker_name: %s\n" % i.get("worker_name", i["name"])
                  for i in model["instances"]})
    result = {"images": IMAGES, "synapse_files": files,
              "synapse_secret_files": {"secrets.yaml": "macaroon_secret_key: s\n", "signing.key": "ed25519 a_x k"},
              "gateway_files": {"nginx.conf": "events {}\n"},
              "gateway_tls": {"tls.crt": "certificate", "tls.key": "key"},
              "database_addresses": ["10.0.0.9"], "prometheus_access": True, "metrics_from": ["10.0.0.8"],
              "node_pod_networks": ["10.42.1.0/24", "10.42.0.0/24"]}
    result.update(extra)
    return result


def objects(layout, autoscale=False, **extra):
    model = im_k8s_model(docker_model(layout), autoscale=autoscale)
    return model, im_k8s_objects(model, settings(model, **extra))


def by_kind(found, kind):
    return {o["metadata"]["name"]: o for o in found if o["kind"] == kind}


def synapse_processes(model):
    return [i for i in model["instances"] if i["kind"] in ("main", "worker")]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("autoscale", [False, True])
def test_every_object_is_valid_for_the_cluster_version(layout, autoscale):
    minor = kubernetes_minor()
    for item in objects(layout, autoscale)[1]:
        # Raises on a field the schema does not know (strict) or a value of the wrong type.
        kubernetes_validate.validate(item, minor, strict=True)


@pytest.mark.parametrize("layout, autoscale, expected", [
    ("one host", False, {"Namespace": 1, "Secret": 3, "ConfigMap": 2, "PersistentVolumeClaim": 1, "Deployment": 2,
                         "Service": 2, "PodDisruptionBudget": 1, "NetworkPolicy": 3,
                         "ServiceAccount": 1, "Role": 1, "RoleBinding": 1}),
    ("small", False, {"Namespace": 1, "Secret": 3, "ConfigMap": 2, "PersistentVolumeClaim": 1, "Deployment": 7,
                      "StatefulSet": 2, "Service": 11, "PodDisruptionBudget": 3, "NetworkPolicy": 3,
                      "ServiceAccount": 1, "Role": 1, "RoleBinding": 1}),
    ("small", True, {"Namespace": 1, "Secret": 3, "ConfigMap": 2, "PersistentVolumeClaim": 1, "Deployment": 9,
                     "Service": 9, "PodDisruptionBudget": 3, "HorizontalPodAutoscaler": 2, "NetworkPolicy": 3,
                     "ServiceAccount": 1, "Role": 1, "RoleBinding": 1}),
    ("standard", False, {"Namespace": 1, "Secret": 3, "ConfigMap": 2, "PersistentVolumeClaim": 1, "Deployment": 8,
                         "StatefulSet": 2, "Service": 14, "PodDisruptionBudget": 3, "NetworkPolicy": 3,
                         "ServiceAccount": 1, "Role": 1, "RoleBinding": 1}),
])
def test_object_kinds_per_layout(layout, autoscale, expected):
    found = objects(layout, autoscale)[1]
    counts = {}
    for item in found:
        counts[item["kind"]] = counts.get(item["kind"], 0) + 1
    assert counts == expected
    assert found[0]["kind"] == "Namespace"
    names = [(o["kind"], o["metadata"]["name"]) for o in found]
    assert len(names) == len(set(names)), "an object is made twice"


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("autoscale", [False, True])
def test_both_runtimes_run_the_same_processes(layout, autoscale):
    docker = docker_model(layout)
    model, found = objects(layout, autoscale)
    workloads = dict(by_kind(found, "Deployment"), **by_kind(found, "StatefulSet"))
    per_type, replicas = {}, {}
    for instance in synapse_processes(docker):
        kind = instance.get("worker_type", "main")
        per_type[kind] = per_type.get(kind, 0) + 1
    hpas = by_kind(found, "HorizontalPodAutoscaler")
    for instance in synapse_processes(model):
        kind = instance.get("worker_type", "main")
        spec = workloads[instance["unit"]]["spec"]
        count = hpas[instance["unit"]]["spec"]["minReplicas"] if instance["unit"] in hpas else spec["replicas"]
        replicas[kind] = replicas.get(kind, 0) + count
        assert spec["template"]["metadata"]["labels"].get("lanying.im/worker-type") == (
            None if kind == "main" else kind.replace("_", "-"))
    assert replicas == per_type
    # The named processes keep their names: Synapse's settings name them.
    named = sorted(i["name"] for i in synapse_processes(docker) if i.get("worker_type") not in ("sync", "client_reader"))
    assert sorted(i["name"] for i in synapse_processes(model) if "worker_name" not in i) == named
    assert set(workloads) == {i["unit"] for i in synapse_processes(model)} | {"gateway"}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("autoscale", [False, True])
def test_both_runtimes_route_and_configure_alike(layout, autoscale):
    docker = docker_model(layout)
    model = im_k8s_model(docker, autoscale=autoscale)
    assert model["routes"] == docker["routes"]
    assert sorted(model["upstreams"]) == sorted(docker["upstreams"])
    for name, upstream in docker["upstreams"].items():
        assert (model["upstreams"][name]["balance"], model["upstreams"][name]["fallback"]) == (
            upstream["balance"], upstream["fallback"])
        # The same processes behind each upstream: a Service per process, or one per scaled unit.
        behind = {"synapse-" + i["worker_type"].replace("_", "-") if i.get("worker_type") in ("sync", "client_reader")
                  else i["name"] for i in synapse_processes(docker)
                  if {"host": i["host"], "port": i["ports"]["client"]} in upstream["servers"]}
        service_unit = {}
        for instance in synapse_processes(model):
            for service in [instance["unit"]] + instance.get("pods", []):
                service_unit["%s.lanying-im.svc.cluster.local" % service] = instance["unit"]
        assert {service_unit[s["host"]] for s in model["upstreams"][name]["servers"]} == behind
        if upstream["balance"] and not autoscale:
            # The gateway keeps hashing over one address per process.
            assert len(model["upstreams"][name]["servers"]) == len(upstream["servers"])
    settings_docker, settings_k8s = dict(docker["synapse"]), dict(model["synapse"])
    map_docker, map_k8s = settings_docker.pop("instance_map", {}), settings_k8s.pop("instance_map", {})
    assert settings_k8s == settings_docker
    assert sorted(map_k8s) == sorted(map_docker)
    for name, target in map_k8s.items():
        assert target["port"] == docker["ports"]["replication"]
        assert model["hosts"][target["host"]]["address"] == target["host"]
    for instance in synapse_processes(model):
        assert instance["ports"] == {p: docker["ports"][p] for p in ("client", "replication", "metrics")}
    for key in ("server_name", "public_baseurl", "well_known", "database", "redis", "max_upload_mb", "federation"):
        assert model[key] == docker[key]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_process_reads_the_same_files_as_on_a_docker_host(layout):
    model, found = objects(layout)
    workloads = dict(by_kind(found, "Deployment"), **by_kind(found, "StatefulSet"))
    secret = by_kind(found, "Secret")["synapse-secrets"]
    config = by_kind(found, "ConfigMap")["synapse-config"]
    assert sorted(secret["stringData"]) == ["secrets.yaml", "signing.key"]
    for instance in synapse_processes(model):
        pod = workloads[instance["unit"]]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        sources = next(v for v in pod["volumes"] if v["name"] == "config")["projected"]["sources"]
        assert sources == [{"configMap": {"name": "synapse-config"}}, {"secret": {"name": "synapse-secrets"}}]
        assert {"name": "config", "mountPath": "/config", "readOnly": True} in container["volumeMounts"]
        assert container["args"][:2] == ["--config-path=/config/homeserver.yaml", "--config-path=/config/secrets.yaml"]
        assert "%s.yaml" % instance["name"] in config["data"]
        assert {p["name"]: p["containerPort"] for p in container["ports"]} == instance["ports"]
        assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "client"}
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        media = any(v["name"] == "media" for v in pod["volumes"])
        assert media == (instance["unit"] == ("synapse-media-1" if layout != "one host" else "synapse-main"))


def test_a_scaled_worker_names_itself_after_its_pod(tmp_path):
    model, found = objects("small")
    sync = by_kind(found, "StatefulSet")["synapse-sync"]["spec"]["template"]["spec"]["containers"][0]
    assert sync["env"] == [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
    # Run the container's own command with a stand-in interpreter that prints what it was given.
    (tmp_path / "config").mkdir()
    (tmp_path / "run").mkdir()
    (tmp_path / "config" / "synapse-sync.yaml").write_text(
        "worker_app: synapse.app.generic_worker\nworker_name: '@POD_NAME@'\n")
    script = sync["command"][2].replace("/config/", "%s/config/" % tmp_path).replace(
        "/run/synapse", str(tmp_path / "run")).replace("exec /opt/synapse/bin/python", "exec echo")
    out = subprocess.run(["/bin/sh", "-c", script, "synapse"] + sync["args"], env={"POD_NAME": "synapse-sync-1"},
                         check=True, capture_output=True, text=True).stdout
    assert yaml.safe_load((tmp_path / "run" / "process.yaml").read_text())["worker_name"] == "synapse-sync-1"
    assert shlex.split(out) == ["-m", "synapse.app.generic_worker"] + sync["args"]
    assert sync["args"][-1] == "--config-path=/run/synapse/process.yaml"


def test_named_processes_never_run_twice_and_scaled_ones_roll_without_a_gap():
    found = objects("standard", autoscale=True)[1]
    deployments = by_kind(found, "Deployment")
    for name in ("synapse-main", "synapse-event-persister-2", "synapse-media-1", "synapse-stream-writer-1"):
        assert deployments[name]["spec"]["replicas"] == 1
        assert deployments[name]["spec"]["strategy"] == {"type": "Recreate"}
    for name in ("synapse-sync", "synapse-client-reader"):
        assert "replicas" not in deployments[name]["spec"], "the autoscaler owns the count"
        assert deployments[name]["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
        assert by_kind(found, "PodDisruptionBudget")[name]["spec"]["maxUnavailable"] == 1
        hpa = by_kind(found, "HorizontalPodAutoscaler")[name]["spec"]
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 4)


def test_sticky_units_have_a_service_per_pod():
    model, found = objects("standard")
    services = by_kind(found, "Service")
    assert services["synapse-sync"]["spec"]["clusterIP"] == "None"
    for pod in ("synapse-sync-0", "synapse-sync-1"):
        assert services[pod]["spec"]["selector"] == {"statefulset.kubernetes.io/pod-name": pod}
    assert [s["host"] for s in model["upstreams"]["sync_by_user"]["servers"]] == [
        "synapse-sync-0.lanying-im.svc.cluster.local", "synapse-sync-1.lanying-im.svc.cluster.local"]


def test_the_gateway_is_a_load_balancer_that_keeps_client_addresses():
    found = objects("small")[1]
    service = by_kind(found, "Service")["gateway"]["spec"]
    assert service["type"] == "LoadBalancer"
    assert service["externalTrafficPolicy"] == "Local"
    assert [(p["name"], p["port"]) for p in service["ports"]] == [("https", 443), ("http", 80)]
    # Its node ports and its health check's are the model's, which the nodes' firewalls know.
    assert [(p["name"], p["nodePort"]) for p in service["ports"]] == [("https", 30443), ("http", 30080)]
    assert service["healthCheckNodePort"] == 30254
    assert by_kind(found, "Deployment")["gateway"]["spec"]["replicas"] == 2
    found = objects("small", gateway_replicas=3)[1]
    assert by_kind(found, "Deployment")["gateway"]["spec"]["replicas"] == 3


def test_prometheus_may_list_the_pods_and_read_their_metrics_and_nothing_else():
    found = objects("small")[1]
    account = by_kind(found, "ServiceAccount")["prometheus"]
    assert account["automountServiceAccountToken"] is False
    assert by_kind(found, "Role")["prometheus"]["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["pods/proxy"], "verbs": ["get"]}]
    binding = by_kind(found, "RoleBinding")["prometheus"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "prometheus"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "prometheus", "namespace": "lanying-im"}]
    token = by_kind(found, "Secret")["prometheus-token"]
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["metadata"]["annotations"] == {"kubernetes.io/service-account.name": "prometheus"}
    # Without Prometheus: no account, no exporter, and the metrics ports open to nobody.
    found = objects("small", prometheus_access=False)[1]
    assert "ServiceAccount" not in {item["kind"] for item in found}
    synapse = by_kind(found, "NetworkPolicy")["synapse"]["spec"]
    assert not [r for r in synapse["ingress"] if r["ports"] == [{"protocol": "TCP", "port": 9000}]]
    gateway = by_kind(found, "NetworkPolicy")["gateway"]["spec"]
    assert gateway["ingress"] == [{"ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 80}]}]
    pod = by_kind(found, "Deployment")["gateway"]["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["nginx"]
    with pytest.raises(AnsibleFilterError, match="node_pod_networks names 'ten'"):
        objects("small", node_pod_networks=["ten"])
    with pytest.raises(AnsibleFilterError, match="prometheus_access needs metrics_from or node_pod_networks"):
        objects("small", metrics_from=[], node_pod_networks=[])


def test_the_gateway_pod_exports_its_metrics_to_the_api_servers_proxy_only():
    """The exporter beside nginx reads its counters on the pod's loopback, as nobody, read-only."""
    found = objects("small")[1]
    pod = by_kind(found, "Deployment")["gateway"]["spec"]["template"]["spec"]
    nginx, exporter = pod["containers"]
    assert exporter["image"] == nginx["image"] == IMAGES["gateway"]
    assert exporter["command"] == ["/usr/bin/prometheus-nginx-exporter",
                                   "--nginx.scrape-uri=http://127.0.0.1:8081/stub_status", "--web.listen-address=:9113"]
    assert exporter["ports"] == [{"name": "metrics", "containerPort": 9113, "protocol": "TCP"}]
    assert "readinessProbe" not in exporter and exporter["livenessProbe"]["tcpSocket"] == {"port": "metrics"}
    assert exporter["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                           "runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534,
                                           "capabilities": {"drop": ["ALL"]}}
    assert exporter["resources"]["limits"] == {"memory": "64Mi"}
    # Its port is open to where the API server's proxied connections come from, as Synapse's metrics are.
    policies = by_kind(found, "NetworkPolicy")
    metrics = [r for r in policies["gateway"]["spec"]["ingress"] if r["ports"] == [{"protocol": "TCP", "port": 9113}]]
    synapse = [r for r in policies["synapse"]["spec"]["ingress"] if r["ports"] == [{"protocol": "TCP", "port": 9000}]]
    assert len(metrics) == 1 and metrics[0]["from"] == synapse[0]["from"]
    assert {"ipBlock": {"cidr": "10.0.0.8/32"}} in metrics[0]["from"]
    found = objects("small", resources={"gateway_exporter": {"limits": {"memory": "32Mi"}}})[1]
    exporter = by_kind(found, "Deployment")["gateway"]["spec"]["template"]["spec"]["containers"][1]
    assert exporter["resources"]["limits"] == {"memory": "32Mi"}


def test_the_gateway_pods_spread_over_the_nodes():
    """With the Local traffic policy only nodes with a gateway pod answer: one per node, surge allowed."""
    gateway = by_kind(objects("small")[1], "Deployment")["gateway"]["spec"]
    spread = gateway["template"]["spec"]["topologySpreadConstraints"]
    assert spread == [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
                       "nodeTaintsPolicy": "Honor", "labelSelector": gateway["selector"]}]
    assert gateway["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}


def test_network_policies_allow_what_the_firewall_allows():
    model, found = objects("small")
    policies = by_kind(found, "NetworkPolicy")
    assert policies["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                                                "ingress": [], "egress": []}
    synapse = policies["synapse"]["spec"]
    client = next(r for r in synapse["ingress"] if r["ports"] == [{"protocol": "TCP", "port": 8008}])
    assert client["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "lanying-im",
                                                               "app.kubernetes.io/name": "gateway"}}}]
    # Prometheus's requests come through the API server's pod proxy: from the nodes, and from each node's
    # flannel interface and pod bridge.
    metrics = next(r for r in synapse["ingress"] if r["ports"] == [{"protocol": "TCP", "port": 9000}])
    assert metrics["from"] == [{"ipBlock": {"cidr": "%s/32" % a}}
                               for a in ("10.0.0.8", "10.42.0.0", "10.42.0.1", "10.42.1.0", "10.42.1.1")]
    data = next(r for r in synapse["egress"] if r.get("to") == [{"ipBlock": {"cidr": "10.0.0.9/32"}}])
    assert data["ports"] == [{"protocol": "TCP", "port": 5432}, {"protocol": "TCP", "port": 6379}]
    out = [r for r in synapse["egress"] if r.get("to") == [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE}}]]
    assert [r["ports"] for r in out] == [[{"protocol": "TCP", "port": 443}]], "no federation: HTTPS out only (push gateways)"
    # Without workers there is no replication between processes.
    policies = by_kind(objects("one host")[1], "NetworkPolicy")
    assert not any(r["ports"] == [{"protocol": "TCP", "port": 8009}] for r in policies["synapse"]["spec"]["ingress"])


@pytest.mark.parametrize("change, message", [
    ({"media_size": "ten"}, r"k3s_media_size is 'ten'; it must be a Kubernetes quantity"),
    ({"autoscale_max": 0}, r"k3s_autoscale_max is 0; it must be a whole number, 1 or more"),
    ({"gateway_replicas": True}, r"k3s_gateway_replicas is True"),
    ({"resources": {"sink": {}}}, r"k3s_resources: unknown kind 'sink'; kinds: client_reader, gateway, gateway_exporter, main"),
    ({"resources": {"main": {"limits": {"memory": 512}}}}, r"k3s_resources.main.limits.memory is 512"),
    ({"replicas": 2}, r"unknown setting 'replicas'"),
    ({"images": {"synapse": IMAGES["synapse"]}}, r"no gateway image"),
    ({"gateway_tls": {"tls.crt": "c"}}, r"tls.crt and tls.key in gateway_tls"),
    ({"synapse_secret_files": {"secrets.yaml": "x"}}, r"signing.key is missing from synapse_secret_files"),
])
def test_bad_settings_are_named(change, message):
    model = im_k8s_model(docker_model("small"))
    with pytest.raises(AnsibleFilterError, match=message):
        im_k8s_objects(model, settings(model, **change))


def test_a_missing_process_file_and_a_foreign_model_are_refused():
    model = im_k8s_model(docker_model("small"))
    given = settings(model)
    del given["synapse_files"]["synapse-sync.yaml"]
    with pytest.raises(AnsibleFilterError, match=r"the Synapse file synapse-sync.yaml is missing"):
        im_k8s_objects(model, given)
    with pytest.raises(AnsibleFilterError, match=r"the model must come from im_k8s_model"):
        im_k8s_objects(docker_model("small"), settings(model))
    with pytest.raises(AnsibleFilterError, match=r"k3s namespace is 'Lanying'; it must be a DNS label"):
        im_k8s_model(docker_model("small"), "Lanying")


def test_secrets_stay_out_of_everything_but_secrets():
    model, found = objects("standard")
    for item in found:
        if item["kind"] != "Secret":
            text = yaml.safe_dump(item)
            assert "macaroon_secret_key" not in text and "ed25519" not in text and "tls.key" not in str(
                item.get("data", {})), item["metadata"]["name"]


def test_new_files_roll_the_pods_that_read_them():
    model = im_k8s_model(docker_model("small"))

    def annotations(found):
        return {name: o["spec"]["template"]["metadata"]["annotations"]["lanying.im/config"]
                for name, o in dict(by_kind(found, "Deployment"), **by_kind(found, "StatefulSet")).items()}

    before = annotations(im_k8s_objects(model, settings(model)))
    changed = settings(model)
    changed["synapse_secret_files"] = dict(changed["synapse_secret_files"], **{"secrets.yaml": "other\n"})
    after = annotations(im_k8s_objects(model, changed))
    assert {name for name in before if before[name] != after[name]} == set(before) - {"gateway"}
    changed = settings(model, gateway_files={"nginx.conf": "events { }\n"})
    after = annotations(im_k8s_objects(model, changed))
    assert {name for name in before if before[name] != after[name]} == {"gateway"}


def test_federation_opens_the_way_out_to_other_homeservers():
    groups, workers = LAYOUTS["small"]
    docker = build_topology(groups, {"server_name": "chat.example.com", "workers": workers, "federation": True})
    model = im_k8s_model(docker)
    policy = by_kind(im_k8s_objects(model, settings(model)), "NetworkPolicy")["synapse"]["spec"]
    out = [r for r in policy["egress"] if r.get("to") == [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE}}]]
    assert [r["ports"] for r in out] == [[{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 8448}]]


# What the baseline Pod Security profile allows a container to add (Kubernetes' pod security standards).
BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
                         "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}


def test_the_namespace_admits_baseline_pods_and_every_pod_is_one():
    found = objects("small", True)[1]
    labels = found[0]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    pods = [item["spec"]["template"]["spec"] for item in found if item["kind"] in ("Deployment", "StatefulSet")]
    assert len(pods) > 5
    for pod in pods:
        assert not any(pod.get(key) for key in ("hostNetwork", "hostPID", "hostIPC"))
        assert not [v for v in pod.get("volumes", []) if "hostPath" in v]
        for container in pod["containers"] + pod.get("initContainers", []):
            context = container.get("securityContext", {})
            assert not context.get("privileged") and context.get("allowPrivilegeEscalation") is False
            assert set(context.get("capabilities", {}).get("add", [])) <= BASELINE_CAPABILITIES
            assert context.get("readOnlyRootFilesystem") is True, container["name"]
            assert not [p for p in container.get("ports", []) if "hostPort" in p]


def test_the_gateway_writes_only_where_its_pod_gives_it_room():
    pod = by_kind(objects("small")[1], "Deployment")["gateway"]["spec"]["template"]["spec"]
    nginx = pod["containers"][0]
    writable = {v["name"]: v["emptyDir"] for v in pod["volumes"] if "emptyDir" in v}
    mounts = {m["mountPath"]: m["name"] for m in nginx["volumeMounts"] if m["name"] in writable}
    assert mounts == {"/var/lib/nginx": "nginx-temp", "/run": "nginx-run", "/var/log/nginx": "nginx-log"}
    # Buffered media responses go to the node's disk, not to memory.
    assert writable["nginx-temp"] == {} and writable["nginx-run"]["medium"] == "Memory"


PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8"]


def test_synapse_reaches_the_internet_and_no_private_network_but_those_you_name():
    found = objects("small", synapse_egress=[{"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}, {"cidr": "10.1.2.3/32"}])[1]
    synapse = by_kind(found, "NetworkPolicy")["synapse"]["spec"]
    out = [r for r in synapse["egress"] if r["ports"] == [{"protocol": "TCP", "port": 443}]]
    assert out == [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}},
                           {"ipBlock": {"cidr": "10.1.2.3/32"}}], "ports": [{"protocol": "TCP", "port": 443}]}]
    # None at all: no way out but DNS and the platform's own services.
    synapse = by_kind(objects("small", synapse_egress=[])[1], "NetworkPolicy")["synapse"]["spec"]
    assert not [r for r in synapse["egress"] if {"protocol": "TCP", "port": 443} in r["ports"]]


@pytest.mark.parametrize("egress, message", [
    ("0.0.0.0/0", "expected a list of"),
    ([{"cidr": "10.0.0.1/8"}], "has host bits set"),
    ([{"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}], "the exceptions 192.168.0.0/16 are not inside 10.0.0.0/8"),
    ([{"network": "10.0.0.0/8"}], "each entry is {cidr"),
])
def test_a_bad_egress_is_refused(egress, message):
    with pytest.raises(AnsibleFilterError, match=message):
        objects("small", synapse_egress=egress)

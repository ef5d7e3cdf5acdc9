"""The Prometheus role's pod lister (files/lanying_pod_targets.py): the Synapse and gateway pods on k3s as file_sd
targets.

The pods are made from the pod templates the k3s objects render (im_k8s_objects), as the cluster would run
them: the lister must find each one's metrics port and label it as on Docker hosts. Listing them from a
running API server is the k3s scenario's.
"""

from __future__ import annotations

import json

from ansible_collections.lanying.im.plugins.filter.im_k8s_model import im_k8s_model
from ansible_collections.lanying.im.plugins.filter.im_k8s_objects import im_k8s_objects
from ansible_collections.lanying.im.plugins.plugin_utils._topology import build_topology

GROUPS = {"im_db": ["db"], "im_build": ["build"], "monitoring": ["mon"], "k3s_server": ["s1"], "k3s_agent": ["a1"]}
ADDRESSES = {"db": "10.0.0.1", "build": "10.0.0.2", "mon": "10.0.0.3", "s1": "10.0.1.1", "a1": "10.0.1.2"}


def running_pods(component="synapse"):
    """One pod per workload of a component (synapse, gateway) of the small preset on k3s, as the API lists them."""
    model = build_topology(GROUPS, {"server_name": "chat.example.com", "workers": "small"}, ADDRESSES, runtime="k3s")
    k8s = im_k8s_model(model)
    files = {"homeserver.yaml": "", "log.yaml": "", "ca.crt": ""}
    files.update({"%s.yaml" % i["name"]: "" for i in k8s["instances"]})
    objects = im_k8s_objects(k8s, {
        "images": {"synapse": "r/s:1", "gateway": "r/g:1"}, "synapse_files": files,
        "synapse_secret_files": {"secrets.yaml": "", "signing.key": ""}, "gateway_files": {"nginx.conf": ""},
        "gateway_tls": {"tls.crt": "", "tls.key": ""}, "prometheus_access": True, "metrics_from": ["10.0.1.1"]})
    pods = []
    for item in objects:
        if item["kind"] in ("Deployment", "StatefulSet") and item["metadata"]["labels"]["app.kubernetes.io/name"] == component:
            template = item["spec"]["template"]
            pods.append({"metadata": {"name": item["metadata"]["name"] + "-0", "labels": template["metadata"]["labels"]},
                         "spec": dict(template["spec"], nodeName="s1"), "status": {"phase": "Running"}})
    return model, pods


def test_each_running_pod_is_a_target_through_the_api_proxy(role_script):
    module = role_script("prometheus", "lanying_pod_targets.py")
    model, pods = running_pods()
    job = next(j for j in model["monitoring"]["scrape_jobs"] if j["name"] == "synapse")["kubernetes"]
    pending = dict(pods[0], metadata=dict(pods[0]["metadata"], name="pending"), status={"phase": "Pending"})
    leaving = dict(pods[0], metadata=dict(pods[0]["metadata"], name="leaving", deletionTimestamp="2026-12-02T17:00:00Z"))
    groups = module.pod_targets(pods + [pending, leaving], job["api_server"], job["namespace"], job["port_name"],
                                job["metrics_path"])
    assert len(groups) == len(pods) == 8
    by_name = {group["labels"]["instance"]: group for group in groups}
    main = by_name["synapse-main-0"]
    assert main["targets"] == ["10.0.1.1:6443"]
    assert main["labels"] == {"__metrics_path__": "/api/v1/namespaces/lanying-im/pods/synapse-main-0:9000/proxy/_synapse/metrics",
                              "instance": "synapse-main-0", "process": "synapse-main-0", "host": "s1",
                              "worker_type": "main"}
    # Worker types as on Docker hosts (the labels spell them with '-').
    types = {group["labels"]["worker_type"] for group in groups}
    assert types == {"main"} | {w["worker_type"] for w in model["instances"] if w["kind"] == "worker"}
    assert "client_reader" in types


def test_the_gateway_pods_are_targets_of_the_nginx_job_through_their_exporter(role_script):
    module = role_script("prometheus", "lanying_pod_targets.py")
    model, pods = running_pods("gateway")
    job = next(j for j in model["monitoring"]["scrape_jobs"] if j["name"] == "nginx")["kubernetes"]
    groups = module.pod_targets(pods, job["api_server"], job["namespace"], job["port_name"], job["metrics_path"])
    # The exporter's port of the pod (nginx's own ports are not metrics), labelled with its node and pod only.
    assert groups == [{"targets": ["10.0.1.1:6443"], "labels": {
        "__metrics_path__": "/api/v1/namespaces/lanying-im/pods/gateway-0:9113/proxy/metrics",
        "instance": "gateway-0", "host": "s1"}}]


def test_the_files_are_replaced_only_when_they_change(role_script, tmp_path, monkeypatch):
    module = role_script("prometheus", "lanying_pod_targets.py")
    pods = {"synapse-selector": running_pods()[1], "gateway-selector": running_pods("gateway")[1]}
    settings = {"api_server": "10.0.1.1:6443", "namespace": "lanying-im", "token_file": "-", "ca_file": "-",
                "group": "root", "jobs": [
                    {"name": "synapse", "selector": "synapse-selector", "port_name": "metrics",
                     "metrics_path": "/_synapse/metrics", "output": str(tmp_path / "synapse.yml")},
                    {"name": "nginx", "selector": "gateway-selector", "port_name": "metrics",
                     "metrics_path": "/metrics", "output": str(tmp_path / "nginx.yml")}]}
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    monkeypatch.setattr(module, "list_pods", lambda given, selector: pods[selector])
    assert module.main(["lanying_pod_targets.py", str(tmp_path / "settings.json")]) == 0
    written = {name: (tmp_path / name).read_text() for name in ("synapse.yml", "nginx.yml")}
    assert written["nginx.yml"].startswith("# Written by lanying-pod-targets (lanying.im): the nginx pods")
    assert len(json.loads(written["synapse.yml"].split("\n", 1)[1])) == 8
    assert json.loads(written["nginx.yml"].split("\n", 1)[1])[0]["labels"]["instance"] == "gateway-0"
    before = {name: (tmp_path / name).stat().st_ino for name in written}
    assert module.main(["lanying_pod_targets.py", str(tmp_path / "settings.json")]) == 0
    assert {name: (tmp_path / name).stat().st_ino for name in written} == before

    # The API away: the targets stay as they were, and the run says why.
    def unreachable(given, selector):
        raise OSError("connection refused")
    monkeypatch.setattr(module, "list_pods", unreachable)
    assert module.main(["lanying_pod_targets.py", str(tmp_path / "settings.json")]) == 1
    assert {name: (tmp_path / name).read_text() for name in written} == written

"""The chat platform's Kubernetes objects as lanying.im.k3s_platform makes them, through ansible-playbook.

Every host is this machine (a local connection) and nothing is applied (k3s_platform_apply=false): the
playbook renders the Synapse and gateway files from the roles' own templates, issues the gateway's
certificate from a new internal CA, and writes every object under a directory. Each object is then
validated with kubernetes-validate --strict against the Kubernetes minor of the pinned k3s version, and
the rendered files are read the way the programs will read them. Applying them needs a cluster, which
the live k3s scenario brings.
"""

import re
import subprocess

import kubernetes_validate
import pytest
import yaml
from ansible_collections.lanying.im.tests.unit.playbooks.local_playbook import COLLECTIONS, local_host, run_playbook

ROLES = COLLECTIONS / "ansible_collections" / "lanying" / "im" / "roles"
LAYOUTS = {
    # The local-one inventory's shape: every group on one host.
    "one host": ({"im_gateway": ["one"], "im_app": ["one"], "im_db": ["one"], "monitoring": ["one"],
                  "k3s_server": ["one"]}, "none", False),
    # The example inventory: two gateways, three app hosts, its small preset.
    "small": ({"im_gateway": ["edge-1", "edge-2"], "im_app": ["app-1", "app-2", "app-3"], "im_db": ["db-1"],
               "monitoring": ["mon-1"], "k3s_server": ["k3s-1"], "k3s_agent": ["k3s-2"]}, "small", False),
    # The standard preset over the same three app hosts, autoscaled.
    "standard": ({"im_gateway": ["edge-1", "edge-2"], "im_app": ["app-1", "app-2", "app-3"], "im_db": ["db-1"],
                  "monitoring": ["mon-1"], "k3s_server": ["k3s-1"], "k3s_agent": ["k3s-2"]}, "standard", True),
    # The platform on k3s (lanying_im_runtime): no im_app or im_gateway host, the images built outside.
    "on k3s": ({"im_db": ["db-1"], "im_build": ["build-1"], "monitoring": ["mon-1"], "k3s_server": ["k3s-1"],
                "k3s_agent": ["k3s-2"]}, "small", False, {"lanying_im_runtime": "k3s"}),
}
IMAGES = {"synapse": "registry.example.com:5000/lanying/synapse:1.0",
          "gateway": "registry.example.com:5000/lanying/gateway:1.0"}


def kubernetes_minor():
    version = yaml.safe_load((ROLES / "k3s" / "defaults" / "main.yml").read_text())["k3s_version"]
    return re.match(r"^v(\d+\.\d+)\.", version).group(1)


def render(tmp_path, layout, **extra):
    groups, workers, autoscale = LAYOUTS[layout][:3]
    names = sorted({h for members in groups.values() for h in members})
    hosts = {name: local_host(number) for number, name in enumerate(names, start=10)}
    settings = {"lanying_im_server_name": "chat.example.com", "lanying_im_topology": {"workers": workers},
                "lanying_im_secrets_dir": str(tmp_path / ".secrets"), "lanying_im_pki_dir": str(tmp_path / ".pki"),
                "k3s_platform_apply": False, "k3s_platform_render_dir": str(tmp_path / "objects"),
                "k3s_platform_images": IMAGES, "k3s_autoscale": autoscale}
    settings.update(LAYOUTS[layout][3] if len(LAYOUTS[layout]) > 3 else {})
    settings.update(extra)
    inventory = {"all": {"vars": settings, "children": {
        group: {"hosts": {name: hosts[name] for name in members}} for group, members in groups.items()}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    status, output = run_playbook(tmp_path, "k3s_platform")
    assert status == 0, output[-3000:]
    found = {}
    files = {path.name: path for path in (tmp_path / "objects").iterdir()}
    assert sorted(files) == ["objects.yaml", "secrets.yaml"]
    assert oct(files["secrets.yaml"].stat().st_mode & 0o777) == "0o600"
    for name, path in sorted(files.items()):
        for item in yaml.safe_load_all(path.read_text()):
            assert (item["kind"] == "Secret") == (name == "secrets.yaml"), (name, item["kind"])
            found[(item["kind"], item["metadata"]["name"])] = item
    return found, output


@pytest.fixture(scope="module")
def render_once(tmp_path_factory):
    """Each layout rendered once per module: (layout, directory, objects, output)."""
    done = {}

    def get(layout):
        if layout not in done:
            tmp_path = tmp_path_factory.mktemp(layout.replace(" ", "-"))
            done[layout] = (layout, tmp_path) + render(tmp_path, layout)
        return done[layout]
    return get


@pytest.fixture(params=sorted(LAYOUTS))
def rendered(request, render_once):
    return render_once(request.param)


def test_every_object_is_valid_for_the_cluster_version(rendered):
    layout, tmp_path, found, output = rendered
    minor = kubernetes_minor()
    for item in found.values():
        kubernetes_validate.validate(item, minor, strict=True)
    kinds = sorted({kind for kind, name in found})
    expected = ["ConfigMap", "Deployment", "Namespace", "NetworkPolicy", "PersistentVolumeClaim",
                "PodDisruptionBudget", "Secret", "Service"]
    if layout in ("small", "on k3s"):
        expected = sorted(expected + ["StatefulSet"])
    if layout == "standard":
        expected = sorted(expected + ["HorizontalPodAutoscaler"])
    # Every layout has a monitoring host and a cluster: Prometheus's account (it scrapes the Synapse pods and
    # the gateway pods' exporter through the API).
    expected = sorted(expected + ["Role", "RoleBinding", "ServiceAccount"])
    assert kinds == expected
    gateway = found[("Deployment", "gateway")]["spec"]["template"]["spec"]
    assert [c["name"] for c in gateway["containers"]] == ["nginx", "exporter"]


def test_no_secret_is_printed(rendered):
    layout, tmp_path, found, output = rendered
    secrets = found[("Secret", "synapse-secrets")]["stringData"]
    values = yaml.safe_load(secrets["secrets.yaml"])
    for value in (values["macaroon_secret_key"], values["database"]["args"]["password"], values["redis"]["password"],
                  secrets["signing.key"].split()[-1], found[("Secret", "gateway-tls")]["stringData"]["tls.key"]):
        assert value.strip() and value.strip() not in output
    for (kind, name), item in found.items():
        if kind != "Secret":
            assert values["macaroon_secret_key"] not in yaml.safe_dump(item), name


def test_synapse_reads_the_files_it_is_given(rendered):
    layout, tmp_path, found, output = rendered
    files = found[("ConfigMap", "synapse-config")]["data"]
    secrets = yaml.safe_load(found[("Secret", "synapse-secrets")]["stringData"]["secrets.yaml"])
    homeserver = yaml.safe_load(files["homeserver.yaml"])
    assert homeserver["server_name"] == "chat.example.com"
    assert homeserver["signing_key_path"] == "/config/signing.key"
    assert files["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
    # The database and Redis stay on their host, outside the cluster.
    assert secrets["database"]["args"]["host"] == secrets["redis"]["host"]
    assert re.match(r"^10\.0\.0\.\d+$", secrets["database"]["args"]["host"])
    for address in homeserver.get("instance_map", {}).values():
        assert address["host"].endswith(".lanying-im.svc.cluster.local") and address["port"] == 8009
    workloads = {name: item for (kind, name), item in found.items() if kind in ("Deployment", "StatefulSet")}
    processes = [name for name in files if name.startswith("synapse-")]
    assert sorted(processes) == sorted("%s.yaml" % name for name in workloads if name != "gateway")
    for name in processes:
        process = yaml.safe_load(files[name])
        listeners = process.get("worker_listeners") or process["listeners"]
        assert {tuple(listener["bind_addresses"]) for listener in listeners} == {("0.0.0.0",)}
        assert sorted(listener["port"] for listener in listeners) == (
            [8008, 8009, 9000] if layout != "one host" else [8008, 9000])
        if name in ("synapse-sync.yaml", "synapse-client-reader.yaml"):
            assert process["worker_name"] == "@POD_NAME@"
        elif "worker_name" in process:
            assert process["worker_name"] == name[:-len(".yaml")]


def test_the_gateway_routes_to_the_services(rendered):
    layout, tmp_path, found, output = rendered
    nginx = found[("ConfigMap", "gateway-config")]["data"]["nginx.conf"]
    servers = set(re.findall(r"^\s*server (\S+):(\d+) ", nginx, re.M))
    services = {"%s.lanying-im.svc.cluster.local" % name: name for (kind, name), item in found.items()
                if kind == "Service" and item["spec"].get("clusterIP") != "None" and name != "gateway"}
    # Every upstream server is a Service of the objects; every Service of a process with routes is one.
    assert servers and {host for host, port in servers} <= set(services)
    routed = re.compile(r"^synapse-(main|sync|client-reader|stream-writer|media)")
    assert {host for host, name in services.items() if routed.match(name)} == {host for host, port in servers}
    assert {port for host, port in servers} == {"8008"}
    assert "ssl_certificate /etc/lanying/tls/gateway.crt;" in nginx
    certificate = found[("Secret", "gateway-tls")]["stringData"]["tls.crt"]
    check = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=certificate,
                           capture_output=True, text=True, check=True).stdout
    assert "DNS:chat.example.com" in check


def test_a_second_run_keeps_the_certificate_and_the_secrets(render_once):
    layout, tmp_path, found, output = render_once("one host")
    again, output = render(tmp_path, layout)
    assert again == found
    assert "changed=0" in output


@pytest.mark.parametrize("change, message", [
    ({"groups": {"k3s_server": []}}, "The inventory group k3s_server has no host"),
    ({"k3s_resources": {"sync": {"limits": {"memory": "lots"}}}},
     "k3s_resources.sync.limits.memory is 'lots'; it must be a Kubernetes quantity"),
])
def test_bad_input_is_refused_before_the_cluster_is_contacted(tmp_path, change, message):
    groups, workers, autoscale = LAYOUTS["small"]
    LAYOUTS["bad"] = (dict(groups, **change.pop("groups", {})), workers, autoscale)
    try:
        with pytest.raises(AssertionError) as failed:
            render(tmp_path, "bad", **change)
    finally:
        del LAYOUTS["bad"]
    output = " ".join(str(failed.value).split())
    assert message in output, output[-2000:]
    assert not (tmp_path / "objects").exists()


def test_on_k3s_a_gateway_pod_per_node(render_once):
    layout, tmp_path, found, output = render_once("on k3s")
    assert found[("Deployment", "gateway")]["spec"]["replicas"] == 2
    assert found[("Service", "gateway")]["spec"]["type"] == "LoadBalancer"
    # The Synapse pods' metrics port answers the API server's proxy, from the nodes (k3s-1, k3s-2); no
    # cluster here, so no node's pod network is known.
    synapse = found[("NetworkPolicy", "synapse")]["spec"]
    metrics = [rule["from"] for rule in synapse["ingress"] if rule["ports"][0]["port"] == 9000]
    assert metrics == [[{"ipBlock": {"cidr": "10.0.0.12/32"}}, {"ipBlock": {"cidr": "10.0.0.13/32"}}]]
    assert found[("Secret", "prometheus-token")]["type"] == "kubernetes.io/service-account-token"

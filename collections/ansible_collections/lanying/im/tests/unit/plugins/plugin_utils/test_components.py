"""The component table: one entry gives a component its placement, listeners, firewall rules and scrape job."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess

import jinja2
import pytest

from ansible_collections.lanying.im.plugins.plugin_utils import _components, _k8s, _topology
from ansible_collections.lanying.im.plugins.plugin_utils._components import Component, Listener
from ansible_collections.lanying.im.plugins.plugin_utils._topology import TopologyError, build_topology

FOUR_HOSTS = {
    "all": ["reg", "build", "app", "db"],
    "im_registry": ["reg"], "im_gateway": ["reg"], "im_app": ["build", "app"], "im_build": ["build"],
    "im_db": ["db"], "monitoring": ["db"], "logging": ["db"],
}
ADDRESSES = {"reg": "10.0.0.1", "build": "10.0.0.2", "app": "10.0.0.3", "db": "10.0.0.4"}
SPEC = {"server_name": "chat.example.com", "workers": "small"}
FIREWALL_TEMPLATE = pathlib.Path(__file__).resolve().parents[4] / "roles/firewall/templates/firewall.nft.j2"

# A made-up component: a presence service on every app host (in a pod of its own on a cluster), its API
# called by the gateway, its metrics scraped over TLS with the metrics account.
PRESENCE = Component("presence", "lanying.im.presence", lambda c: c.group("im_app"), (
    Listener("api", "presence", clients=("gateway",)),
    Listener("metrics", "presence_metrics", clients=("prometheus",), tls=True, auth=True, job="presence"),
), pod="presence")


@pytest.fixture
def presence(monkeypatch):
    """The table with the made-up component, and its two ports known to the model."""
    monkeypatch.setattr(_components, "COMPONENTS", _components.COMPONENTS + (PRESENCE,))
    monkeypatch.setitem(_topology.DEFAULT_PORTS, "presence", 7400)
    monkeypatch.setitem(_topology.DEFAULT_PORTS, "presence_metrics", 7401)


def render_firewall(model, host, **settings):
    """The host's nftables ruleset, as lanying.im.firewall's template renders it from the model."""
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(FIREWALL_TEMPLATE.parent)))
    # The two of Ansible's filters and tests the template uses.
    environment.filters["unique"] = lambda items: list(dict.fromkeys(items))
    environment.tests["search"] = lambda value, pattern: re.search(pattern, value) is not None
    listeners = [e for e in model["listeners"] if e["host"] == host and e["address"] != "127.0.0.1"]
    return environment.get_template(FIREWALL_TEMPLATE.name).render(
        ansible_managed="test", inventory_hostname=host, _firewall_ssh_ports=[22], _firewall_ssh_sources=["0.0.0.0/0"],
        _firewall_open=[dict({"forwarded": False}, **e) for e in listeners],
        firewall_public_sources=settings.get("firewall_public_sources", ["0.0.0.0/0", "::/0"]), firewall_allow=[],
        firewall_default_action="drop")


def test_a_new_component_is_one_table_entry(presence):
    model = build_topology(FOUR_HOSTS, SPEC, ADDRESSES)
    assert model["placement"]["presence"] == ["build", "app"]
    assert model["roles"]["lanying.im.presence"] == ["build", "app"]
    assert "presence" in model["hosts"]["app"]["components"]
    found = {(e["host"], e["component"], e["name"]): e for e in model["listeners"]}
    api = found[("app", "presence", "api")]
    assert (api["port"], api["address"]) == (7400, "10.0.0.3")
    assert (api["clients"], api["client_addresses"]) == (["reg"], ["10.0.0.1"])
    assert found[("build", "presence", "metrics")]["clients"] == ["db"]
    # Its firewall rules: the gateway's host to the API, Prometheus's to the metrics, nobody else.
    rules = render_firewall(model, "app")
    assert 'ip daddr 10.0.0.3 tcp dport 7400 ip saddr { 10.0.0.1 } accept comment "presence api: reg"' in rules
    assert 'ip daddr 10.0.0.3 tcp dport 7401 ip saddr { 10.0.0.4 } accept comment "presence metrics: db"' in rules
    assert "7400" not in render_firewall(model, "db")
    # Its scrape job, over TLS with the metrics account.
    job = next(j for j in model["monitoring"]["scrape_jobs"] if j["name"] == "presence")
    assert (job["tls"], job["auth"]) == (True, True)
    assert [(t["host"], t["port"]) for t in job["targets"]] == [("build", 7401), ("app", 7401)]
    # Its ports clash like any other.
    with pytest.raises(TopologyError, match=r"port 7400 on host build is used twice: .* and presence \(api\)"):
        build_topology(FOUR_HOSTS, dict(SPEC, ports={"node_exporter": 7400}), ADDRESSES)
    # On a cluster, its pod's NetworkPolicy: the gateway's pods to the API, Prometheus's sources to the
    # metrics; and the gateway's pods may call it.
    settings = _k8s._settings({"prometheus_access": True, "metrics_from": ["10.0.0.4"]})
    policies = {p["metadata"]["name"]: p["spec"] for p in _k8s._network_policies(
        {"ports": model["ports"], "federation": False}, settings, "lanying-im", [])}
    gateway_pods = {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "lanying-im",
                                                    "app.kubernetes.io/name": "gateway"}}}
    assert policies["presence"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "presence"
    assert policies["presence"]["ingress"] == [
        {"from": [gateway_pods], "ports": [{"protocol": "TCP", "port": 7400}]},
        {"from": [{"ipBlock": {"cidr": "10.0.0.4/32"}}], "ports": [{"protocol": "TCP", "port": 7401}]}]
    presence_pods = {"podSelector": dict(gateway_pods["podSelector"], matchLabels=dict(
        gateway_pods["podSelector"]["matchLabels"], **{"app.kubernetes.io/name": "presence"}))}
    assert {"to": [presence_pods], "ports": [{"protocol": "TCP", "port": 7400}]} in policies["gateway"]["egress"]
    assert not any(rule.get("to") == [presence_pods] for rule in policies["synapse"]["egress"])


def test_scrape_jobs_say_how_their_endpoints_are_reached():
    jobs = {j["name"]: j for j in build_topology(FOUR_HOSTS, SPEC, ADDRESSES)["monitoring"]["scrape_jobs"]}
    secured = sorted(name for name, job in jobs.items() if job["auth"])
    tls = sorted(name for name, job in jobs.items() if job["tls"])
    assert secured == ["alertmanager", "node", "postgres", "prometheus"]
    assert tls == ["alertmanager", "nginx", "node", "postgres", "prometheus", "redis"]
    assert jobs["synapse"]["metrics_path"] == "/_synapse/metrics"
    assert "metrics_path" not in jobs["node"]


def test_roles_run_where_their_components_are():
    roles = build_topology(dict(FOUR_HOSTS, backup=["reg"]), SPEC, ADDRESSES)["roles"]
    assert roles["lanying.im.synapse"] == ["build", "app"]
    assert roles["lanying.im.images"] == ["build"]
    assert roles["lanying.im.backup"] == ["db", "reg"]
    assert roles["lanying.im.docker"] == ["build", "app", "reg"]
    assert roles["lanying.im.probe"] == ["reg"]
    assert "lanying.im.k3s" not in roles


def test_on_k3s_the_first_server_renders_the_chat_platform():
    groups = {"all": ["reg", "db", "build", "s1", "a1"], "im_db": ["db"], "im_registry": ["reg"], "im_build": ["build"],
              "k3s_server": ["s1"], "k3s_agent": ["a1"]}
    roles = build_topology(groups, SPEC, runtime="k3s")["roles"]
    assert roles["lanying.im.k3s"] == ["s1", "a1"]
    assert roles["lanying.im.synapse"] == roles["lanying.im.gateway"] == ["s1"]
    assert "lanying.im.nginx_exporter" not in roles


# An inventory without the chat platform's groups: the host baseline, and a cluster's own listeners.
CLUSTER_ALONE = {"all": ["s1", "s2", "s3", "a1"], "k3s_server": ["s1", "s2", "s3"], "k3s_agent": ["a1"]}
CLUSTER_ADDRESSES = {"s1": "10.0.1.1", "s2": "10.0.1.2", "s3": "10.0.1.3", "a1": "10.0.1.4"}


def test_without_the_platform_groups_the_model_has_the_baseline_and_the_cluster():
    model = build_topology(CLUSTER_ALONE, {}, CLUSTER_ADDRESSES)
    assert model["platform"] is False
    assert model["placement"]["node_exporter"] == ["s1", "s2", "s3", "a1"]
    assert model["placement"]["k3s_server"] == ["s1", "s2", "s3"]
    assert not model["placement"]["synapse"] and not model["placement"]["log_shipper"]
    assert model["roles"] == {"lanying.im.node_exporter": ["s1", "s2", "s3", "a1"]}
    found = {(e["host"], e["name"]): e for e in model["listeners"]}
    assert found[("s1", "api")]["clients"] == ["a1", "s2", "s3"]
    assert found[("a1", "vxlan")]["protocol"] == "udp"
    assert found[("s2", "node_exporter")]["clients"] == []
    assert build_topology({"all": ["h1"], "ungrouped": ["h1"]}, {})["platform"] is False


@pytest.mark.parametrize("groups, message", [
    ({"im_app": ["a"], "im_gateway": ["a"]}, "inventory group im_db has no host"),
    ({"im_db": ["a"]}, "inventory group im_app has no host"),
])
def test_some_of_the_platform_groups_are_an_incomplete_platform(groups, message):
    with pytest.raises(TopologyError, match=message):
        build_topology(groups, SPEC)


def test_no_listener_takes_an_ssh_port():
    ssh = {host: [{"name": "ssh", "port": 22}] for host in ADDRESSES}
    build_topology(FOUR_HOSTS, SPEC, ADDRESSES, host_ports=ssh)
    with pytest.raises(TopologyError, match=re.escape(
            "port 22 on host reg is the host's ssh (tcp port 22): gateway (https) cannot listen there")):
        build_topology(FOUR_HOSTS, dict(SPEC, ports={"https": 22}), ADDRESSES, host_ports=ssh)
    # sshd on 2222 too: the node exporter cannot move there.
    ssh["db"].append({"name": "ssh", "port": 2222})
    with pytest.raises(TopologyError, match="port 2222 on host db is the host's ssh"):
        build_topology(FOUR_HOSTS, dict(SPEC, ports={"node_exporter": 2222}), ADDRESSES, host_ports=ssh)
    # A UDP listener may share the number.
    build_topology(CLUSTER_ALONE, {}, CLUSTER_ADDRESSES, host_ports={"a1": [{"name": "ssh", "port": 8472}]})
    # The baseline's listeners are checked too.
    with pytest.raises(TopologyError, match="port 9100 on host s1 is the host's ssh"):
        build_topology(CLUSTER_ALONE, {}, CLUSTER_ADDRESSES, host_ports={"s1": [{"name": "ssh", "port": 9100}]})


@pytest.mark.parametrize("host_ports, message", [
    (["22"], "host ports: expected a mapping of host to a list of"),
    ({"reg": [{"port": 0}]}, "host reg: {'port': 0} is not a port of the host"),
    ({"reg": [{"port": "22-"}]}, "is not a port of the host"),
    ({"reg": [{"port": 22, "protocol": "sctp"}]}, "protocol: tcp or udp"),
])
def test_bad_host_ports(host_ports, message):
    with pytest.raises(TopologyError, match=re.escape(message)):
        build_topology(FOUR_HOSTS, SPEC, ADDRESSES, host_ports=host_ports)


def test_a_host_range_keeps_every_port_in_it():
    with pytest.raises(TopologyError, match="port 9187 on host db is the host's backup ports"):
        build_topology(FOUR_HOSTS, SPEC, ADDRESSES, host_ports={"db": [{"name": "backup ports", "port": "9180-9190"}]})


def test_strict_models_refuse_hosts_without_an_address():
    addresses = dict(ADDRESSES, app=None)
    loose = build_topology(FOUR_HOSTS, SPEC, addresses)["hosts"]["app"]
    assert loose["address"] is None and loose["listen"]["node_exporter node_exporter"] is None
    with pytest.raises(TopologyError, match=re.escape("these hosts have no address") + ".*: app\\. A run reads"):
        build_topology(FOUR_HOSTS, SPEC, addresses, require_addresses=True)
    # A host with neither a listener nor a client of one needs none (here: none has a client).
    build_topology(CLUSTER_ALONE, {}, dict(CLUSTER_ADDRESSES), require_addresses=True)
    with pytest.raises(TopologyError, match="these hosts have no address, .*: a1\\."):
        build_topology(CLUSTER_ALONE, {}, dict(CLUSTER_ADDRESSES, a1=""), require_addresses=True)


def nft_check(ruleset, tmp_path):
    """nft's own parser on a rendered ruleset (--check: nothing is loaded), where nft can run."""
    nft = shutil.which("nft") or ("/usr/sbin/nft" if os.path.exists("/usr/sbin/nft") else None)
    if nft is None or os.geteuid() != 0:
        # make test installs nftables (.gitlab-ci.yml's Debian tools) and runs as root: this skip is for a
        # developer's machine without them.
        pytest.skip("nft (as root) is not on this machine: the ruleset's syntax is left to the platform scenario")
    path = tmp_path / "ruleset.nft"
    path.write_text(ruleset)
    result = subprocess.run([nft, "--check", "--file", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_an_ipv6_platform_gets_ipv6_rules(tmp_path):
    addresses = {"reg": "fd00::1", "build": "fd00::2", "app": "fd00::3", "db": "fd00::4"}
    model = build_topology(FOUR_HOSTS, SPEC, addresses)
    rules = render_firewall(model, "db")
    assert 'ip6 daddr fd00::4 tcp dport 5432 ip6 saddr { fd00::2, fd00::3 } accept comment "postgres postgres: app build"' in rules
    assert "ip daddr" not in rules
    nft_check(rules, tmp_path)
    nft_check(render_firewall(model, "reg"), tmp_path)


def test_public_sources_of_both_families_admit_each_listener_by_its_own(tmp_path):
    model = build_topology(FOUR_HOSTS, SPEC, ADDRESSES)
    rules = render_firewall(model, "reg", firewall_public_sources=["192.0.2.0/24", "2001:db8::/32"])
    assert 'ip saddr { 192.0.2.0/24 } ip daddr 10.0.0.1 tcp dport 443 accept comment "gateway https: public"' in rules
    assert "ip6 saddr { 2001:db8::/32 } ip daddr" not in rules
    nft_check(rules, tmp_path)


def test_hosts_of_two_families_are_refused():
    addresses = dict(ADDRESSES, app="fd00::3")
    with pytest.raises(TopologyError, match=r"host reg \(10.0.0.1\) is a client of synapse-stream-writer-1 \(client\) on "
                                            r"host app \(fd00::3\), an address of the other family: .* \(lanying_im_address\)"):
        build_topology(FOUR_HOSTS, SPEC, addresses)

from __future__ import annotations

import re

import pytest

from ansible_collections.lanying.im.plugins.plugin_utils._topology import TopologyError, build_topology

FOUR_HOSTS = {
    "all": ["reg", "build", "app", "db"],
    "im_registry": ["reg"], "im_gateway": ["reg"], "im_app": ["build", "app"], "im_build": ["build"],
    "im_db": ["db"], "monitoring": ["db"], "logging": ["db"],
}
ADDRESSES = {"reg": "10.0.0.1", "build": "10.0.0.2", "app": "10.0.0.3", "db": "10.0.0.4"}
ONE_HOST = {"all": ["h1"], "im_app": ["h1"], "im_gateway": ["h1"], "im_db": ["h1"], "im_registry": ["h1"],
            "monitoring": ["h1"]}
SPEC = {"server_name": "chat.example.com", "workers": "small"}


def table(model):
    return {(entry["host"], entry["component"], entry["name"]): entry for entry in model["listeners"]}


def test_placement_from_groups():
    where = build_topology(FOUR_HOSTS, SPEC, ADDRESSES)["placement"]
    assert where["synapse"] == ["build", "app"]
    assert where["gateway"] == ["reg"] and where["registry"] == ["reg"] and where["probe"] == ["reg"]
    assert where["postgres"] == where["redis"] == where["prometheus"] == where["alertmanager"] == ["db"]
    assert where["docker"] == ["build", "app", "reg"]
    assert where["build"] == ["build"]
    assert where["node_exporter"] == where["log_shipper"] == ["reg", "build", "app", "db"]
    assert where["log_receiver"] == ["db"]


def test_hosts_carry_their_address_and_components():
    hosts = build_topology(FOUR_HOSTS, SPEC, ADDRESSES)["hosts"]
    # Where each listener of the host binds, for the roles.
    assert hosts["db"].pop("listen")["node_exporter node_exporter"] == "10.0.0.4:9100"
    assert hosts["reg"]["listen"]["gateway status"] == "127.0.0.1:8081"
    assert hosts["reg"]["listen"]["docker docker_metrics"] == "10.0.0.1:9323"
    assert hosts["db"] == {"address": "10.0.0.4", "components": [
        "alertmanager", "backup", "log_receiver", "log_shipper", "node_exporter", "postgres", "postgres_exporter", "prometheus",
        "redis", "redis_exporter"]}
    assert set(hosts) == set(ADDRESSES)


@pytest.mark.parametrize("key, clients, public", [
    (("build", "synapse-main", "client"), ["reg"], False),
    (("build", "synapse-main", "replication"), ["app"], False),
    (("app", "synapse-sync-1", "replication"), ["build"], False),
    (("app", "synapse-sync-1", "metrics"), ["db"], False),
    (("db", "postgres", "postgres"), ["app", "build"], False),
    (("db", "redis", "redis"), ["app", "build"], False),
    (("reg", "registry", "registry"), ["app", "build"], False),
    (("reg", "registry", "registry_metrics"), ["db"], False),
    (("reg", "docker", "docker_metrics"), ["db"], False),
    (("reg", "gateway", "https"), [], True),
    (("reg", "gateway", "http"), [], True),
    (("reg", "node_exporter", "node_exporter"), ["db"], False),
    # Prometheus scrapes its own host over the loopback interface: no other client.
    (("db", "node_exporter", "node_exporter"), [], False),
    (("db", "prometheus", "prometheus"), [], False),
    (("db", "alertmanager", "alertmanager"), [], False),
    # Every other host's log shipper sends to the receiver of the logging group.
    (("db", "log_receiver", "logging"), ["app", "build", "reg"], False),
])
def test_who_may_connect(key, clients, public):
    entry = table(build_topology(FOUR_HOSTS, SPEC, ADDRESSES))[key]
    assert entry["clients"] == clients
    assert entry["public"] is public
    assert entry["client_addresses"] == [ADDRESSES[c] for c in clients]
    assert entry["protocol"] == "tcp"


def test_no_replication_listener_without_workers():
    model = build_topology(FOUR_HOSTS, {"server_name": "chat.example.com"}, ADDRESSES)
    assert [e["name"] for e in model["listeners"] if e["component"] == "synapse-main"] == ["client", "metrics"]


def test_every_port_of_the_model_is_a_listener():
    model = build_topology(FOUR_HOSTS, SPEC, ADDRESSES)
    listed = {(e["host"], e["port"]) for e in model["listeners"]}
    for instance in model["instances"]:
        for port in instance["ports"].values():
            assert (instance["host"], port) in listed
    for job in model["monitoring"]["scrape_jobs"]:
        for target in job["targets"]:
            assert (target["host"], target["port"]) in listed
    assert ("reg", 5000) in listed
    assert len(listed) == len(model["listeners"])


def test_listeners_bind_to_the_hosts_address_and_status_to_loopback():
    entries = table(build_topology(FOUR_HOSTS, SPEC, ADDRESSES))
    assert entries[("db", "postgres", "postgres")]["address"] == "10.0.0.4"
    assert entries[("reg", "gateway", "status")]["address"] == "127.0.0.1"


def test_one_host_has_no_remote_clients():
    model = build_topology(ONE_HOST, SPEC, {"h1": "10.0.0.9"})
    assert all(entry["clients"] == [] for entry in model["listeners"])
    assert [e["name"] for e in model["listeners"] if e["public"]] == ["https", "http"]


def test_unknown_address_is_none():
    entries = table(build_topology(FOUR_HOSTS, SPEC, {"db": "10.0.0.4"}))
    assert entries[("db", "postgres", "postgres")]["client_addresses"] == [None, None]
    assert entries[("app", "synapse-sync-1", "client")]["address"] is None


def test_registry_port_clash_is_refused():
    with pytest.raises(TopologyError, match="port 5001 on host reg is used twice"):
        build_topology(FOUR_HOSTS, SPEC, ADDRESSES, registry_port=5001)


@pytest.mark.parametrize("addresses, registry_port, message", [
    (["10.0.0.1"], 5000, "expected a mapping of host to address"),
    ({}, 0, "lanying_im_registry_port is 0"),
    ({}, True, "lanying_im_registry_port is True"),
    # What reaches a bind address and a firewall rule is an IP address, by type.
    ({"db": "10.0.0.4; accept"}, 5000, re.escape(
        "the address of host db (lanying_im_address, or its default route's) is '10.0.0.4; accept'; it must be an "
        "IP address")),
    ({"db": "db.example.com"}, 5000, "the address of host db .* is 'db.example.com'; it must be an IP address"),
    ({"db": "10.0.0.0/24"}, 5000, "is '10.0.0.0/24'; it must be an IP address"),
    ({"db": 10}, 5000, "is 10; it must be an IP address"),
])
def test_bad_arguments(addresses, registry_port, message):
    with pytest.raises(TopologyError, match=message):
        build_topology(FOUR_HOSTS, SPEC, addresses, registry_port)


def test_ipv6_addresses_are_addresses():
    addresses = {host: "fd00::%d" % number for number, host in enumerate(sorted(ADDRESSES), 1)}
    entries = table(build_topology(FOUR_HOSTS, SPEC, addresses))
    assert entries[("db", "postgres", "postgres")]["address"] == addresses["db"]
    assert set(entries[("db", "postgres", "postgres")]["client_addresses"]) == {addresses["app"], addresses["build"]}


def test_no_log_receiver_without_a_logging_group():
    model = build_topology(ONE_HOST, SPEC, {"h1": "10.0.0.1"})
    assert model["placement"]["log_receiver"] == []
    assert model["placement"]["log_shipper"] == ["h1"]
    assert not [e for e in model["listeners"] if e["component"] == "log_receiver"]


def test_the_log_receiver_port_clashes_like_any_other():
    spec = dict(SPEC, ports={"logging": 9090})
    with pytest.raises(TopologyError, match="port 9090 on host db is used twice"):
        build_topology(FOUR_HOSTS, spec, ADDRESSES)


K3S = dict(FOUR_HOSTS, k3s_server=["s1", "s2", "s3"], k3s_agent=["a1"])
K3S_ADDRESSES = dict(ADDRESSES, s1="10.0.1.1", s2="10.0.1.2", s3="10.0.1.3", a1="10.0.1.4")


def test_a_k3s_cluster_brings_its_nodes_listeners():
    model = build_topology(K3S, SPEC, K3S_ADDRESSES, k3s={"api_port": 7443, "pod_networks": "10.52.0.0/16,fd00:42::/56"})
    found = table(model)
    api = found[("s1", "k3s", "api")]
    assert (api["port"], api["protocol"], api["address"]) == (7443, "tcp", "10.0.1.1")
    # Every other node, and the pods (IPv4 networks only: the firewall matches IPv4 here).
    assert api["clients"] == ["a1", "s2", "s3"]
    assert api["client_addresses"] == ["10.0.1.4", "10.0.1.2", "10.0.1.3", "10.52.0.0/16"]
    assert found[("s2", "k3s", "etcd_peer")]["clients"] == ["s1", "s3"]
    assert found[("s2", "k3s", "etcd_client")]["port"] == 2379
    assert ("a1", "k3s", "etcd_client") not in found and ("a1", "k3s", "api") not in found
    kubelet = found[("a1", "k3s", "kubelet")]
    assert (kubelet["port"], kubelet["clients"], kubelet["networks"]) == (10250, ["s1", "s2", "s3"], ["10.52.0.0/16"])
    vxlan = found[("a1", "k3s", "vxlan")]
    assert (vxlan["port"], vxlan["protocol"], vxlan["clients"]) == (8472, "udp", ["s1", "s2", "s3"])
    assert model["placement"]["k3s_server"] == ["s1", "s2", "s3"] and model["placement"]["k3s_agent"] == ["a1"]
    assert "k3s_agent" in model["hosts"]["a1"]["components"] and "node_exporter" in model["hosts"]["a1"]["components"]


def test_without_k3s_groups_there_is_no_k3s_listener():
    model = build_topology(FOUR_HOSTS, SPEC, ADDRESSES)
    assert not [e for e in model["listeners"] if e["component"] == "k3s"]
    # Listeners known before the cluster came keep their form (the firewall's record of them stays the same).
    assert not [e for e in model["listeners"] if "networks" in e]


def test_the_default_pod_network_is_k3s_own():
    api = table(build_topology(K3S, SPEC, K3S_ADDRESSES))[("s1", "k3s", "api")]
    assert (api["port"], api["networks"]) == (6443, ["10.42.0.0/16"])


@pytest.mark.parametrize("k3s, message", [
    ({"api_port": 70000}, "k3s_api_port is 70000; it must be a port number from 1 to 65535"),
    ({"pod_networks": "10.42.0.0/33"}, "cluster-cidr names '10.42.0.0/33', which is not a network"),
])
def test_bad_k3s_settings(k3s, message):
    with pytest.raises(TopologyError, match=message):
        build_topology(K3S, SPEC, K3S_ADDRESSES, k3s=k3s)


def test_a_k3s_port_clashes_like_any_other():
    groups = dict(FOUR_HOSTS, k3s_server=["db"])
    with pytest.raises(TopologyError, match=r"port 9100 on host db is used twice: node_exporter .* and k3s \(api\)"):
        build_topology(groups, SPEC, ADDRESSES, k3s={"api_port": 9100})


BACKUP = dict(FOUR_HOSTS, backup=["reg"])


def test_a_backup_group_brings_the_repository_host_and_its_listeners():
    model = build_topology(BACKUP, SPEC, ADDRESSES)
    assert model["placement"]["backup_repository"] == ["reg"]
    assert model["placement"]["backup"] == ["db", "reg"]
    found = table(model)
    # pgBackRest's TLS servers call each other; the media store's host (the main process's, without a
    # stateful setting) sends its snapshots to the repository host.
    assert found[("reg", "backup", "pgbackrest")]["clients"] == ["db"]
    assert found[("db", "backup", "pgbackrest")]["clients"] == ["reg"]
    assert found[("reg", "backup", "media")]["clients"] == [model["stateful"]["media"]]
    assert found[("reg", "backup", "media")]["client_addresses"] == [ADDRESSES[model["stateful"]["media"]]]
    assert (found[("reg", "backup", "pgbackrest")]["port"], found[("reg", "backup", "media")]["port"]) == (8432, 8433)


def test_without_a_backup_group_backups_open_no_port():
    model = build_topology(FOUR_HOSTS, SPEC, ADDRESSES)
    assert model["placement"]["backup_repository"] == []
    assert model["placement"]["backup"] == ["db"]
    assert not [e for e in model["listeners"] if e["component"] == "backup"]


def test_the_repository_host_cannot_be_the_database_host():
    with pytest.raises(TopologyError, match="the backup group's host db is the database host"):
        build_topology(dict(FOUR_HOSTS, backup=["db"]), SPEC, ADDRESSES)


def test_one_repository_host_at_most():
    with pytest.raises(TopologyError, match=r"the inventory group backup holds 2 hosts \(app, gw\)"):
        build_topology(dict(FOUR_HOSTS, backup=["app", "gw"]), SPEC, ADDRESSES)


def test_a_backup_port_clashes_like_any_other():
    with pytest.raises(TopologyError, match=r"port 9187 on host db is used twice: postgres_exporter .* backup \(pgbackrest\)"):
        build_topology(BACKUP, dict(SPEC, ports={"backup_server": 9187}), ADDRESSES)
    with pytest.raises(TopologyError, match="port 5000 on host reg is used twice"):
        build_topology(BACKUP, dict(SPEC, ports={"backup_media": 5000}), ADDRESSES)


# The platform on the cluster (lanying_im_runtime k3s): no im_app or im_gateway host, the images built
# outside the cluster.
ON_K3S = {"all": ["reg", "db", "build", "s1", "a1"], "im_db": ["db"], "im_registry": ["reg"], "im_build": ["build"],
          "k3s_server": ["s1"], "k3s_agent": ["a1"], "monitoring": ["db"]}
ON_K3S_ADDRESSES = {"reg": "10.0.0.1", "db": "10.0.0.3", "build": "10.0.0.5", "s1": "10.0.1.1", "a1": "10.0.1.4"}


def test_on_k3s_synapse_and_the_gateway_leave_the_hosts():
    model = build_topology(ON_K3S, dict(SPEC, workers="small"), ON_K3S_ADDRESSES, runtime="k3s")
    where = model["placement"]
    assert model["runtime"] == "k3s"
    assert (where["synapse"], where["gateway"], where["nginx_exporter"], where["media_store"]) == ([], [], [], [])
    # The Docker engine builds the images outside the cluster; the cluster's plays run on its nodes.
    assert (where["docker"], where["build"]) == (["build"], ["build"])
    assert (where["cluster_server"], where["cluster_agent"], where["chat_cluster"]) == (["s1"], ["a1"], ["s1"])
    # The delivery probe is a client of the load balancer from outside the cluster (the monitoring host).
    assert where["probe"] == ["db"]
    assert model["stateful"] == {"database": "db", "main": "k3s", "media": "k3s"}
    found = table(model)
    # No Synapse or gateway listener on a host, but ServiceLB's public ports on every node.
    assert not [e for e in model["listeners"] if e["component"].startswith("synapse")]
    assert found[("s1", "gateway", "https")]["public"] and found[("a1", "gateway", "http")]["port"] == 80
    # ServiceLB's ports and the Service's node ports reach a pod through an address rewrite (the firewall
    # filters them before it); kube-proxy's health check port answers on the node itself, to no one.
    assert [(e["name"], e["port"], e["public"], e["forwarded"]) for e in model["listeners"]
            if e["host"] == "a1" and e["component"] == "gateway"] == [
        ("https", 443, True, True), ("http", 80, True, True), ("https_node_port", 30443, True, True),
        ("http_node_port", 30080, True, True), ("health_node_port", 30254, False, False)]
    assert found[("a1", "gateway", "health_node_port")]["clients"] == []
    assert ("s1", "gateway", "status") not in found and ("s1", "nginx_exporter", "nginx_exporter") not in found
    # The pods reach the data tier from their node's address; the nodes pull from the registry.
    assert found[("db", "postgres", "postgres")]["clients"] == ["a1", "s1"]
    assert found[("db", "redis", "redis")]["client_addresses"] == ["10.0.1.4", "10.0.1.1"]
    assert found[("reg", "registry", "registry")]["clients"] == ["a1", "build", "s1"]
    assert model["database"]["clients"] == ["a1", "s1"]
    assert ("build", "docker", "docker_metrics") in found and ("s1", "docker", "docker_metrics") not in found
    # Prometheus scrapes no Synapse process or gateway exporter on a host: it finds the Synapse and gateway
    # pods through the cluster's API (at the first server), which admits the monitoring host.
    jobs = {job["name"]: job for job in model["monitoring"]["scrape_jobs"]}
    assert "node" in jobs
    for name, selected in (("synapse", "synapse"), ("nginx", "gateway")):
        assert jobs[name]["targets"] == []
        assert jobs[name]["kubernetes"]["api_server"] == "10.0.1.1:6443"
        assert jobs[name]["kubernetes"]["namespace"] == "lanying-im"
        assert jobs[name]["kubernetes"]["selector"].endswith("app.kubernetes.io/name=" + selected)
        assert jobs[name]["kubernetes"]["port_name"] == "metrics"
    assert found[("s1", "k3s", "api")]["clients"] == ["a1", "db"]
    model = build_topology(ON_K3S, SPEC, ON_K3S_ADDRESSES, runtime="k3s",
                           k3s={"api_endpoint": "k8s.example.com", "api_port": 7443, "namespace": "chat"})
    job = next(j for j in model["monitoring"]["scrape_jobs"] if j["name"] == "synapse")
    assert (job["kubernetes"]["api_server"], job["kubernetes"]["namespace"]) == ("k8s.example.com:7443", "chat")
    with pytest.raises(TopologyError, match="k3s_platform_namespace is 'Chat'; it must be a Kubernetes namespace"):
        build_topology(ON_K3S, SPEC, ON_K3S_ADDRESSES, runtime="k3s", k3s={"namespace": "Chat"})
    # With a backup group: the node that holds the media store's volume sends its snapshots; any node may.
    model = build_topology(dict(ON_K3S, backup=["reg"]), SPEC, ON_K3S_ADDRESSES, runtime="k3s")
    assert table(model)[("reg", "backup", "media")]["clients"] == ["a1", "s1"]
    # Without a monitoring host nothing scrapes the pods, and the API admits the nodes only.
    model = build_topology(dict(ON_K3S, monitoring=[]), SPEC, ON_K3S_ADDRESSES, runtime="k3s")
    assert model["placement"]["probe"] == ["s1"]
    assert not {"synapse", "nginx"} & {job["name"] for job in model["monitoring"]["scrape_jobs"]}
    assert table(model)[("s1", "k3s", "api")]["clients"] == ["a1"]
    # The processes and their routes stay in the model, for the cluster's objects.
    assert [i["name"] for i in model["instances"] if i["kind"] == "main"] == ["synapse-main"]
    assert model["upstreams"]["main"]["servers"]


def test_on_docker_the_cluster_keys_are_empty():
    where = build_topology(K3S, SPEC, K3S_ADDRESSES)["placement"]
    assert (where["cluster_server"], where["cluster_agent"], where["chat_cluster"]) == ([], [], [])
    assert where["synapse"] and where["gateway"]


@pytest.mark.parametrize("groups, spec, message", [
    (ON_K3S, SPEC, None),
    (dict(ON_K3S, k3s_server=[]), SPEC,
     "lanying_im_runtime is k3s, but the inventory group k3s_server has no host"),
    (dict(ON_K3S, im_app=["a1"]), SPEC, "the inventory group im_app must be empty, and lists a1"),
    (dict(ON_K3S, im_gateway=["reg"]), SPEC, "the inventory group im_gateway must be empty, and lists reg"),
    (dict(ON_K3S, im_build=[]), SPEC, "the inventory group im_build has no host"),
    (dict(ON_K3S, im_build=["a1"]), SPEC, "im_build's host a1 is a k3s node"),
    (ON_K3S, dict(SPEC, stateful={"main": "s1"}), "lanying_im_topology.stateful.main is 's1'"),
])
def test_on_k3s_bad_inventories(groups, spec, message):
    if message is None:
        build_topology(groups, spec, ON_K3S_ADDRESSES, runtime="k3s")
    else:
        with pytest.raises(TopologyError, match=re.escape(message)):
            build_topology(groups, spec, ON_K3S_ADDRESSES, runtime="k3s")


def test_on_k3s_images_named_need_no_build_host():
    spec = dict(SPEC, images={"synapse": "reg:5000/lanying/synapse:1", "gateway": "reg:5000/lanying/gateway:1"})
    where = build_topology(dict(ON_K3S, im_build=[]), spec, ON_K3S_ADDRESSES, runtime="k3s")["placement"]
    assert (where["docker"], where["build"]) == ([], [])


def test_an_unknown_runtime_is_refused():
    with pytest.raises(TopologyError, match=re.escape("lanying_im_runtime is 'kubernetes'; it must be one of: docker")):
        build_topology(FOUR_HOSTS, SPEC, ADDRESSES, runtime="kubernetes")


def test_on_k3s_the_gateway_ports_clash_with_a_node_listener():
    with pytest.raises(TopologyError, match="port 9100 on host s1 is used twice"):
        build_topology(ON_K3S, dict(SPEC, ports={"https": 9100}), ON_K3S_ADDRESSES, runtime="k3s")


def test_on_docker_the_gateway_binds_its_ports_and_has_no_node_port():
    found = [e for e in build_topology(FOUR_HOSTS, SPEC, ADDRESSES)["listeners"] if e["component"] == "gateway"]
    assert found and not [e for e in found if e["forwarded"] or "node_port" in e["name"]]


def test_on_k3s_the_node_ports_stay_in_the_clusters_range():
    model = build_topology(ON_K3S, dict(SPEC, ports={"gateway_node_https": 31443}), ON_K3S_ADDRESSES, runtime="k3s")
    assert table(model)[("s1", "gateway", "https_node_port")]["port"] == 31443
    with pytest.raises(TopologyError, match=re.escape(
            "lanying_im_topology.ports.gateway_node_http is 8080; with lanying_im_runtime k3s it must be a node port "
            "from 30000 to 32767")):
        build_topology(ON_K3S, dict(SPEC, ports={"gateway_node_http": 8080}), ON_K3S_ADDRESSES, runtime="k3s")
    # On Docker they are not used: any port is taken.
    build_topology(FOUR_HOSTS, dict(SPEC, ports={"gateway_node_http": 8080}), ADDRESSES)

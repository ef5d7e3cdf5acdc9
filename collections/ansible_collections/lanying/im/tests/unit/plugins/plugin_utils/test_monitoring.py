from __future__ import annotations

import pytest

from ansible_collections.lanying.im.plugins.plugin_utils._topology import TopologyError, build_topology

SPEC = {"server_name": "chat.example.com"}
ONE_HOST = {"all": ["h1"], "im_app": ["h1"], "im_gateway": ["h1"], "im_db": ["h1"], "im_registry": ["h1"],
            "monitoring": ["h1"], "logging": ["h1"]}
MANY_HOSTS = {"all": ["db", "app1", "app2", "gw", "mon", "spare"], "ungrouped": ["spare"],
              "im_app": ["app1", "app2"], "im_build": ["app1"], "im_gateway": ["gw"], "im_db": ["db"],
              "im_registry": ["app1"], "monitoring": ["mon"]}


def jobs(groups):
    model = build_topology(groups, SPEC)
    return {job["name"]: ["%s:%d" % (t["host"], t["port"]) for t in job["targets"]]
            for job in model["monitoring"]["scrape_jobs"]}


@pytest.mark.parametrize(
    "groups, expected",
    [
        (ONE_HOST, {"node": ["h1:9100"], "synapse": ["h1:9000"], "postgres": ["h1:9187"], "redis": ["h1:9121"],
                    "nginx": ["h1:9113"], "registry": ["h1:5001"], "docker": ["h1:9323"],
                    "prometheus": ["h1:9090"], "alertmanager": ["h1:9093"]}),
        (MANY_HOSTS, {"node": ["db:9100", "app1:9100", "app2:9100", "gw:9100", "mon:9100", "spare:9100"],
                      "synapse": ["app1:9000"], "postgres": ["db:9187"], "redis": ["db:9121"], "nginx": ["gw:9113"],
                      "registry": ["app1:5001"], "docker": ["app1:9323", "app2:9323", "gw:9323"],
                      "prometheus": ["mon:9090"], "alertmanager": ["mon:9093"]}),
        # Without a monitoring group nothing scrapes, but the exporters still run and are listed.
        ({"im_app": ["a"], "im_gateway": ["a"], "im_db": ["a"]},
         {"node": ["a:9100"], "synapse": ["a:9000"], "postgres": ["a:9187"], "redis": ["a:9121"], "nginx": ["a:9113"],
          "docker": ["a:9323"]}),
    ],
)
def test_every_host_and_service_is_a_target(groups, expected):
    assert jobs(groups) == expected


def test_the_monitoring_host_is_the_first_of_its_group():
    assert build_topology(MANY_HOSTS, SPEC)["monitoring"]["prometheus"] == "mon"
    assert build_topology(dict(MANY_HOSTS, monitoring=[]), SPEC)["monitoring"]["prometheus"] is None


def test_workers_are_targets_with_their_type():
    model = build_topology(MANY_HOSTS, dict(SPEC, workers={"preset": "none", "sync": 2}))
    synapse = [job for job in model["monitoring"]["scrape_jobs"] if job["name"] == "synapse"][0]["targets"]
    assert [(t["host"], t["port"], t["labels"]) for t in synapse] == [
        ("app1", 9000, {"process": "synapse-main", "worker_type": "main"}),
        ("app2", 8720, {"process": "synapse-sync-1", "worker_type": "sync"}),
        ("app1", 8721, {"process": "synapse-sync-2", "worker_type": "sync"}),
    ]


@pytest.mark.parametrize(
    "ports, message",
    [
        ({"node_exporter": 9000}, "port 9000 on host h1 is used twice: synapse-main (metrics) and node_exporter"),
        ({"alertmanager": 8008}, "port 8008 on host h1 is used twice: synapse-main (client) and alertmanager"),
        ({"docker_metrics": 9121}, "used twice: docker (docker_metrics) and redis_exporter (redis_exporter)"),
    ],
)
def test_monitoring_ports_clash_with_nothing(ports, message):
    with pytest.raises(TopologyError) as err:
        build_topology(ONE_HOST, dict(SPEC, ports=ports))
    assert message in str(err.value)

from __future__ import annotations

import re

import pytest

from ansible_collections.lanying.im.plugins.plugin_utils._topology import MAIN_ROUTES, TopologyError, build_topology

ONE_HOST = {"all": ["h1"], "im_app": ["h1"], "im_gateway": ["h1"], "im_db": ["h1"], "im_registry": ["h1"]}
THREE_HOSTS = {"im_app": ["app1", "app2"], "im_gateway": ["gw1", "gw2"], "im_db": ["db1"]}
SPEC = {"server_name": "chat.example.com"}


def placement(model):
    return [(i["name"], i["kind"], i["host"]) for i in model["instances"]]


@pytest.mark.parametrize(
    "groups, expected",
    [
        (ONE_HOST, [("synapse-main", "main", "h1"), ("gateway-h1", "gateway", "h1"),
                    ("postgres", "postgres", "h1"), ("redis", "redis", "h1")]),
        (THREE_HOSTS, [("synapse-main", "main", "app1"), ("gateway-gw1", "gateway", "gw1"),
                       ("gateway-gw2", "gateway", "gw2"), ("postgres", "postgres", "db1"), ("redis", "redis", "db1")]),
    ],
)
def test_placement(groups, expected):
    assert placement(build_topology(groups, SPEC)) == expected


def test_same_input_same_model():
    assert build_topology(THREE_HOSTS, SPEC) == build_topology(dict(THREE_HOSTS), dict(SPEC))


def test_defaults_and_derived_values():
    model = build_topology(THREE_HOSTS, SPEC)
    main = model["instances"][0]
    assert main["ports"] == {"client": 8008, "replication": 8009, "metrics": 9000}
    assert main["routes"] == list(MAIN_ROUTES)
    assert model["public_baseurl"] == "https://chat.example.com/"
    assert model["upstreams"] == {"main": {"servers": [{"host": "app1", "port": 8008}], "balance": None, "fallback": None}}
    assert model["routes"] == [{"path": "/_matrix", "match": "prefix", "upstream": "main", "admin": False},
                               {"path": "/_synapse/client", "match": "prefix", "upstream": "main", "admin": False},
                               {"path": "/_synapse/admin", "match": "prefix", "upstream": "main", "admin": True}]
    assert model["workers"] == {} and model["synapse"] == {}
    assert model["federation"] is False and model["max_upload_mb"] == 50
    assert model["well_known"] == {"client": {"m.homeserver": {"base_url": "https://chat.example.com"}}}
    assert model["database"] == {"host": "db1", "port": 5432, "name": "synapse", "user": "synapse",
                                 "clients": ["app1", "app2"], "connections_needed": 30}
    assert model["redis"] == {"host": "db1", "port": 6379, "clients": ["app1", "app2"]}
    assert model["monitoring"]["prometheus"] is None


def test_spec_overrides():
    model = build_topology(ONE_HOST, {
        "server_name": "example.org:8448",
        "public_baseurl": "https://matrix.example.org/",
        "ports": {"client": 18008, "https": 8443},
        "images": {"synapse": "reg:5000/lanying/synapse:1", "gateway": "reg:5000/lanying/gateway:1"},
        "database_name": "chat",
    })
    main, gateway = model["instances"][:2]
    assert main["ports"]["client"] == 18008 and main["image"] == "reg:5000/lanying/synapse:1"
    assert gateway["ports"] == {"https": 8443, "http": 80, "gateway_status": 8081} and gateway["image"] == "reg:5000/lanying/gateway:1"
    assert model["database"]["name"] == "chat"
    assert model["public_baseurl"] == "https://matrix.example.org/"


@pytest.mark.parametrize(
    "baseurl, server",
    [("https://matrix.example.org/", "matrix.example.org:443"),
     ("https://matrix.example.org:8443/", "matrix.example.org:8443"),
     ("http://matrix.example.org/", "matrix.example.org:80")],
)
def test_federation_well_known(baseurl, server):
    model = build_topology(ONE_HOST, {"server_name": "example.org", "public_baseurl": baseurl, "federation": True})
    assert model["federation"] is True
    assert model["well_known"]["server"] == {"m.server": server}
    assert model["well_known"]["client"] == {"m.homeserver": {"base_url": baseurl.rstrip("/")}}


@pytest.mark.parametrize(
    "groups, spec, message",
    [
        ({"im_app": ["a"], "im_gateway": ["g"]}, SPEC, "inventory group im_db has no host"),
        ({"im_app": [], "im_gateway": ["g"], "im_db": ["d"]}, SPEC, "inventory group im_app has no host"),
        (["im_app"], SPEC, "inventory groups: expected a mapping"),
        (ONE_HOST, "chat.example.com", "lanying_im_topology: expected a mapping of settings"),
        (ONE_HOST, {"server_name": "chat.example.com", "server_nmae": "x"},
         "lanying_im_topology: unknown key 'server_nmae'; did you mean 'server_name'?"),
        (ONE_HOST, {"server_name": "chat.example.com", "ports": {"clinet": 1}},
         "lanying_im_topology.ports: unknown key 'clinet'; did you mean 'client'?"),
        (ONE_HOST, {"server_name": "chat.example.com", "ports": {"client": 70000}},
         "lanying_im_topology.ports.client is 70000; it must be a port number from 1 to 65535"),
        (ONE_HOST, {"server_name": "chat.example.com", "ports": {"client": True}}, "ports.client is True"),
        (ONE_HOST, {"server_name": "chat.example.com", "ports": {"client": 443}},
         "port 443 on host h1 is used twice: synapse-main (client) and gateway (https)"),
        (ONE_HOST, {"server_name": "chat.example.com", "ports": {"redis": 5432}},
         "port 5432 on host h1 is used twice: postgres (postgres) and redis (redis)"),
        (ONE_HOST, {}, "the server name is not set: set lanying_im_server_name"),
        (ONE_HOST, {"server_name": "chat.example.com", "federation": "yes"},
         "lanying_im_topology.federation is 'yes'; it must be true or false"),
        (ONE_HOST, {"server_name": "chat.example.com", "max_upload_mb": 0},
         "lanying_im_topology.max_upload_mb is 0; it must be a whole number of megabytes from 1 to 10240"),
        (ONE_HOST, {"server_name": "chat.example.com", "max_upload_mb": "50M"}, "max_upload_mb is '50M'"),
        (ONE_HOST, {"server_name": ""}, "the server name is not set"),
        (ONE_HOST, {"server_name": 5}, "lanying_im_topology.server_name is 5"),
        (ONE_HOST, {"server_name": "https://chat.example.com"}, "server_name is 'https://chat.example.com'"),
        (ONE_HOST, {"server_name": "chat.example.com", "public_baseurl": "https://chat.example.com"},
         "'https://host[:port]/' (a DNS name or IPv4 address"),
        (ONE_HOST, {"server_name": "chat.example.com", "images": ["x"]}, "lanying_im_topology.images: expected a mapping"),
        (ONE_HOST, {"server_name": "chat.example.com", "images": {"synapse": "Reg/Synapse:1"}},
         "lanying_im_topology.images.synapse is 'Reg/Synapse:1'; it must be an image reference"),
        (ONE_HOST, {"server_name": "chat.example.com", "images": {"gateway": "reg/nginx:1;reboot"}},
         "lanying_im_topology.images.gateway is 'reg/nginx:1;reboot'"),
        (ONE_HOST, {"server_name": "chat.example.com", "images": {"synaps": "reg/x:1"}},
         "lanying_im_topology.images: unknown key 'synaps'; did you mean 'synapse'?"),
        (ONE_HOST, {"server_name": "chat.example.com", "database_name": "synapse\nhost all all 0.0.0.0/0 trust"},
         "lanying_im_topology.database_name is 'synapse\\nhost all all 0.0.0.0/0 trust'; it must be a PostgreSQL identifier"),
        (ONE_HOST, {"server_name": "chat.example.com", "database_user": "Synapse"},
         "lanying_im_topology.database_user is 'Synapse'; it must be a PostgreSQL identifier"),
        (ONE_HOST, {"server_name": "chat.example.com:70000"}, "a DNS name with an optional port from 1 to 65535"),
        (ONE_HOST, {"server_name": "chat.example.com", "public_baseurl": "https://chat.example.com:0/"},
         "public_baseurl is 'https://chat.example.com:0/'"),
        (ONE_HOST, {"server_name": "chat.example.com", "public_baseurl": "https://chat;example.com/"},
         "public_baseurl is 'https://chat;example.com/'"),
        (ONE_HOST, {"server_name": "chat.example.com", "ports": {"worker_client": 65500}, "workers": "small"},
         "would listen on client port 65"),
    ],
)
def test_errors_name_the_setting_and_the_fix(groups, spec, message):
    with pytest.raises(TopologyError) as err:
        build_topology(groups, spec)
    assert message in str(err.value)


@pytest.mark.parametrize("reference", [
    "registry.example.com:5000/lanying/synapse:1.163.2-abc123", "nginx", "docker.io/library/nginx:1.28",
    "reg.example.com/x/y@sha256:" + "a" * 64])
def test_image_references_accepted(reference):
    model = build_topology(ONE_HOST, {"server_name": "chat.example.com", "images": {"synapse": reference}})
    assert model["instances"][0]["image"] == reference


def test_ports_on_different_hosts_do_not_clash():
    model = build_topology(THREE_HOSTS, {"server_name": "chat.example.com", "ports": {"client": 443}})
    assert model["instances"][0]["ports"]["client"] == 443


TWO_DB = {"im_app": ["app1", "app2", "app3"], "im_gateway": ["gw1"], "im_db": ["db1", "db2"]}


def test_stateful_hosts_default_to_the_first_of_their_group():
    model = build_topology(TWO_DB, SPEC)
    assert model["stateful"] == {"database": "db1", "main": "app1", "media": "app1"}
    small = build_topology(TWO_DB, dict(SPEC, workers="small"))
    media = [i for i in small["instances"] if i.get("worker_type") == "media"]
    assert small["stateful"] == {"database": "db1", "main": "app1", "media": media[0]["host"]}
    assert media[0]["host"] != "app1"


def test_stateful_hosts_named_explicitly():
    model = build_topology(TWO_DB, dict(SPEC, workers="small", stateful={"database": "db2", "main": "app3", "media": "app1"}))
    assert model["stateful"] == {"database": "db2", "main": "app3", "media": "app1"}
    by_name = {i["name"]: i["host"] for i in model["instances"]}
    assert by_name["synapse-main"] == "app3" and by_name["synapse-media-1"] == "app1"
    assert by_name["postgres"] == "db2" and by_name["redis"] == "db2"
    assert model["database"]["host"] == "db2" and model["redis"]["host"] == "db2"
    assert model["placement"]["postgres"] == ["db2"]
    # The gateway sends media requests to the named host.
    media_servers = [u["servers"] for name, u in model["upstreams"].items() if name.startswith("media")]
    assert media_servers and all(s["host"] == "app1" for servers in media_servers for s in servers)


@pytest.mark.parametrize(
    "stateful, message",
    [
        ({"database": "app1"}, "stateful.database is 'app1', which is not a host of im_db (db1, db2)"),
        ({"main": "db1"}, "stateful.main is 'db1', which is not a host of im_app (app1, app2, app3)"),
        ({"media": "app2"}, "the workers preset runs no media worker: the main process (on app1)"),
        ({"disk": "db1"}, "lanying_im_topology.stateful"),
        ("db1", "stateful: expected a mapping"),
    ],
)
def test_bad_stateful_hosts(stateful, message):
    with pytest.raises(TopologyError, match=re.escape(message)):
        build_topology(TWO_DB, dict(SPEC, stateful=stateful))

from __future__ import annotations

import re

import pytest

from ansible_collections.lanying.im.plugins.plugin_utils._topology import TopologyError, build_topology

DB = {"im_gateway": ["gw"], "im_db": ["db"]}


def hosts(count):
    return dict(DB, im_app=["app%d" % n for n in range(1, count + 1)])


def model(app_hosts=2, **spec):
    return build_topology(hosts(app_hosts), dict({"server_name": "chat.example.com"}, **spec))


def synapse(m):
    return [i for i in m["instances"] if i["kind"] in ("main", "worker")]


def per_host(m):
    counts = {}
    for instance in synapse(m):
        counts[instance["host"]] = counts.get(instance["host"], 0) + 1
    return counts


@pytest.mark.parametrize("app_hosts, preset, expected", [
    (1, "none", {"app1": 1}),
    (1, "small", {"app1": 8}),
    (2, "small", {"app1": 4, "app2": 4}),
    (5, "small", {"app1": 2, "app2": 2, "app3": 2, "app4": 1, "app5": 1}),
    (1, "standard", {"app1": 11}),
    (2, "standard", {"app1": 6, "app2": 5}),
    (5, "standard", {"app1": 3, "app2": 3, "app3": 2, "app4": 1, "app5": 2}),
])
def test_placement_spreads_the_processes(app_hosts, preset, expected):
    assert per_host(model(app_hosts, workers=preset)) == expected


def test_placement_is_deterministic_and_main_stays_first():
    first, second = model(3, workers="standard"), model(3, workers="standard")
    assert first == second
    assert synapse(first)[0]["name"] == "synapse-main" and synapse(first)[0]["host"] == "app1"


@pytest.mark.parametrize("app_hosts", [1, 2, 5])
def test_adding_or_removing_workers_moves_no_other_worker(app_hosts):
    def placed(workers):
        return {i["name"]: (i["host"], i["ports"]) for i in synapse(model(app_hosts, workers=workers))}

    small = placed("small")
    more = placed({"preset": "small", "sync": 3, "client_reader": 2, "pusher": 0})
    assert all(more[name] == where for name, where in small.items() if name in more)
    assert set(small) - set(more) == {"synapse-pusher-1"}


def test_every_process_has_its_own_ports_on_its_host():
    m = model(1, workers={"preset": "standard", "sync": 20, "client_reader": 20})
    used = [(i["host"], p) for i in m["instances"] for p in i["ports"].values()]
    assert len(used) == len(set(used))


def test_a_worker_keeps_its_ports_when_others_are_added():
    before = {i["name"]: i["ports"] for i in synapse(model(2, workers="small"))}
    after = {i["name"]: i["ports"] for i in synapse(model(2, workers={"preset": "small", "sync": 3, "pusher": 2}))}
    assert all(after[name] == ports for name, ports in before.items())


def test_explicit_counts_override_the_preset():
    m = model(2, workers={"preset": "small", "sync": 3, "media": 0})
    assert m["workers"]["sync"] == 3 and "media" not in m["workers"]
    assert "enable_media_repo" not in m["synapse"]
    assert [i["name"] for i in synapse(m) if i.get("worker_type") == "sync"] == [
        "synapse-sync-1", "synapse-sync-2", "synapse-sync-3"]


def test_synapse_settings_from_the_workers():
    settings = model(2, workers="standard")["synapse"]
    assert settings["instance_map"] == {
        "main": {"host": "app1", "port": 8009},
        "synapse-stream-writer-1": {"host": "app2", "port": 8400},
        "synapse-event-persister-1": {"host": "app2", "port": 8460},
        "synapse-event-persister-2": {"host": "app1", "port": 8461},
    }
    assert settings["stream_writers"]["events"] == ["synapse-event-persister-1", "synapse-event-persister-2"]
    assert settings["stream_writers"]["typing"] == ["synapse-stream-writer-1"]
    assert settings["pusher_instances"] == ["synapse-pusher-1"]
    assert settings["run_background_tasks_on"] == "synapse-background-1"
    assert settings["media_instance_running_background_jobs"] == "synapse-media-1"
    assert settings["enable_media_repo"] is False
    assert "federation_sender_instances" not in settings


def test_federation_adds_senders_and_federation_resources():
    m = model(2, workers="small", federation=True)
    assert m["synapse"]["federation_sender_instances"] == ["synapse-federation-sender-1"]
    reader = next(i for i in synapse(m) if i.get("worker_type") == "client_reader")
    assert reader["resources"] == ["client", "federation"]


def test_media_worker_runs_as_the_media_repository():
    media = next(i for i in synapse(model(1, workers="small")) if i.get("worker_type") == "media")
    assert media["worker_app"] == "synapse.app.media_repository" and media["resources"] == ["media", "client"]


@pytest.mark.parametrize("path, upstream, balance", [
    ("/_matrix/client/v3/sync", "sync_by_user", "user"),
    ("/_matrix/client/r0/sync", "sync_by_user", "user"),
    ("/_matrix/client/v3/rooms/!a:x/send/m.room.message/t1", "client_reader_by_room", "room"),
    ("/_matrix/client/v3/rooms/!a:x/messages", "client_reader_by_room", "room"),
    ("/_matrix/client/v3/join/!a:x", "client_reader_by_room", "room"),
    ("/_matrix/client/v3/login", "client_reader", None),
    ("/_matrix/client/v3/createRoom", "client_reader", None),
    ("/_matrix/client/versions", "client_reader", None),
    ("/_matrix/client/v3/rooms/!a:x/typing/@u:x", "stream_writer", None),
    ("/_matrix/client/v3/rooms/!a:x/receipt/m.read/$e", "stream_writer", None),
    ("/_matrix/client/v3/user/@u:x/account_data/m.direct", "stream_writer", None),
    ("/_matrix/client/v3/sendToDevice/m.room_key/t1", "stream_writer", None),
    ("/_matrix/media/v3/upload", "media", None),
    ("/_matrix/client/v1/media/download/x/y", "media", None),
    ("/_synapse/admin/v1/purge_media_cache", "media", None),
    ("/_matrix/client/v3/logout", "main", None),
    ("/_synapse/admin/v2/users/@u:x", "main", None),
])
def test_routing_table_sends_each_path_to_its_worker(path, upstream, balance):
    m = model(2, workers="small")

    def matches(route):
        return re.search(route["path"], path) if route["match"] == "regex" else path.startswith(route["path"])

    chosen = next(r for r in m["routes"] if matches(r))
    assert chosen["upstream"] == upstream
    assert m["upstreams"][upstream]["balance"] == balance


def test_only_what_main_also_serves_falls_back_to_main():
    fallbacks = {name: u["fallback"] for name, u in model(2, workers="small")["upstreams"].items()}
    assert fallbacks == {"stream_writer": None, "media": None, "sync_by_user": "main", "client_reader_by_room": "main",
                         "client_reader": "main", "main": None}


def test_media_admin_routes_stay_admin_only():
    routes = [r for r in model(1, workers="small")["routes"] if r["upstream"] == "media"]
    assert [r["admin"] for r in routes] == [False, False, False, True]


def test_without_workers_everything_goes_to_main():
    m = model(2)
    assert {r["upstream"] for r in m["routes"]} == {"main"} and list(m["upstreams"]) == ["main"]


@pytest.mark.parametrize("workers, message", [
    ("large", "lanying_im_topology.workers.preset is 'large'; allowed presets: none, small, standard"),
    ("smal", "did you mean 'small'?"),
    ({"preset": "small", "synk": 2}, "unknown worker type 'synk'; did you mean 'sync'?"),
    ({"media": 2}, "lanying_im_topology.workers.media is 2; at most 1: one media repository process owns the media store"),
    ({"stream_writer": 2}, "at most 1: the typing, presence and push_rules streams allow only one writer"),
    ({"background": 2}, "at most 1: Synapse runs its background tasks in exactly one process"),
    ({"sync": 21}, "lanying_im_topology.workers.sync is 21; at most 20"),
    ({"sync": -1}, "lanying_im_topology.workers.sync is -1; it must be a whole number, 0 or more"),
    ({"sync": "2"}, "lanying_im_topology.workers.sync is '2'"),
    ({"federation_sender": 1}, "federation_sender is 1 but federation is off"),
    (["sync"], "lanying_im_topology.workers is ['sync']; it must be a preset"),
])
def test_impossible_worker_specs_are_refused(workers, message):
    with pytest.raises(TopologyError) as err:
        model(2, workers=workers)
    assert message in str(err.value)


def test_database_connections_grow_with_the_workers():
    assert model(2)["database"]["connections_needed"] == 30
    assert model(2, workers="standard")["database"]["connections_needed"] == 10 * 11 + 20


def test_metrics_targets_cover_every_process():
    jobs = {job["name"]: job["targets"] for job in model(2, workers="small")["monitoring"]["scrape_jobs"]}
    targets = ["%s:%d" % (t["host"], t["port"]) for t in jobs["synapse"]]
    assert len(targets) == 8 and "app1:9000" in targets and "app2:8700" in targets
    assert {t["labels"]["worker_type"] for t in jobs["synapse"]} >= {"main", "sync", "stream_writer", "media"}

from __future__ import annotations

import pytest

from ansible_collections.lanying.im.plugins.module_utils._im_probe import ProbeFailure, probe_metrics, run_probe
from ansible_collections.lanying.im.plugins.module_utils._matrix import MatrixUnreachable
from ansible_collections.lanying.im.tests.unit.plugins.module_utils.matrix_exchange import (
    LOGIN_REFUSED, Exchange, client_factory, login_ok)

PARAMS = {"sender_user": "probe-sender", "sender_password": "a", "receiver_user": "probe-receiver",
          "receiver_password": "b", "room_alias_name": "lanying-probe", "timeout": 5}
ROOM = "!r:chat.test"
LOGINS = [login_ok("@probe-sender:chat.test", "S"), login_ok("@probe-receiver:chat.test", "R")]
JOINED = [("GET", "/_matrix/client/v3/directory/room/%23lanying-probe%3Achat.test", 200, {"room_id": ROOM}),
          ("GET", "/_matrix/client/v3/joined_rooms", 200, {"joined_rooms": [ROOM]}),
          ("GET", "/_matrix/client/v3/joined_rooms", 200, {"joined_rooms": [ROOM]})]
SENT = [("GET", "/_matrix/client/v3/sync?timeout=0", 200, {"next_batch": "s1"}),
        ("PUT", "/_matrix/client/v3/rooms/%21r%3Achat.test/send/m.room.message/", 200, {"event_id": "$e1"})]


def sync_with(events, batch):
    return ("GET", "/_matrix/client/v3/sync?timeout=", 200, {
        "next_batch": batch,
        "rooms": {"join": {ROOM: {"timeline": {"events": [{"event_id": e} for e in events]}}}}})


class Clock(object):
    def __init__(self, step):
        self.now, self.step = 100.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def probe(script, check_mode=False, step=0.01, **overrides):
    exchange = Exchange(script)
    make = client_factory(exchange)
    result = run_probe(make(), make(), dict(PARAMS, **overrides), check_mode, clock=Clock(step))
    assert exchange.done(), "requests left unanswered: %r" % exchange.script
    return result, exchange


def test_message_delivered_with_latency():
    result, exchange = probe(LOGINS + JOINED + SENT + [sync_with([], "s2"), sync_with(["$e0", "$e1"], "s3")])
    assert result["event_id"] == "$e1" and result["room_id"] == ROOM and not result["changed"]
    assert result["latency_ms"] == pytest.approx(30.0)
    syncs = [s for s in exchange.sent if s["path"].startswith("/_matrix/client/v3/sync")]
    assert "since=s1" in syncs[1]["path"] and "since=s2" in syncs[2]["path"]
    assert syncs[1]["headers"] == {"Authorization": "Bearer R"}
    sent = exchange.bodies("PUT", "/_matrix/client/v3/rooms/")
    assert sent[0]["msgtype"] == "m.notice" and sent[0]["body"].startswith("lanying.im delivery probe ")


def test_first_run_creates_the_room_and_joins_the_receiver():
    script = LOGINS + [
        ("GET", "/_matrix/client/v3/directory/room/", 404, {"errcode": "M_NOT_FOUND"}),
        ("POST", "/_matrix/client/v3/createRoom", 200, {"room_id": ROOM}),
        ("GET", "/_matrix/client/v3/joined_rooms", 200, {"joined_rooms": [ROOM]}),
        ("GET", "/_matrix/client/v3/joined_rooms", 200, {"joined_rooms": []}),
        ("POST", "/_matrix/client/v3/rooms/%21r%3Achat.test/invite", 403, {"errcode": "M_FORBIDDEN"}),
        ("POST", "/_matrix/client/v3/join/%21r%3Achat.test", 200, {"room_id": ROOM}),
    ] + SENT + [sync_with(["$e1"], "s2")]
    exchange = probe(script)[1]
    create = exchange.bodies("POST", "/_matrix/client/v3/createRoom")[0]
    assert create["room_alias_name"] == "lanying-probe" and create["invite"] == ["@probe-receiver:chat.test"]


def test_check_mode_logs_in_and_sends_nothing():
    result, exchange = probe(LOGINS, check_mode=True)
    assert "no message sent" in result["msg"] and result["room_alias"] == "#lanying-probe:chat.test"


@pytest.mark.parametrize("script, step, message, reason", [
    ([("POST", "/_matrix/client/v3/login", 0, MatrixUnreachable("Connection refused"))], 0.01,
     "the gateway at http://synapse:8008 is unreachable: Connection refused", "unreachable"),
    ([LOGINS[0], LOGIN_REFUSED], 0.01, "login refused for the receiver probe-receiver: Invalid username or password",
     "login_refused"),
    ([("POST", "/_matrix/client/v3/login", 502, None)], 0.01,
     "answered HTTP 502: the homeserver behind it is not answering", "homeserver_down"),
    (LOGINS + JOINED + SENT + [sync_with([], "s2")], 3.0,
     "message $e1 from @probe-sender:chat.test was not delivered to @probe-receiver:chat.test within 5 seconds",
     "not_delivered"),
    (LOGINS + [("GET", "/_matrix/client/v3/directory/room/", 500, {"errcode": "M_UNKNOWN"})], 0.01,
     "the probe failed: GET /_matrix/client/v3/directory/room/%23lanying-probe%3Achat.test answered HTTP 500", "error"),
])
def test_failures_name_the_step(script, step, message, reason):
    with pytest.raises(ProbeFailure) as err:
        probe(script, step=step)
    assert message in str(err.value)
    assert err.value.reason == reason


def test_metrics_of_a_delivery():
    text = probe_metrics({"latency_ms": 74.2}, None, 1700000000.5)
    assert 'lanying_im_probe_success{reason=""} 1\n' in text
    assert "lanying_im_probe_latency_seconds 0.0742\n" in text
    assert "lanying_im_probe_last_run_timestamp_seconds 1700000000.500\n" in text
    assert text.count("# TYPE ") == 3 and text.endswith("\n")


def test_metrics_of_a_failure_carry_the_reason_and_no_latency():
    text = probe_metrics(None, ProbeFailure("message $e1 was not delivered", "not_delivered"), 1700000000)
    assert 'lanying_im_probe_success{reason="not_delivered"} 0\n' in text
    assert "latency" not in text and "$e1" not in text

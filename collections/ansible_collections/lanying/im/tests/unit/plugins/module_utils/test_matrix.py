from __future__ import annotations

import hashlib
import hmac

import pytest

from ansible_collections.lanying.im.plugins.module_utils._matrix import (
    MatrixError, registration_mac, user_id_for, localpart)
from ansible_collections.lanying.im.tests.unit.plugins.module_utils.matrix_exchange import (
    Exchange, client_factory, login_ok)


def test_registration_mac_matches_synapse_recipe():
    expected = hmac.new(b"s3cret", b"n1\x00alice\x00pw\x00admin", hashlib.sha1).hexdigest()
    assert registration_mac("s3cret", "n1", "alice", "pw", True) == expected
    assert registration_mac("s3cret", "n1", "alice", "pw", False) != expected


@pytest.mark.parametrize("name, server, user_id, local", [
    ("alice", "chat.example.com", "@alice:chat.example.com", "alice"),
    ("@bob:example.org", "chat.example.com", "@bob:example.org", "bob"),
])
def test_user_ids(name, server, user_id, local):
    assert user_id_for(name, server) == user_id
    assert localpart(user_id) == local


def test_rate_limit_is_waited_out():
    sleeps = []
    exchange = Exchange([("POST", "/_matrix/client/v3/login", 429, {"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 1500}),
                         login_ok("@a:x")])
    client = client_factory(exchange, sleeps)()
    assert client.login("a", "pw") == "@a:x"
    assert sleeps == [1.5]
    assert exchange.sent[1]["body"]["identifier"] == {"type": "m.id.user", "user": "a"}


def test_rate_limit_longer_than_a_minute_fails():
    exchange = Exchange([("POST", "/_matrix/client/v3/login", 429, {"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 120000})])
    with pytest.raises(MatrixError, match=r"HTTP 429 \(M_LIMIT_EXCEEDED\)"):
        client_factory(exchange)().login("a", "pw")


def test_token_is_sent_after_login_and_dropped_by_logout():
    exchange = Exchange([login_ok("@a:x", "T1"), ("GET", "/_synapse/admin/v2/users/%40b%3Ax", 404, {"errcode": "M_NOT_FOUND"}),
                         ("POST", "/_matrix/client/v3/logout", 200, {})])
    client = client_factory(exchange)()
    client.login("a", "pw")
    assert client.get_user("@b:x") is None
    client.logout()
    assert exchange.sent[1]["headers"] == {"Authorization": "Bearer T1"}
    assert client.token is None and exchange.done()


def test_error_message_names_request_and_error():
    exchange = Exchange([("GET", "/_synapse/admin/v2/users/", 500, {"errcode": "M_UNKNOWN", "error": "boom"})])
    with pytest.raises(MatrixError) as err:
        client_factory(exchange)().get_user("@b:x")
    assert str(err.value) == "GET /_synapse/admin/v2/users/%40b%3Ax answered HTTP 500 (M_UNKNOWN: boom)"

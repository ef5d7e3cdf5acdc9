from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import socket
import threading

import pytest

from ansible_collections.lanying.im.plugins.module_utils._matrix import (
    MatrixError, MatrixUnreachable, registration_mac, urllib_transport, user_id_for, localpart)
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


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answers = {"/ok": (200, {"echo": body, "auth": self.headers.get("Authorization")}),
                   "/missing": (404, {"errcode": "M_NOT_FOUND"}), "/moved": (302, None)}
        status, payload = answers[self.path]
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/ok")
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def local_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_port
    server.shutdown()
    server.server_close()


def test_urllib_transport_speaks_json_and_keeps_error_answers(local_server):
    transport = urllib_transport()
    status, payload = transport("POST", local_server + "/ok", {"a": 1}, {"Authorization": "Bearer T"}, 5)
    assert (status, payload) == (200, {"echo": {"a": 1}, "auth": "Bearer T"})
    assert transport("POST", local_server + "/missing", {}, {}, 5) == (404, {"errcode": "M_NOT_FOUND"})
    # Redirects are not followed: a Matrix API answer is never a redirect.
    assert transport("POST", local_server + "/moved", {}, {}, 5)[0] == 302


def test_urllib_transport_reports_an_unreachable_server():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(MatrixUnreachable):
        urllib_transport()("POST", "http://127.0.0.1:%d/ok" % port, {}, {}, 5)

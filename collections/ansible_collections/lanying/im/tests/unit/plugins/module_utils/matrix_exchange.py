"""A recorded exchange with a server (a homeserver, a search cluster), replayed to the client under test."""

from __future__ import annotations

from ansible_collections.lanying.im.plugins.module_utils._matrix import MatrixClient

BASE = "http://synapse:8008"


class Exchange(object):
    """Answers requests from a script of (method, path prefix, status, payload), in order."""

    def __init__(self, script, base=BASE):
        self.script = list(script)
        self.base = base
        self.sent = []

    def __call__(self, method, url, body, headers, timeout):
        assert self.script, "unexpected request %s %s" % (method, url)
        want_method, want_path, status, payload = self.script.pop(0)
        assert url.startswith(self.base), "request to %s, not %s" % (url, self.base)
        path = url[len(self.base):]
        assert (method, path[:len(want_path)]) == (want_method, want_path), "got %s %s" % (method, path)
        self.sent.append({"method": method, "path": path, "body": body, "headers": headers})
        if isinstance(payload, Exception):
            raise payload
        return status, payload

    def bodies(self, method, path):
        return [s["body"] for s in self.sent if s["method"] == method and s["path"].startswith(path)]

    def done(self):
        return not self.script


def client_factory(exchange, sleeps=None):
    def make():
        return MatrixClient(BASE, exchange, sleep=(sleeps.append if sleeps is not None else (lambda s: None)))
    return make


LOGIN = "/_matrix/client/v3/login"
LOGOUT = "/_matrix/client/v3/logout"


def login_ok(user_id, token="tok"):
    return ("POST", LOGIN, 200, {"access_token": token, "user_id": user_id, "device_id": "D"})


LOGIN_REFUSED = ("POST", LOGIN, 403, {"errcode": "M_FORBIDDEN", "error": "Invalid username or password"})
LOGOUT_OK = ("POST", LOGOUT, 200, {})

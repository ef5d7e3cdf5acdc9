# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Matrix client for the lanying.im modules (private to this collection; no stable API).

``MatrixClient`` speaks the client-server API and Synapse's admin API through a ``transport``: a callable
``transport(method, url, body, headers, timeout) -> (status, payload)`` where ``body`` and ``payload`` are
decoded JSON (``payload`` is ``None`` when the answer has no JSON body) and a failure to reach the server
raises ``MatrixUnreachable``. Modules pass ``open_url_transport``; the probe's timer on the gateway host,
which runs without Ansible, passes ``urllib_transport``; unit tests pass a recorded exchange. Apart from
``open_url_transport`` this file needs only the standard library.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import time
import urllib.request

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not supported by this collection
    from urllib import quote

from urllib.error import HTTPError, URLError

# Wait at most this long for a rate limit (M_LIMIT_EXCEEDED) to pass before giving up.
MAX_RATE_LIMIT_WAIT = 60.0
DEVICE_NAME = "lanying.im automation"


class MatrixUnreachable(Exception):
    """The server could not be reached at all (connection refused, DNS, TLS)."""


class MatrixError(Exception):
    """The server answered with an error."""

    def __init__(self, method, path, status, payload):
        payload = payload if isinstance(payload, dict) else {}
        self.status = status
        self.errcode = payload.get("errcode", "")
        self.error = payload.get("error", "")
        detail = ": ".join(part for part in (self.errcode, self.error) if part) or "no error detail"
        super(MatrixError, self).__init__("%s %s answered HTTP %s (%s)" % (method, path, status, detail))


def _json_transport(send):
    """A transport around ``send(method, url, data, headers, timeout) -> response`` (urllib-like)."""

    def transport(method, url, body, headers, timeout):
        data = None if body is None else json.dumps(body).encode("utf-8")
        all_headers = {"Accept": "application/json"}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        try:
            response = send(method, url, data, all_headers, timeout)
            status, raw = response.getcode(), response.read()
        except HTTPError as err:
            status, raw = err.code, err.read() if err.fp is not None else b""
        except (URLError, OSError, ValueError) as err:
            raise MatrixUnreachable(str(getattr(err, "reason", err)))
        try:
            payload = json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:
            payload = None
        return status, payload

    return transport


def open_url_transport(validate_certs=True, ca_path=None):
    """Return a transport that sends requests with Ansible's open_url."""
    from ansible.module_utils.urls import open_url

    def send(method, url, data, headers, timeout):
        return open_url(url, data=data, headers=headers, method=method, timeout=timeout,
                        validate_certs=validate_certs, ca_path=ca_path, follow_redirects="none")

    return _json_transport(send)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def urllib_transport(ca_path=None):
    """Return a transport on the standard library alone, trusting ``ca_path`` (or the system's CAs)."""
    context = ssl.create_default_context(cafile=ca_path)
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirect())

    def send(method, url, data, headers, timeout):
        return opener.open(urllib.request.Request(url, data=data, headers=headers, method=method), timeout=timeout)

    return _json_transport(send)


def registration_mac(shared_secret, nonce, username, password, admin):
    """The HMAC Synapse expects for shared-secret registration."""
    mac = hmac.new(shared_secret.encode("utf-8"), digestmod=hashlib.sha1)
    for part in (nonce, username, password):
        mac.update(part.encode("utf-8"))
        mac.update(b"\x00")
    mac.update(b"admin" if admin else b"notadmin")
    return mac.hexdigest()


class MatrixClient(object):
    """Client-server and admin API calls, with rate limits waited out."""

    def __init__(self, base_url, transport, timeout=30, sleep=time.sleep):
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.timeout = timeout
        self.sleep = sleep
        self.token = None
        self.user_id = None

    def request(self, method, path, body=None, ok=(200,), timeout=None):
        """Send one request; return the payload of an answer whose status is in ``ok``."""
        waited = 0.0
        while True:
            headers = {"Authorization": "Bearer %s" % self.token} if self.token else {}
            status, payload = self.transport(method, self.base_url + path, body, headers,
                                             timeout if timeout is not None else self.timeout)
            if status == 429:
                wait = ((payload or {}).get("retry_after_ms") or 1000) / 1000.0
                if waited + wait <= MAX_RATE_LIMIT_WAIT:
                    self.sleep(wait)
                    waited += wait
                    continue
            if status not in ok:
                raise MatrixError(method, path.split("?")[0], status, payload)
            return payload if payload is not None else {}

    def login(self, user, password):
        payload = self.request("POST", "/_matrix/client/v3/login", {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
            "initial_device_display_name": DEVICE_NAME,
        })
        self.token, self.user_id = payload["access_token"], payload["user_id"]
        return self.user_id

    def logout(self):
        """End the session (and its device) if there is one; never fails."""
        if self.token:
            try:
                self.request("POST", "/_matrix/client/v3/logout", {})
            except (MatrixError, MatrixUnreachable):
                pass
            self.token = None

    def register_with_shared_secret(self, shared_secret, username, password, admin, displayname=None):
        nonce = self.request("GET", "/_synapse/admin/v1/register")["nonce"]
        body = {
            "nonce": nonce,
            "username": username,
            "password": password,
            "admin": admin,
            "mac": registration_mac(shared_secret, nonce, username, password, admin),
        }
        if displayname:
            body["displayname"] = displayname
        payload = self.request("POST", "/_synapse/admin/v1/register", body)
        self.token, self.user_id = payload["access_token"], payload["user_id"]
        return self.user_id

    def get_user(self, user_id):
        """Synapse's record of a user, or None when there is no such user."""
        try:
            return self.request("GET", "/_synapse/admin/v2/users/%s" % quote(user_id, safe=""))
        except MatrixError as err:
            if err.status == 404:
                return None
            raise

    def put_user(self, user_id, body):
        return self.request("PUT", "/_synapse/admin/v2/users/%s" % quote(user_id, safe=""), body, ok=(200, 201))

    def get_ratelimit(self, user_id):
        """The user's rate-limit override ({} when there is none)."""
        return self.request("GET", "/_synapse/admin/v1/users/%s/override_ratelimit" % quote(user_id, safe=""))

    def set_ratelimit(self, user_id, override):
        path = "/_synapse/admin/v1/users/%s/override_ratelimit" % quote(user_id, safe="")
        if override is None:
            return self.request("DELETE", path)
        return self.request("POST", path, override)


def user_id_for(name, server_name):
    """@name:server for a bare localpart; a full user ID is returned as it is."""
    return name if name.startswith("@") else "@%s:%s" % (name, server_name)


def localpart(user_id):
    return user_id[1:].split(":", 1)[0] if user_id.startswith("@") else user_id


def path_quote(value):
    return quote(value, safe="")

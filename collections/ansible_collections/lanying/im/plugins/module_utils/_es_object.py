# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Objects of an Elasticsearch or OpenSearch cluster, read, compared and written only when they differ
(private to the lanying.im collection; no stable API).

Each kind has a path, a way to find the object in what GET answers, and the body PUT takes. The server
adds fields of its own (versions, dates, defaults): an object is up to date when everything asked for is
there with the same value (settings compared the way the server normalises them: dotted names, without
the ``index.`` prefix, values as strings). ``transport`` is the callable of ``_matrix``:
``transport(method, url, body, headers, timeout) -> (status, payload)``.
"""

from __future__ import annotations

import base64

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not supported by this collection
    from urllib import quote

KINDS = ("index_template", "component_template", "ilm_policy", "ism_policy", "ingest_pipeline")


class EsObjectError(Exception):
    """The cluster refused a request, or the object cannot be managed as asked."""


def auth_headers(username=None, password=None, api_key=None):
    """HTTP headers for basic auth or an API key (none without either)."""
    if api_key:
        return {"Authorization": "ApiKey " + api_key}
    if username:
        token = base64.b64encode(("%s:%s" % (username, password or "")).encode("utf-8")).decode("ascii")
        return {"Authorization": "Basic " + token}
    return {}


def _path(kind, name):
    quoted = quote(name, safe="")
    return {
        "index_template": "/_index_template/",
        "component_template": "/_component_template/",
        "ilm_policy": "/_ilm/policy/",
        "ism_policy": "/_plugins/_ism/policies/",
        "ingest_pipeline": "/_ingest/pipeline/",
    }[kind] + quoted


def _found(kind, name, payload):
    """The object's definition in a GET answer (comparable with the body PUT takes), or None."""
    if not isinstance(payload, dict):
        return None
    if kind in ("index_template", "component_template"):
        key = kind + "s"
        for entry in payload.get(key) or []:
            if entry.get("name") == name:
                return entry.get(kind)
        return None
    if kind == "ilm_policy":
        entry = payload.get(name)
        return {"policy": entry.get("policy")} if isinstance(entry, dict) else None
    if kind == "ism_policy":
        return {"policy": payload.get("policy")} if "policy" in payload else None
    return payload.get(name)


def _flat_settings(settings, prefix=""):
    flat = {}
    for key, value in (settings or {}).items():
        name = prefix + key
        if isinstance(value, dict):
            flat.update(_flat_settings(value, name + "."))
        else:
            if name.startswith("index."):
                name = name[len("index."):]
            flat[name] = value if isinstance(value, (list, dict)) else _text(value)
    return flat


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "%s" % (value,)


def _normalise(value, key=None):
    if isinstance(value, dict):
        if key == "settings":
            return _flat_settings(value)
        return dict((k, _normalise(v, k)) for k, v in value.items())
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _contains(have, want):
    """Whether everything in ``want`` is in ``have`` with the same value (dicts may hold more)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and _contains(have[k], v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(have) == len(want) and all(_contains(h, w) for h, w in zip(have, want))
    if isinstance(want, (int, float)) and not isinstance(want, bool) and isinstance(have, str):
        return _text(want) == have
    return have == want


def up_to_date(kind, current, body):
    return current is not None and _contains(_normalise(current), _normalise(body))


class EsClient(object):
    def __init__(self, base_url, transport, headers=None, timeout=30):
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.headers = dict(headers or {})
        self.timeout = timeout

    def request(self, method, path, body=None, ok=(200, 201)):
        status, payload = self.transport(method, self.base_url + path, body, self.headers, self.timeout)
        if status == 404 and method == "GET":
            return None
        if status not in ok:
            reason = payload.get("error") if isinstance(payload, dict) else payload
            if isinstance(reason, dict):
                reason = reason.get("reason") or reason.get("type") or reason
            raise EsObjectError("%s %s answered HTTP %s: %s" % (method, path, status, reason or "no detail"))
        return payload


def ensure_object(client, kind, name, body, state, check_mode):
    """Make the object ``name`` of ``kind`` match ``body`` (state present) or not exist (absent)."""
    if kind not in KINDS:
        raise EsObjectError("kind %r is not one of %s" % (kind, ", ".join(KINDS)))
    path = _path(kind, name)
    payload = client.request("GET", path)
    current = _found(kind, name, payload)
    result = {"changed": False, "kind": kind, "name": name, "path": path,
              "diff": {"before": current if current is not None else {}, "after": {}}}
    if state == "absent":
        if current is not None:
            result["changed"] = True
            if not check_mode:
                client.request("DELETE", path)
        return result
    if body is None:
        raise EsObjectError("body is required with state=present (the definition of %s %s)" % (kind, name))
    if kind in ("ilm_policy", "ism_policy") and "policy" not in body:
        raise EsObjectError("the body of an %s is {policy: {...}}, as the API takes it" % kind)
    result["diff"]["after"] = body
    if up_to_date(kind, current, body):
        result["diff"]["after"] = result["diff"]["before"]
        return result
    result["changed"] = True
    if not check_mode:
        put_path = path
        if kind == "ism_policy" and current is not None:
            # OpenSearch replaces a policy only when told which version it replaces.
            put_path += "?if_seq_no=%s&if_primary_term=%s" % (payload.get("_seq_no"), payload.get("_primary_term"))
        client.request("PUT", put_path, body)
    return result

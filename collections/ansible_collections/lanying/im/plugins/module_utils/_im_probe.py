# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The delivery probe behind lanying.im.im_probe (private to this collection; no stable API)."""

from __future__ import annotations

import json
import time
import uuid

from ansible_collections.lanying.im.plugins.module_utils._matrix import MatrixError, MatrixUnreachable, path_quote


class ProbeFailure(Exception):
    """The probe ran and the platform failed it; the message names the step and the reason.

    ``reason`` is a short, fixed word for metrics: unreachable, login_refused, homeserver_down,
    not_delivered or error.
    """

    def __init__(self, message, reason="error"):
        super(ProbeFailure, self).__init__(message)
        self.reason = reason


def _login(client, user, password, role):
    try:
        return client.login(user, password)
    except MatrixUnreachable as err:
        raise ProbeFailure("the gateway at %s is unreachable: %s" % (client.base_url, err), "unreachable")
    except MatrixError as err:
        if err.status == 403:
            raise ProbeFailure("login refused for the %s %s: %s" % (role, user, err.error or err.errcode), "login_refused")
        if err.status in (502, 503, 504):
            raise ProbeFailure("the gateway at %s answered HTTP %s: the homeserver behind it is not answering"
                               % (client.base_url, err.status), "homeserver_down")
        raise ProbeFailure("login of the %s %s failed: %s" % (role, user, err))


def _probe_room(sender, receiver, alias):
    """The probe room's ID, created by the sender on first use, with both probe users joined."""
    path = "/_matrix/client/v3/directory/room/%s" % path_quote(alias)
    try:
        room_id = sender.request("GET", path)["room_id"]
    except MatrixError as err:
        if err.status != 404:
            raise
        room_id = sender.request("POST", "/_matrix/client/v3/createRoom", {
            "room_alias_name": alias[1:].split(":", 1)[0],
            "name": "lanying.im delivery probe",
            "preset": "private_chat",
            "invite": [receiver.user_id],
        })["room_id"]
    if room_id not in sender.request("GET", "/_matrix/client/v3/joined_rooms").get("joined_rooms", []):
        sender.request("POST", "/_matrix/client/v3/join/%s" % path_quote(room_id), {})
    if room_id not in receiver.request("GET", "/_matrix/client/v3/joined_rooms").get("joined_rooms", []):
        try:
            sender.request("POST", "/_matrix/client/v3/rooms/%s/invite" % path_quote(room_id),
                           {"user_id": receiver.user_id})
        except MatrixError as err:
            if err.status != 403:  # already invited
                raise
        receiver.request("POST", "/_matrix/client/v3/join/%s" % path_quote(room_id), {})
    return room_id


def _sync_path(room_id, since, timeout_ms):
    room_filter = json.dumps({"room": {"rooms": [room_id], "timeline": {"limit": 10}},
                              "presence": {"types": []}, "account_data": {"types": []}}, separators=(",", ":"))
    path = "/_matrix/client/v3/sync?timeout=%d&filter=%s" % (timeout_ms, path_quote(room_filter))
    return path + ("&since=%s" % path_quote(since) if since else "")


def _timeline_event_ids(sync, room_id):
    room = sync.get("rooms", {}).get("join", {}).get(room_id, {})
    return [event.get("event_id") for event in room.get("timeline", {}).get("events", [])]


def run_probe(sender, receiver, params, check_mode, clock=time.monotonic):
    """Deliver one message from ``sender`` to ``receiver`` (logged-out clients) and time it."""
    _login(sender, params["sender_user"], params["sender_password"], "sender")
    _login(receiver, params["receiver_user"], params["receiver_password"], "receiver")
    server_name = sender.user_id.split(":", 1)[1]
    alias = "#%s:%s" % (params["room_alias_name"], server_name)
    result = {"changed": False, "sender": sender.user_id, "receiver": receiver.user_id, "room_alias": alias}
    if check_mode:
        result["msg"] = "check mode: both probe users logged in; no message sent"
        return result
    try:
        room_id = _probe_room(sender, receiver, alias)
        since = receiver.request("GET", _sync_path(room_id, None, 0))["next_batch"]
        marker = uuid.uuid4().hex
        started = clock()
        event_id = sender.request("PUT", "/_matrix/client/v3/rooms/%s/send/m.room.message/%s"
                                  % (path_quote(room_id), marker),
                                  {"msgtype": "m.notice", "body": "lanying.im delivery probe %s" % marker})["event_id"]
        deadline = started + params["timeout"]
        while True:
            remaining = deadline - clock()
            if remaining <= 0:
                raise ProbeFailure("message %s from %s was not delivered to %s within %s seconds"
                                   % (event_id, sender.user_id, receiver.user_id, params["timeout"]), "not_delivered")
            sync = receiver.request("GET", _sync_path(room_id, since, int(remaining * 1000)),
                                    timeout=remaining + 10)
            since = sync.get("next_batch", since)
            if event_id in _timeline_event_ids(sync, room_id):
                break
        latency = clock() - started
    except MatrixUnreachable as err:
        raise ProbeFailure("the gateway at %s stopped answering during the probe: %s" % (sender.base_url, err),
                           "unreachable")
    except MatrixError as err:
        raise ProbeFailure("the probe failed: %s" % err)
    result.update(room_id=room_id, event_id=event_id, latency_ms=round(latency * 1000.0, 1),
                  msg="delivered in %.1f ms" % (latency * 1000.0))
    return result


def probe_metrics(result, failure, now):
    """The outcome of one probe (``result`` or ``failure``) in the Prometheus text format, at ``now``.

    Written for the node exporter's textfile collector. The latency is only published after a success.
    """
    reason = "" if failure is None else failure.reason
    lines = [
        "# HELP lanying_im_probe_success Whether the last delivery probe delivered its message (1) or not (0).",
        "# TYPE lanying_im_probe_success gauge",
        'lanying_im_probe_success{reason="%s"} %d' % (reason, failure is None),
        "# HELP lanying_im_probe_last_run_timestamp_seconds When the delivery probe last ran.",
        "# TYPE lanying_im_probe_last_run_timestamp_seconds gauge",
        "lanying_im_probe_last_run_timestamp_seconds %.3f" % now,
    ]
    if failure is None:
        lines += [
            "# HELP lanying_im_probe_latency_seconds Time from sending the probe message to its delivery.",
            "# TYPE lanying_im_probe_latency_seconds gauge",
            "lanying_im_probe_latency_seconds %.4f" % (result["latency_ms"] / 1000.0),
        ]
    return "\n".join(lines) + "\n"

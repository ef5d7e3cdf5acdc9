# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Synapse workers in the lanying.im deployment model (private to this collection; no stable API).

The worker catalogue (what each worker type does, which request paths it serves, how many Synapse
allows), the presets, placement over the ``im_app`` hosts and the settings Synapse derives from them
(``instance_map``, ``stream_writers``, ``pusher_instances``...). Used by ``_topology.build_topology``.
"""

from __future__ import annotations

import difflib

_V = r"(api/v1|r0|v3|unstable)"
_V3 = r"(r0|v3|unstable)"

# Streams with one writer only in Synapse; the stream_writer worker takes all of them.
SINGLE_WRITER_STREAMS = ("typing", "to_device", "account_data", "receipts", "presence", "push_rules")

# name -> how many Synapse (or this platform) allows, the port block of its instances, the routes the
# gateway sends to it and how those are balanced ("user": by the access token's user, "room": by the
# room ID in the path, None: round robin). Order matters: the gateway matches routes in this order.
# "main_serves": the main process serves these routes too, so the gateway sends a request there when no
# worker of the type can take it (each one stopped, restarting or drained).
WORKER_TYPES = {
    "stream_writer": {
        "max": 1, "why_max": "the typing, presence and push_rules streams allow only one writer",
        "offset": 0,
        "routes": [
            (r"^/_matrix/client/%s/rooms/[^/]+/typing" % _V, None),
            (r"^/_matrix/client/%s/sendToDevice/" % _V3, None),
            (r"^/_matrix/client/%s/.*/tags" % _V3, None),
            (r"^/_matrix/client/%s/.*/account_data" % _V3, None),
            (r"^/_matrix/client/%s/rooms/[^/]+/(receipt|read_markers)" % _V3, None),
            (r"^/_matrix/client/%s/presence/" % _V, None),
            (r"^/_matrix/client/%s/pushrules/" % _V, None),
        ],
    },
    "media": {
        "max": 1, "why_max": "one media repository process owns the media store and its background jobs",
        "offset": 10,
        "routes": [
            (r"^/_matrix/media/", None),
            (r"^/_matrix/client/v1/media/", None),
            (r"^/_synapse/media/", None),
        ],
        "admin_routes": [
            (r"^/_synapse/admin/v1/(purge_media_cache$|room/.*/media|user/.*/media|media/|quarantine_media/"
             r"|users/[^/]+/media$)", None),
        ],
    },
    "sync": {
        "max": 20, "offset": 20, "main_serves": True,
        "routes": [
            (r"^/_matrix/client/(r0|v3)/sync$", "user"),
            (r"^/_matrix/client/(api/v1|r0|v3)/events$", "user"),
            (r"^/_matrix/client/(api/v1|r0|v3)/initialSync$", "user"),
            (r"^/_matrix/client/(api/v1|r0|v3)/rooms/[^/]+/initialSync$", "user"),
        ],
    },
    "client_reader": {
        "max": 20, "offset": 40, "main_serves": True,
        "routes": [
            # Event sending and pagination: all requests of one room to one process.
            (r"^/_matrix/client/%s/rooms/[^/]+/(send|state/|redact|messages$|(join|invite|leave|ban|unban|kick)$)"
             % _V, "room"),
            (r"^/_matrix/client/%s/(join|knock)/" % _V, "room"),
            (r"^/_matrix/client/%s/(createRoom|publicRooms|joined_rooms|search)$" % _V, None),
            (r"^/_matrix/client/%s/rooms/[^/]+/(joined_members|members|state|context/|event/|aliases)" % _V, None),
            (r"^/_matrix/client/(v1|unstable)/rooms/[^/]+/(relations/|threads$|hierarchy$|timestamp_to_event$)",
             None),
            (r"^/_matrix/client/%s/account/(3pid|whoami|deactivate)$" % _V3, None),
            (r"^/_matrix/client/%s/(devices(/|$)|delete_devices$)" % _V, None),
            (r"^/_matrix/client/%s/(keys/(query|changes|claim|upload)|room_keys/)" % _V3, None),
            (r"^/_matrix/client/%s/keys/(device_signing|signatures)/upload$" % _V, None),
            (r"^/_matrix/client/%s/(login|profile/|voip/turnServer$|directory/room/)" % _V, None),
            (r"^/_matrix/client/%s/(register$|register/available$|password_policy$|capabilities$"
             r"|notifications$|user_directory/search$|user/[^/]+/filter(/|$))" % _V3, None),
            (r"^/_matrix/client/versions$", None),
        ],
    },
    "event_persister": {"max": 20, "offset": 60, "routes": []},
    "pusher": {"max": 20, "offset": 80, "routes": []},
    "background": {"max": 1, "why_max": "Synapse runs its background tasks in exactly one process", "offset": 100,
                   "routes": []},
    "federation_sender": {"max": 20, "offset": 110, "routes": []},
}

PRESETS = {
    "none": {},
    "small": {"stream_writer": 1, "media": 1, "sync": 1, "client_reader": 1, "event_persister": 1,
              "pusher": 1, "background": 1},
    "standard": {"stream_writer": 1, "media": 1, "sync": 2, "client_reader": 2, "event_persister": 2,
                 "pusher": 1, "background": 1},
}

WORKER_PORTS = {"worker_client": 8100, "worker_replication": 8400, "worker_metrics": 8700}


class WorkerSpecError(ValueError):
    """A worker spec Synapse cannot run."""


def _suggest(value, choices):
    close = difflib.get_close_matches(str(value), sorted(choices), n=1)
    return "did you mean %r? " % close[0] if close else ""


def worker_counts(spec, federation):
    """Worker type -> count, from a preset name or a mapping of ``preset`` and counts."""
    where = "lanying_im_topology.workers"
    if spec is None:
        spec = "none"
    if isinstance(spec, str):
        spec = {"preset": spec}
    if not isinstance(spec, dict):
        raise WorkerSpecError("%s is %r; it must be a preset (%s) or a mapping of preset and counts per worker type"
                              % (where, spec, ", ".join(sorted(PRESETS))))
    preset = spec.get("preset", "none")
    if preset not in PRESETS:
        raise WorkerSpecError("%s.preset is %r; %sallowed presets: %s"
                              % (where, preset, _suggest(preset, PRESETS), ", ".join(sorted(PRESETS))))
    counts = dict(PRESETS[preset])
    if federation and preset != "none":
        counts["federation_sender"] = 1 if preset == "small" else 2
    for key, count in sorted(spec.items()):
        if key == "preset":
            continue
        if key not in WORKER_TYPES:
            raise WorkerSpecError("%s: unknown worker type %r; %sworker types: %s"
                                  % (where, key, _suggest(key, WORKER_TYPES), ", ".join(sorted(WORKER_TYPES))))
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise WorkerSpecError("%s.%s is %r; it must be a whole number, 0 or more" % (where, key, count))
        counts[key] = count
    for kind, count in sorted(counts.items()):
        limit = WORKER_TYPES[kind]["max"]
        if count > limit:
            reason = WORKER_TYPES[kind].get("why_max", "the gateway and port plan allow %d per type" % limit)
            raise WorkerSpecError("%s.%s is %d; at most %d: %s" % (where, kind, count, limit, reason))
    if counts.get("federation_sender") and not federation:
        raise WorkerSpecError("%s.federation_sender is %d but federation is off; set lanying_im_topology.federation: "
                              "true or remove the federation senders" % (where, counts["federation_sender"]))
    return {kind: counts[kind] for kind in WORKER_TYPES if counts.get(kind)}


# HTTP resources of each worker's client listener (every worker has one, for its health check).
RESOURCES = {"media": ["media", "client"]}
FEDERATION_READERS = ("client_reader",)


def place_workers(counts, app_hosts, ports, federation=False):
    """Worker instances over ``app_hosts``. Worker ``n`` of a type goes to host ``(k + n) mod H``, where ``k``
    is the type's fixed position in the catalogue: workers of one type spread over the hosts, the types
    start on different hosts (the first type one after the main process's host), and a worker's host and
    ports depend only on its type, its number and the hosts - never on how many other workers there are.
    So adding or removing workers moves no other worker; adding or removing hosts re-spreads them."""
    workers = []
    positions = list(WORKER_TYPES)
    for kind, count in counts.items():
        for number in range(1, count + 1):
            host = app_hosts[(positions.index(kind) + number) % len(app_hosts)]
            offset = WORKER_TYPES[kind]["offset"] + number - 1
            federation_resources = ["federation"] if federation and kind in FEDERATION_READERS else []
            workers.append({
                "name": "synapse-%s-%d" % (kind.replace("_", "-"), number),
                "kind": "worker",
                "worker_type": kind,
                # The media repository must be started as one to own the media store.
                "worker_app": "synapse.app.media_repository" if kind == "media" else "synapse.app.generic_worker",
                "resources": RESOURCES.get(kind, ["client"]) + federation_resources,
                "host": host,
                "ports": {
                    "client": ports["worker_client"] + offset,
                    "replication": ports["worker_replication"] + offset,
                    "metrics": ports["worker_metrics"] + offset,
                },
            })
    return workers


def synapse_settings(main, workers, federation):
    """The shared Synapse settings that name workers (empty without workers)."""
    if not workers:
        return {}

    def names(kind):
        return [w["name"] for w in workers if w["worker_type"] == kind]

    writers = names("event_persister") + names("stream_writer")
    settings = {
        # Every process calls the stream writers (and the main process) over HTTP replication.
        "instance_map": dict([("main", {"host": main["host"], "port": main["ports"]["replication"]})]
                             + [(w["name"], {"host": w["host"], "port": w["ports"]["replication"]})
                                for w in workers if w["name"] in writers]),
        "stream_writers": {},
    }
    if names("event_persister"):
        settings["stream_writers"]["events"] = names("event_persister")
    if names("stream_writer"):
        for stream in SINGLE_WRITER_STREAMS:
            settings["stream_writers"][stream] = names("stream_writer")
    if names("pusher"):
        settings["pusher_instances"] = names("pusher")
    if names("federation_sender"):
        settings["federation_sender_instances"] = names("federation_sender")
    if names("background"):
        background = names("background")[0]
        settings["run_background_tasks_on"] = background
        settings["update_user_directory_from_worker"] = background
        settings["notify_appservices_from_worker"] = background
    if names("media"):
        settings["media_instance_running_background_jobs"] = names("media")[0]
        settings["enable_media_repo"] = False
    return settings


def worker_routes(workers, federation):
    """Gateway upstreams and routes for the workers: (upstreams, routes), in matching order."""
    upstreams, routes = {}, []
    for kind, data in WORKER_TYPES.items():
        servers = [{"host": w["host"], "port": w["ports"]["client"]} for w in workers if w["worker_type"] == kind]
        if not servers or not (data["routes"] or data.get("admin_routes")):
            continue
        for admin, entries in ((False, data["routes"]), (True, data.get("admin_routes", []))):
            for path, balance in entries:
                upstream = kind if balance is None else "%s_by_%s" % (kind, balance)
                upstreams.setdefault(upstream, {"servers": servers, "balance": balance,
                                                "fallback": "main" if data.get("main_serves") else None})
                routes.append({"path": path, "match": "regex", "upstream": upstream, "admin": admin})
    return upstreams, routes

#!/usr/bin/env python3
"""Write and read back a conversation through the gateway with matrix-nio, for the restore and host-loss drills.

  send     user A creates a room with user B (or uses --room) and sends --count messages (and, with
           --media-bytes, a file); prints the room, the message bodies and the file's URI and sha256 as JSON
  read     user B logs in afresh and reads the room's whole history; prints the bodies found and missing
           (and, with --media-uri, the sha256 of the file downloaded again)
  deliver  keeps trying until user A's new message (--prefix and a marker) reaches user B (the platform
           may still be starting); prints the seconds since --since (a Unix time)

Passwords come from the environment (CHAT_USER_A_PASSWORD, CHAT_USER_B_PASSWORD) and are never printed.
"""

import asyncio
import hashlib
import json
import os
import ssl
import sys
import time
import uuid

from nio import (DownloadError, JoinResponse, RoomCreateResponse, RoomMessagesResponse, RoomSendResponse,
                 SyncResponse, UploadResponse)

# The scenario's Matrix client helpers (same directory).
from chat_client import Failed, client_parser, expect, login as client_login, print_result, wait_for_message


async def login(args, user, password):
    return await client_login(args.url.rstrip("/"), user, password, ssl.create_default_context(cafile=args.ca_file))


async def close(*clients):
    for client in clients:
        await client.logout()
        await client.close()


async def send(args):
    alice = await login(args, args.user_a, os.environ["CHAT_USER_A_PASSWORD"])
    bob = await login(args, args.user_b, os.environ["CHAT_USER_B_PASSWORD"])
    try:
        room_id = args.room
        if not room_id:
            room_id = expect(await alice.room_create(name="backup drill", invite=[bob.user_id]),
                             RoomCreateResponse, "room creation").room_id
            for _ in range(30):
                if room_id in bob.invited_rooms:
                    break
                expect(await bob.sync(timeout=2000), SyncResponse, "sync of %s" % bob.user_id)
            expect(await bob.join(room_id), JoinResponse, "join of %s" % bob.user_id)
        marker = uuid.uuid4().hex[:8]
        bodies = ["%s %s %d" % (args.prefix, marker, number) for number in range(1, args.count + 1)]
        for body in bodies:
            expect(await alice.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": body}),
                   RoomSendResponse, "message %r" % body)
        result = {"room_id": room_id, "bodies": bodies}
        if args.media_bytes:
            media = os.urandom(args.media_bytes)
            upload, _ = await alice.upload(lambda *_: media, content_type="application/octet-stream",
                                           filename="drill-%s.bin" % marker, filesize=len(media))
            upload = expect(upload, UploadResponse, "media upload")
            result.update(media_uri=upload.content_uri, media_sha256=hashlib.sha256(media).hexdigest())
        return result
    finally:
        await close(alice, bob)


async def read(args):
    expected = json.loads(args.expect)
    bob = await login(args, args.user_b, os.environ["CHAT_USER_B_PASSWORD"])
    try:
        found, start = [], bob.next_batch
        for _ in range(100):
            page = expect(await bob.room_messages(args.room, start=start, limit=100), RoomMessagesResponse,
                          "history of %s" % args.room)
            found += [event.body for event in page.chunk if getattr(event, "body", None) is not None]
            if not page.chunk or not page.end or page.end == start:
                break
            start = page.end
        result = {"found": len([b for b in expected if b in found]), "missing": [b for b in expected if b not in found]}
        if args.media_uri:
            download = await bob.download(args.media_uri)
            if isinstance(download, DownloadError):
                raise Failed("media download of %s: %s" % (args.media_uri, download))
            result["media_sha256"] = hashlib.sha256(download.body).hexdigest()
        return result
    finally:
        await close(bob)


async def deliver(args):
    deadline = time.monotonic() + args.timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            alice = await login(args, args.user_a, os.environ["CHAT_USER_A_PASSWORD"])
        except Exception as err:  # the platform is still starting: try again
            last_error = err
            await asyncio.sleep(2)
            continue
        bob = None
        try:
            bob = await login(args, args.user_b, os.environ["CHAT_USER_B_PASSWORD"])
            body = "%s %s" % (args.prefix, uuid.uuid4().hex[:8])
            expect(await alice.room_send(args.room, "m.room.message", {"msgtype": "m.text", "body": body}),
                   RoomSendResponse, "message: %s" % args.prefix)
            await wait_for_message(bob, args.room, body, timeout=max(5.0, deadline - time.monotonic()))
            return {"seconds_since": round(time.time() - args.since, 1)}
        except Exception as err:  # not delivered yet: try again with new logins
            last_error = err
        finally:
            await close(*[client for client in (alice, bob) if client is not None])
    raise Failed("no message delivered within %ss: %s" % (args.timeout, last_error))


def main():
    parser = client_parser(__doc__)
    parser.add_argument("command", choices=["send", "read", "deliver"])
    parser.add_argument("--room", default="")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--prefix", default="drill")
    parser.add_argument("--expect", default="[]", help="read: the bodies that must be in the history (JSON list)")
    parser.add_argument("--media-bytes", type=int, default=0, help="send: also upload a file of this size")
    parser.add_argument("--media-uri", default="", help="read: download this file again")
    parser.add_argument("--since", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    return print_result("history client", globals()[args.command](args))


if __name__ == "__main__":
    sys.exit(main())

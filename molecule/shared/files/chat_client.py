#!/usr/bin/env python3
"""Use the deployed platform the way a chat client does, with matrix-nio, through the gateway.

Two users log in, one creates a room and invites the other, they exchange a message each way (with a
typing notice and a read receipt), one uploads a media file and the other downloads it. Prints one JSON object with what was observed;
exits non-zero with the failing step on stderr. Passwords come from the environment
(CHAT_USER_A_PASSWORD, CHAT_USER_B_PASSWORD) and are never printed.
"""

import argparse
import asyncio
import hashlib
import json
import os
import ssl
import sys
import time
import uuid

from nio import (AsyncClient, AsyncClientConfig, DownloadError, JoinResponse, LoginResponse, RoomCreateResponse,
                 RoomSendResponse, RoomTypingResponse, SyncResponse, UpdateReceiptMarkerResponse, UploadResponse)


class Failed(Exception):
    pass


def expect(response, kind, step):
    if not isinstance(response, kind):
        raise Failed("%s: %s" % (step, response))
    return response


async def login(url, user, password, ssl_context, config=None):
    client = AsyncClient(url, user, ssl=ssl_context,
                         config=config or AsyncClientConfig(request_timeout=30, max_timeouts=2))
    expect(await client.login(password, device_name="lanying.im scenario"), LoginResponse, "login of %s" % user)
    expect(await client.sync(timeout=0), SyncResponse, "first sync of %s" % user)
    return client


async def wait_for_message(client, room_id, body, timeout=30.0):
    """Sync until a message with ``body`` shows up in ``room_id``; return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        response = expect(await client.sync(timeout=5000), SyncResponse, "sync of %s" % client.user_id)
        room = response.rooms.join.get(room_id)
        for event in (room.timeline.events if room else []):
            if getattr(event, "body", None) == body:
                return time.monotonic() - started
    raise Failed("%s did not receive %r in %s within %ss" % (client.user_id, body, room_id, timeout))


async def wait_for_invite(client, room_id, timeout=30.0):
    started = time.monotonic()
    while room_id not in client.invited_rooms:
        if time.monotonic() - started > timeout:
            raise Failed("%s was not invited to %s within %ss" % (client.user_id, room_id, timeout))
        expect(await client.sync(timeout=3000), SyncResponse, "sync of %s" % client.user_id)


async def converse(args):
    ssl_context = ssl.create_default_context(cafile=args.ca_file)
    args.url = args.url.rstrip("/")  # matrix-nio appends paths that start with a slash
    alice = await login(args.url, args.user_a, os.environ["CHAT_USER_A_PASSWORD"], ssl_context)
    bob = await login(args.url, args.user_b, os.environ["CHAT_USER_B_PASSWORD"], ssl_context)
    try:
        marker = uuid.uuid4().hex[:12]
        room = expect(await alice.room_create(name="scenario %s" % marker, invite=[bob.user_id]),
                      RoomCreateResponse, "room creation")
        await wait_for_invite(bob, room.room_id)
        expect(await bob.join(room.room_id), JoinResponse, "join of %s" % bob.user_id)

        to_bob, to_alice = "hello bob %s" % marker, "hello alice %s" % marker
        expect(await alice.room_typing(room.room_id, True, timeout=5000), RoomTypingResponse, "typing notice")
        sent = expect(await alice.room_send(room.room_id, "m.room.message", {"msgtype": "m.text", "body": to_bob}),
                      RoomSendResponse, "message to bob")
        bob_latency = await wait_for_message(bob, room.room_id, to_bob)
        expect(await bob.update_receipt_marker(room.room_id, sent.event_id), UpdateReceiptMarkerResponse,
               "read receipt")
        expect(await bob.room_send(room.room_id, "m.room.message", {"msgtype": "m.text", "body": to_alice}),
               RoomSendResponse, "message to alice")
        alice_latency = await wait_for_message(alice, room.room_id, to_alice)

        media = os.urandom(args.media_bytes)
        upload, _ = await alice.upload(lambda *_: media, content_type="application/octet-stream",
                                       filename="scenario-%s.bin" % marker, filesize=len(media))
        upload = expect(upload, UploadResponse, "media upload")
        expect(await alice.room_send(room.room_id, "m.room.message",
                                     {"msgtype": "m.file", "body": "scenario-%s.bin" % marker, "url": upload.content_uri}),
               RoomSendResponse, "file message")
        download = await bob.download(upload.content_uri)
        if isinstance(download, DownloadError):
            raise Failed("media download: %s" % download)
        return {
            "alice": alice.user_id,
            "bob": bob.user_id,
            "room_id": room.room_id,
            "delivered_to_bob_s": round(bob_latency, 3),
            "delivered_to_alice_s": round(alice_latency, 3),
            "media_uri": upload.content_uri,
            "media_bytes": len(media),
            "media_sha256_sent": hashlib.sha256(media).hexdigest(),
            "media_sha256_received": hashlib.sha256(download.body).hexdigest(),
        }
    finally:
        for client in (alice, bob):
            await client.logout()
            await client.close()


def client_parser(description):
    """The options every scenario client takes: the gateway, its CA, the two users."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--user-a", required=True)
    parser.add_argument("--user-b", required=True)
    return parser


def print_result(name, coroutine):
    """Run a client's coroutine and print its JSON result; a failed step goes to stderr, exit status 1."""
    try:
        print(json.dumps(asyncio.run(coroutine), sort_keys=True))
    except Failed as err:
        print("%s: %s" % (name, err), file=sys.stderr)
        return 1
    return 0


def main():
    parser = client_parser(__doc__)
    parser.add_argument("--media-bytes", type=int, default=256 * 1024)
    args = parser.parse_args()
    return print_result("chat client", converse(args))


if __name__ == "__main__":
    sys.exit(main())

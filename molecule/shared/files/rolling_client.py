#!/usr/bin/env python3
"""Send a message every --interval seconds through the gateway while the platform changes; count what arrives.

User A sends numbered messages into a new room with user B. A send that fails (an error answer, a lost
connection, a timeout) is counted and tried again with the same transaction ID, as Matrix clients do, so that
Synapse keeps the message once. User B syncs all along. Sending stops when --stop-file appears (or after
--max-seconds); B then waits up to --settle-seconds for the rest, and reads the room's history back.
--ready-file is written once B has received the first message.

Prints one JSON object: sent, delivered (seen by B's sync), stored (in the room's history), lost (sent but not
stored), duplicates, failed_sends, failed_syncs, longest_gap_s (the longest time B received nothing while A was
sending), slowest_delivery_s, seconds, and the first errors seen. Passwords come from the environment
(CHAT_USER_A_PASSWORD, CHAT_USER_B_PASSWORD) and are never printed.
"""

import asyncio
import os
import ssl
import sys
import time
import uuid

from nio import AsyncClientConfig, JoinResponse, RoomCreateResponse, RoomMessagesResponse, RoomSendResponse, SyncResponse

# The scenario's Matrix client helpers (same directory).
from chat_client import Failed, client_parser, expect, login as client_login, print_result, wait_for_invite

# Every message of a busy moment in one sync answer (Synapse's default is 10 per room).
SYNC_FILTER = {"room": {"timeline": {"limit": 1000}}}


async def login(args, user, password):
    # Every failure comes back at once, to be counted here (matrix-nio would otherwise wait and retry).
    return await client_login(args.url.rstrip("/"), user, password, ssl.create_default_context(cafile=args.ca_file),
                              config=AsyncClientConfig(request_timeout=10, max_timeouts=0, max_limit_exceeded=0))


class Drill:
    def __init__(self, args, sender, receiver, room_id):
        self.args, self.sender, self.receiver, self.room_id = args, sender, receiver, room_id
        self.marker = uuid.uuid4().hex[:12]
        self.sent, self.received = {}, {}
        self.failed_sends = self.failed_syncs = self.duplicates = 0
        self.errors = []
        self.started = time.monotonic()
        self.sending_until = None

    def note_error(self, what, error):
        if len(self.errors) < 10:
            self.errors.append("%.1fs %s: %s" % (time.monotonic() - self.started, what, str(error)[:160]))

    def stop_requested(self):
        return os.path.exists(self.args.stop_file) or time.monotonic() - self.started > self.args.max_seconds

    async def send_all(self):
        number = 0
        while not self.stop_requested():
            body = "%s %06d" % (self.marker, number)
            transaction, first_try = uuid.uuid4().hex, time.monotonic()
            self.sent[body] = first_try
            while True:
                try:
                    response = await self.sender.room_send(self.room_id, "m.room.message",
                                                           {"msgtype": "m.text", "body": body}, tx_id=transaction)
                    if isinstance(response, RoomSendResponse):
                        break
                    error = response
                except Exception as err:  # a lost connection or a timeout: try again, as a client does
                    error = err
                self.failed_sends += 1
                self.note_error("send", error)
                await asyncio.sleep(self.args.interval)
            number += 1
            await asyncio.sleep(max(0.0, self.args.interval - (time.monotonic() - first_try)))
        self.sending_until = time.monotonic()

    async def receive_all(self):
        while True:
            if self.sending_until is not None and (
                    len(self.received) >= len(self.sent)
                    or time.monotonic() - self.sending_until > self.args.settle_seconds):
                return
            try:
                response = await self.receiver.sync(timeout=1000, sync_filter=SYNC_FILTER)
            except Exception as err:
                response = err
            if not isinstance(response, SyncResponse):
                self.failed_syncs += 1
                self.note_error("sync", response)
                await asyncio.sleep(self.args.interval)
                continue
            room = response.rooms.join.get(self.room_id)
            for event in (room.timeline.events if room else []):
                body = getattr(event, "body", "")
                if not body.startswith(self.marker):
                    continue
                if body in self.received:
                    self.duplicates += 1
                else:
                    self.received[body] = time.monotonic()
                    if len(self.received) == 1:
                        with open(self.args.ready_file, "w") as ready:
                            ready.write("receiving\n")

    async def stored(self):
        """Every body of the room's history, paged back from now (B reads it again, as after a restart)."""
        bodies, token = [], self.receiver.next_batch
        while True:
            page = None
            for _ in range(10):
                page = await self.receiver.room_messages(self.room_id, start=token, limit=500)
                if isinstance(page, RoomMessagesResponse):
                    break
                await asyncio.sleep(1)
            page = expect(page, RoomMessagesResponse, "history of the drill's room")
            bodies += [getattr(event, "body", "") for event in page.chunk]
            if not page.chunk or not page.end:
                return bodies
            token = page.end

    def report(self, stored):
        stored_bodies = [body for body in stored if body.startswith(self.marker)]
        arrivals = sorted(t for t in self.received.values() if t <= (self.sending_until or time.monotonic()))
        gaps = [later - earlier for earlier, later in zip([self.started] + arrivals, arrivals)]
        return {
            "sent": len(self.sent),
            "delivered": len(self.received),
            "stored": len(set(stored_bodies)),
            "lost": len(set(self.sent) - set(stored_bodies)),
            "duplicates": self.duplicates + len(stored_bodies) - len(set(stored_bodies)),
            "failed_sends": self.failed_sends,
            "failed_syncs": self.failed_syncs,
            "longest_gap_s": round(max(gaps, default=0.0), 2),
            "slowest_delivery_s": round(max((self.received[b] - self.sent[b] for b in self.received), default=0.0), 2),
            "seconds": round((self.sending_until or time.monotonic()) - self.started, 1),
            "errors": self.errors,
        }


async def drill(args):
    sender = await login(args, args.user_a, os.environ["CHAT_USER_A_PASSWORD"])
    receiver = await login(args, args.user_b, os.environ["CHAT_USER_B_PASSWORD"])
    try:
        room = expect(await sender.room_create(name="rolling drill", invite=[receiver.user_id]),
                      RoomCreateResponse, "room creation")
        await wait_for_invite(receiver, room.room_id)
        expect(await receiver.join(room.room_id), JoinResponse, "join of %s" % receiver.user_id)
        run = Drill(args, sender, receiver, room.room_id)
        await asyncio.gather(run.send_all(), run.receive_all())
        return run.report(await run.stored())
    finally:
        for client in (sender, receiver):
            try:
                await client.logout()
            finally:
                await client.close()


def main():
    parser = client_parser(__doc__)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--settle-seconds", type=float, default=60)
    args = parser.parse_args()
    return print_result("rolling client", drill(args))


if __name__ == "__main__":
    sys.exit(main())

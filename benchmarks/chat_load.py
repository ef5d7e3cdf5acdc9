#!/usr/bin/env python3
"""Drive a fixed message workload through the gateway and measure delivery.

Pairs of users (bench-0 -> bench-1, bench-2 -> bench-3, ...) each get a room; every sender sends its
messages one after another while all senders run at once, and every receiver syncs until it has seen
them all. Prints one JSON object: messages sent and delivered, messages per second (delivered, over the
time from the first send to the last arrival), and p50/p99 delivery latency in milliseconds.
Passwords are read from <secrets>/user-bench-<n> and never printed.
"""

import argparse
import asyncio
import json
import os
import ssl
import sys
import time
import uuid

from nio import AsyncClient, AsyncClientConfig, JoinResponse, LoginResponse, RoomCreateResponse, SyncResponse


def percentile(values, share):
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def login(args, ssl_context, number):
    with open(os.path.join(args.secrets, "user-bench-%d" % number)) as handle:
        password = handle.read().strip()
    client = AsyncClient(args.url, "bench-%d" % number, ssl=ssl_context,
                         config=AsyncClientConfig(request_timeout=60, max_timeouts=3))
    response = await client.login(password, device_name="lanying.im benchmark")
    if not isinstance(response, LoginResponse):
        raise SystemExit("login of bench-%d failed: %s" % (number, response))
    return client


async def prepare_pair(sender, receiver):
    room = await sender.room_create(invite=[receiver.user_id])
    if not isinstance(room, RoomCreateResponse):
        raise SystemExit("room creation failed: %s" % room)
    joined = await receiver.join(room.room_id)
    if not isinstance(joined, JoinResponse):
        raise SystemExit("join failed: %s" % joined)
    await receiver.sync(timeout=0, full_state=False)
    return room.room_id


async def send_all(sender, room_id, run_id, count, sent_at):
    for number in range(count):
        marker = "%s-%s-%d" % (run_id, sender.user_id, number)
        sent_at[marker] = time.monotonic()
        await sender.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": marker})


async def receive_all(receiver, room_id, markers, arrived, deadline):
    while set(markers) - set(arrived) and time.monotonic() < deadline:
        response = await receiver.sync(timeout=10000)
        if not isinstance(response, SyncResponse):
            continue
        now = time.monotonic()
        room = response.rooms.join.get(room_id)
        for event in (room.timeline.events if room else []):
            body = getattr(event, "body", None)
            if body in markers and body not in arrived:
                arrived[body] = now


async def run(args):
    ssl_context = ssl.create_default_context(cafile=args.ca_file)
    clients = [await login(args, ssl_context, number) for number in range(2 * args.pairs)]
    pairs = [(clients[2 * n], clients[2 * n + 1]) for n in range(args.pairs)]
    try:
        rooms = [await prepare_pair(sender, receiver) for sender, receiver in pairs]
        run_id = uuid.uuid4().hex[:8]
        sent_at, arrived = {}, {}
        expected = {room: ["%s-%s-%d" % (run_id, sender.user_id, n) for n in range(args.messages)]
                    for (sender, _), room in zip(pairs, rooms)}
        started = time.monotonic()
        deadline = started + args.timeout
        await asyncio.gather(
            *[send_all(sender, room, run_id, args.messages, sent_at) for (sender, _), room in zip(pairs, rooms)],
            *[receive_all(receiver, room, expected[room], arrived, deadline) for (_, receiver), room in zip(pairs, rooms)])
        latencies = [(arrived[m] - sent_at[m]) * 1000.0 for m in arrived if m in sent_at]
        elapsed = (max(arrived.values()) - started) if arrived else float("nan")
        return {
            "pairs": args.pairs,
            "messages_sent": len(sent_at),
            "messages_delivered": len(latencies),
            "seconds": round(elapsed, 2),
            "messages_per_second": round(len(latencies) / elapsed, 1) if arrived else 0,
            "p50_ms": round(percentile(latencies, 0.50), 1) if latencies else None,
            "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        }
    finally:
        for client in clients:
            await client.logout()
            await client.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--secrets", required=True, help="directory holding user-bench-<n> password files")
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--messages", type=int, default=50, help="messages per sender")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    args.url = args.url.rstrip("/")
    print(json.dumps(asyncio.run(run(args)), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

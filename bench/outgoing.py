#!/usr/bin/env python3
"""Outgoing webhook benchmark.

Starts a release build of Switchboard on a fresh SQLite database (durable: synchronous=full by default), an
incoming hook as the message source, and a local receiver standing in for a bot. In one run it measures:

  1. message posting throughput (wrk POSTing to the incoming hook) with no outgoing integration;
  2. the same with an outgoing `sendMessage` integration on the room, calling the local receiver;
  3. for (2): deliveries per second at the receiver and end-to-end latency (message timestamp → receipt),
     and that every stored message was delivered exactly once (by `webhook-id`);
  4. (1) and (2) again at a paced rate (each connection pausing before each request, about 5k requests/s):
     the latency a sender sees with and without the outgoing integration when the machine is not saturated.

The receiver is examples/bench_receiver.rs (a few lines of axum on one thread) answering 200 with an empty body.
Everything targets 127.0.0.1 and stops by itself.

Usage: bench/outgoing.py [--duration 10] [--connections 64] [--binary target/release/switchboard]
Needs: wrk (Debian package `wrk`), a release build (`cargo build --release --examples`).
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hooks import bench_args, call, free_port, start_server, stop_server, wrk, write_post_lua  # noqa: E402

BODY = '{"text":"deploy finished"}'
# The paced phases: each connection waits this long before each request (about 5k requests/s at 64
# connections), a load the machine carries with room to spare, so the phases compare what posting costs a
# sender with and without an outgoing integration rather than how the two share a saturated machine.
PACED_DELAY_MS = 12


class Receiver:
    """The receiver standing in for a bot: examples/bench_receiver.rs, a release build started here. It records
    (arrival time, webhook-id, message timestamp) for every POST. On a 2-core machine whatever the receiver
    spends is taken from the server, so it is kept small (0.15-0.16 of a core at 8-9k calls/s, measured)."""

    def __init__(self, binary):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([binary, f"127.0.0.1:{self.port}"], stdout=subprocess.DEVNULL)
        for _ in range(200):
            try:
                self.count()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the receiver did not start")

    def count(self):
        with urllib.request.urlopen(self.base + "/count", timeout=10) as r:
            return int(r.read())

    def records(self):
        """[(arrival seconds, webhook-id, message timestamp)]"""
        with urllib.request.urlopen(self.base + "/records", timeout=60) as r:
            return [(at / 1000.0, wid, ts) for at, wid, ts in json.loads(r.read())]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def iso_to_epoch(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def main():
    args = bench_args()
    receiver_bin = os.path.join(os.path.dirname(args.binary), "examples", "bench_receiver")
    if not os.path.exists(receiver_bin):
        sys.exit(f"{receiver_bin} is missing: run cargo build --release --examples")
    rx = Receiver(receiver_bin)
    server, tmp, base, auth = start_server(args, "sb-bench-out-", SWITCHBOARD_EGRESS__ALLOW_PRIVATE_NETWORKS="true",
                                           SWITCHBOARD_OUTGOING__CONCURRENCY="256")
    try:
        i = call(base, "/api/v1/integrations.create", {
            "type": "webhook-incoming", "name": "source", "enabled": True, "username": "rocket.cat",
            "channel": "#general", "scriptEnabled": False}, auth)["integration"]
        hook = f"{base}/hooks/{i['_id']}/{i['token']}"
        lua = write_post_lua(tmp, BODY)
        paced_lua = write_post_lua(tmp, BODY, PACED_DELAY_MS)
        total = lambda: call(base, "/api/v1/channels.messages?roomId=GENERAL&count=1", headers=auth)["total"]
        wrk(hook, argparse.Namespace(**{**vars(args), "duration": 2}), lua)  # warm-up
        without = wrk(hook, args, lua)
        paced_without = wrk(hook, args, paced_lua)

        call(base, "/api/v1/integrations.create", {
            "type": "webhook-outgoing", "name": "bot", "enabled": True, "username": "rocket.cat",
            "channel": "#general", "event": "sendMessage", "scriptEnabled": False,
            "urls": [f"http://127.0.0.1:{rx.port}/hook"]}, auth)
        before = total()
        started = time.time()
        with_out = wrk(hook, args, lua)
        stored = total() - before
        deadline = time.time() + 120
        while rx.count() < stored and time.time() < deadline:
            time.sleep(0.1)
        saturated_deliveries = rx.count()
        paced_before = total()
        paced_with = wrk(hook, args, paced_lua)
        stored += total() - paced_before
        while rx.count() < stored and time.time() < deadline + 60:
            time.sleep(0.1)
        recs = rx.records()
    finally:
        stop_server(server, tmp)
        rx.stop()

    ids = {r[1] for r in recs}
    paced_recs = recs[saturated_deliveries:]
    recs = recs[:saturated_deliveries]
    lat_ms = [(t - iso_to_epoch(ts)) * 1000 for t, _, ts in recs if ts]
    paced_lat_ms = [(t - iso_to_epoch(ts)) * 1000 for t, _, ts in paced_recs if ts]
    span = (recs[-1][0] - recs[0][0]) if len(recs) > 1 else float("nan")
    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s, SQLite synchronous={args.synchronous}, "
          f"{os.cpu_count()} CPUs\n")
    print(f"{'message posting (incoming hook)':<40} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for name, r in (("without outgoing integration", without), ("with outgoing integration", with_out),
                    (f"paced ({PACED_DELAY_MS} ms), without", paced_without),
                    (f"paced ({PACED_DELAY_MS} ms), with", paced_with)):
        print(f"{name:<40} {r['rps']:>10.0f} {r['p50']:>8.2f} {r['p99']:>8.2f}")
    print(f"\nposting with/without, as fast as it goes: {with_out['rps'] / without['rps']:.0%}; "
          f"paced: {paced_with['rps'] / paced_without['rps']:.0%} of the rate, "
          f"p50 {paced_with['p50']:.2f} vs {paced_without['p50']:.2f} ms, "
          f"p99 {paced_with['p99']:.2f} vs {paced_without['p99']:.2f} ms")
    print(f"messages stored: {stored}; deliveries received: {len(recs)} ({len(ids)} distinct webhook-ids)")
    print(f"deliveries/s (first to last delivery): {len(recs) / span:.0f}; "
          f"(from the start of posting): {len(recs) / (recs[-1][0] - started):.0f}" if recs else "no deliveries")
    print(f"end-to-end latency ms: p50 {pct(lat_ms, 50):.1f}  p90 {pct(lat_ms, 90):.1f}  p99 {pct(lat_ms, 99):.1f}  "
          f"max {max(lat_ms) if lat_ms else float('nan'):.1f}")
    print(f"paced phase: {len(paced_recs)} deliveries, end-to-end latency ms: p50 {pct(paced_lat_ms, 50):.1f}  "
          f"p99 {pct(paced_lat_ms, 99):.1f}")
    ok = len(ids) >= stored
    print("OK" if ok else "MISSING DELIVERIES")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

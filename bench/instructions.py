#!/usr/bin/env python3
"""Instructions per hook request, counted by Valgrind's callgrind: a measure that does not move with the
machine's load, for comparing two builds of the request path where req/s on a shared machine is too noisy.

Starts the release binary under callgrind on a fresh SQLite database, creates the plain and the scripted
hook of bench/hooks.py, warms each up, then sends N requests to each, one at a time over one keep-alive
connection, and prints the user-space instructions and the calls into the allocators (Rust's and the C
library's) per request, and the functions that executed most of the instructions. Requests go one at a time,
so every message is its own group commit: the database part is larger here than under load, where a commit
is shared by many messages.

Usage: bench/instructions.py [--requests 500] [--top 25] [--payload FILE] [--per-thread]
                             [--binary target/release/switchboard]
(--payload: a JSON file to post instead of bench/hooks.py's small body; --per-thread: also count each thread
on its own — HTTP workers, script threads, the SQLite writer — named by the functions it ran most)
Needs: valgrind (Debian package `valgrind`), a release build (`cargo build --release`).
"""
import argparse
import collections
import glob
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hooks  # noqa: E402  (the same hooks, script and body as bench/hooks.py)


# Allocator entry points: Rust's global allocator (mimalloc) and the C library's, which SQLite uses.
ALLOCATORS = ("mi_malloc_aligned", "mi_zalloc_aligned", "mi_realloc_aligned", "mi_malloc", "mi_zalloc",
              "mi_realloc", "malloc", "calloc", "realloc")


def self_costs(path):
    """Instructions executed in each function itself (callees excluded), and the calls into the allocator
    by each function outside it, from a callgrind output file written with uncompressed names."""
    cost = collections.Counter()
    allocs = collections.Counter()
    fn = cfn = None
    call_line = False
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("fn="):
                fn = line[3:].strip()
            elif line.startswith("cfn="):
                cfn = line[4:].strip().split("(")[0].split("@")[0]
            elif line.startswith("calls="):
                call_line = True  # the next cost line is the callee's inclusive cost
                caller = (fn or "").split("(")[0]
                if cfn in ALLOCATORS and not caller.startswith(("mi_", "_mi_")) and caller not in ALLOCATORS:
                    allocs[caller] += int(line[6:].split()[0])
            elif line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                if len(parts) >= 2:
                    if call_line:
                        call_line = False
                    else:
                        cost[fn] += int(parts[1])
    return cost, allocs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--binary", default="target/release/switchboard")
    ap.add_argument("--payload", help="a JSON file to post instead of the small body of bench/hooks.py")
    ap.add_argument("--per-thread", action="store_true", help="also print each thread's instructions")
    args = ap.parse_args()
    body = hooks.BODY
    if args.payload:
        with open(args.payload) as f:
            body = f.read()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} is missing: run cargo build --release")

    tmp = tempfile.mkdtemp(prefix="sb-instr-")
    out = os.path.join(tmp, "callgrind.out")
    port = hooks.free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, SWITCHBOARD_ADMIN_PASSWORD="bench-pass", SWITCHBOARD_LOG="warn", RUST_LOG="warn")
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--compress-strings=no",
         "--compress-pos=no", *(["--separate-threads=yes"] if args.per_thread else []), args.binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir",
         os.path.join(tmp, "data")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = {}
    threads = {}
    try:
        for _ in range(600):  # the server starts slowly under valgrind
            try:
                hooks.call(base, "/api/info")
                break
            except OSError:
                time.sleep(0.2)
        login = hooks.call(base, "/api/v1/login", {"user": "admin", "password": "bench-pass"})["data"]
        auth = {"X-User-Id": login["userId"], "X-Auth-Token": login["authToken"]}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

        def send(path, n):
            for _ in range(n):
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    raise SystemExit(f"{path} answered {r.status}")

        for name, script in (("hook, no script", None), ("hook, with script", hooks.SCRIPT)):
            path = hooks.create_hook(base, auth, name, script)
            send(path, 100)  # loads the script, fills the caches
            subprocess.run(["callgrind_control", "--zero", str(server.pid)], capture_output=True, check=True)
            send(path, args.requests)
            before = set(glob.glob(out + "*"))
            subprocess.run(["callgrind_control", "--dump", str(server.pid)], capture_output=True, check=True)
            for _ in range(100):
                new = set(glob.glob(out + "*")) - before
                if new:
                    break
                time.sleep(0.1)
            time.sleep(0.5)  # let callgrind finish writing
            per = [self_costs(p) for p in sorted(new)]
            threads[name] = [(c, a) for c, a in per if sum(c.values())]
            results[name] = (sum((c for c, _ in per), collections.Counter()),
                             sum((a for _, a in per), collections.Counter()))
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    n = args.requests
    print(f"\nuser-space instructions per request, {n} requests of {len(body)} bytes one at a time, "
          "SQLite synchronous=full\n")
    print(f"{'':<20} {'instructions':>12} {'allocations':>12}")
    for name, (cost, allocs) in results.items():
        print(f"{name:<20} {sum(cost.values()) / n:>12,.0f} {sum(allocs.values()) / n:>12,.1f}")
    if args.per_thread:
        for name, per in threads.items():
            print(f"\n{name}, by thread (instructions and allocations per request; the three functions it ran most)")
            for cost, allocs in sorted(per, key=lambda c: -sum(c[0].values())):
                top = ", ".join(fn.split("(")[0][-40:] for fn, _ in cost.most_common(3))
                print(f"{sum(cost.values()) / n:>10,.0f} {sum(allocs.values()) / n:>7,.1f}  {top}")
    for name, (_, allocs) in results.items():
        print(f"\n{name}: the {args.top} functions that called the allocators most (per request)")
        for fn, c in allocs.most_common(args.top):
            print(f"{c / n:>10,.1f}  {fn[:120]}")
    for name, (cost, _) in results.items():
        total = sum(cost.values())
        print(f"\n{name}: the {args.top} functions that executed the most instructions (callees excluded)")
        for fn, c in cost.most_common(args.top):
            print(f"{c / n:>10,.0f}  {100 * c / total:5.1f} %  {fn[:120]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Webhook ingestion benchmark.

Starts a release build of Switchboard on a fresh SQLite database, creates two incoming hooks (one plain, one
with a script), and drives three routes with the same load generator (wrk) and the same connection count:

  1. GET /api/info         — the server's cheapest route (the baseline)
  2. POST to a hook without a script
  3. POST to a hook with a script

It prints throughput and p50/p99 latency for each, the hook/baseline ratios, and checks that every answered
hook request left a stored message. Everything targets 127.0.0.1 and stops by itself.

Usage: bench/hooks.py [--duration 10] [--rounds 3] [--connections 64] [--threads 1] [--binary target/release/switchboard]
Needs: wrk (Debian package `wrk`), a release build (`cargo build --release`).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SCRIPT = """
class Script {
  process_incoming_request({ request }) {
    const c = request.content;
    return { content: { text: 'Alert: ' + c.title, attachments: [{ color: 'danger', title: c.title, text: c.text }] } };
  }
}
"""

BODY = '{"title":"disk full","text":"/var is at 98%"}'


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, path, body=None, headers=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method or ("POST" if data else "GET"))
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def parse_wrk(out):
    def seconds(v, unit):
        return float(v) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        lat[pct] = seconds(m.group(1), m.group(2)) * 1000 if m else float("nan")
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"rps": rps, "p50": lat["50"], "p99": lat["99"], "requests": total,
            "non2xx": int(non2xx.group(1)) if non2xx else 0, "socket_errors": errors.group(0) if errors else ""}


def wrk_command(url, args, lua=None):
    """The wrk command line for `url` with the benchmark's threads, connections and duration."""
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency", url]
    if lua:
        cmd[1:1] = ["-s", lua]
    return cmd


def wrk(url, args, lua=None):
    out = subprocess.run(wrk_command(url, args, lua), capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def route_urls(base, auth, tmp):
    """The three routes of the benchmark (`info`, `plain`, `script`), each as (URL, wrk script or None): the
    hooks are created here, and both post bench/hooks.py's body."""
    lua = write_post_lua(tmp, BODY)
    urls = {"info": (f"{base}/api/info", None)}
    for kind, script in (("plain", None), ("script", SCRIPT)):
        urls[kind] = (base + create_hook(base, auth, kind, script), lua)
    return urls


def warm_up(urls, routes, args):
    """Two seconds of load on each of `routes` (script runtime, caches, SQLite pages) before measuring."""
    warm = argparse.Namespace(**{**vars(args), "duration": 2})
    for r in routes:
        wrk(urls[r][0], warm, urls[r][1])


def bench_args():
    """The command-line options every benchmark here shares; exits when wrk or the binary is missing."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--binary", default="target/release/switchboard")
    ap.add_argument("--synchronous", default="full", help="SQLite durability: full or normal")
    ap.add_argument("--rounds", type=int, default=1, help="bench/hooks.py: measure every route this many times")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} is missing: run cargo build --release")
    return args


def start_server(args, prefix, **extra_env):
    """Starts the binary on a fresh SQLite database in a temporary directory and logs in as the admin.

    Returns (process, temporary directory, base URL, auth headers); stop it with stop_server."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, SWITCHBOARD_ADMIN_PASSWORD="bench-pass", SWITCHBOARD_LOG="warn", RUST_LOG="warn",
               SWITCHBOARD_SQLITE_SYNCHRONOUS=args.synchronous)
    env.update(extra_env)
    server = subprocess.Popen([args.binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", tmp], env=env)
    try:
        for _ in range(200):
            try:
                call(base, "/api/info")
                break
            except OSError:
                time.sleep(0.05)
        login = call(base, "/api/v1/login", {"user": "admin", "password": "bench-pass"})["data"]
    except BaseException:
        stop_server(server, tmp)
        raise
    return server, tmp, base, {"X-User-Id": login["userId"], "X-Auth-Token": login["authToken"]}


def create_hook(base, auth, name, script=None):
    """Creates an incoming hook posting to #general as rocket.cat, with `script` if given; returns its path
    (`/hooks/<id>/<token>`)."""
    i = call(base, "/api/v1/integrations.create", {
        "type": "webhook-incoming", "name": name, "enabled": True, "username": "rocket.cat",
        "channel": "#general", "scriptEnabled": script is not None, "script": script or ""}, auth)["integration"]
    return f"/hooks/{i['_id']}/{i['token']}"


def stop_server(server, tmp):
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    shutil.rmtree(tmp, ignore_errors=True)


def write_post_lua(tmp, body, delay_ms=None):
    """A wrk script that POSTs `body` as JSON; returns its path. With `delay_ms`, each connection waits that
    long before each request, which paces the load (about connections / (delay + latency) requests/s)."""
    lua = os.path.join(tmp, f"post-{delay_ms or 0}.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = '{body}'\n")
        if delay_ms:
            f.write(f"function delay()\n  return {int(delay_ms)}\nend\n")
    return lua


def main():
    args = bench_args()
    server, tmp, base, auth = start_server(args, "sb-bench-")
    try:
        hooks = {}
        for name, script in (("plain", None), ("script", SCRIPT)):
            hooks[name] = base + create_hook(base, auth, name, script)
        lua = write_post_lua(tmp, BODY)
        before = call(base, "/api/v1/channels.messages?roomId=GENERAL&count=1", headers=auth)["total"]
        # Warm up every route (script runtime, caches, SQLite pages) before measuring.
        warm = argparse.Namespace(**{**vars(args), "duration": 2})
        wrk(f"{base}/api/info", warm)
        wrk(hooks["plain"], warm, lua)
        wrk(hooks["script"], warm, lua)
        warmed = call(base, "/api/v1/channels.messages?roomId=GENERAL&count=1", headers=auth)["total"]

        # Rounds interleave the three routes, so a slow spell of the machine (these are shared virtual
        # machines) touches every route of a round alike; the summary takes each figure's median.
        rounds = []
        for _ in range(args.rounds):
            rounds.append({
                "GET /api/info (baseline)": wrk(f"{base}/api/info", args),
                "POST hook, no script": wrk(hooks["plain"], args, lua),
                "POST hook, with script": wrk(hooks["script"], args, lua),
            })
        stored = call(base, "/api/v1/channels.messages?roomId=GENERAL&count=1", headers=auth)["total"] - warmed
        answered = sum(r["requests"] - r["non2xx"] for rr in rounds for k, r in rr.items() if "hook" in k)
    finally:
        stop_server(server, tmp)

    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s, SQLite synchronous={args.synchronous}, "
          f"{os.cpu_count()} CPUs, {args.rounds} round(s)\n")
    header = f"{'route':<28} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'vs baseline':>12} {'non-2xx':>8}"
    for n, results in enumerate(rounds, 1):
        base_rps = results["GET /api/info (baseline)"]["rps"]
        print(f"round {n}\n{header}")
        for name, r in results.items():
            print(f"{name:<28} {r['rps']:>10.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['rps'] / base_rps:>11.0%} "
                  f"{r['non2xx']:>8}")
            if r["socket_errors"]:
                print(f"    {r['socket_errors']}")
    if len(rounds) > 1:
        med = lambda xs: sorted(xs)[len(xs) // 2]
        print(f"median of {len(rounds)} rounds (the ratio is the median of each round's ratio)\n{header}")
        for name in rounds[0]:
            rs = [rr[name] for rr in rounds]
            ratio = med([rr[name]["rps"] / rr["GET /api/info (baseline)"]["rps"] for rr in rounds])
            print(f"{name:<28} {med([r['rps'] for r in rs]):>10.0f} {med([r['p50'] for r in rs]):>8.2f} "
                  f"{med([r['p99'] for r in rs]):>8.2f} {ratio:>11.0%} {sum(r['non2xx'] for r in rs):>8}")
    print(f"\nhook requests answered 2xx: {answered}; messages stored: {stored} "
          f"({'OK' if stored >= answered else 'MISSING MESSAGES'})")
    _ = before
    return 0 if stored >= answered else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A/B comparison of builds or settings on the routes of bench/hooks.py.

Throughput on a shared 2-core virtual machine drifts by ±20 % from one minute to the next, so two builds
measured one after the other cannot be compared. This starts one server per variant (each on its own
fresh SQLite database, all of them idle but one at a time), then interleaves the runs: round 1 measures
every variant on a route, then the next route, and so on; a slow spell touches every variant of a round
alike. It prints each run and, per route and variant, the median req/s and p99 and the median ratio to
the first variant (the ratio is taken within each round, then the median of those is printed).

A variant is NAME=BINARY[,VAR=VALUE...]: the VAR=VALUE pairs are set in that server's environment
(`SYNC=normal` sets SQLite's synchronous mode as bench/hooks.py's --synchronous does). For example:

  bench/ab.py old=/tmp/switchboard-before new=target/release/switchboard --routes plain,script --rounds 5
  bench/ab.py one=target/release/switchboard,TOKIO_WORKER_THREADS=1 two=target/release/switchboard

Usage: bench/ab.py VARIANT... [--routes info,plain,script] [--rounds 3] [--duration 5] [--connections 64]
Needs: wrk (Debian package `wrk`) and the binaries. Everything targets 127.0.0.1 and stops by itself.
"""
import argparse
import os
import shutil
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hooks  # noqa: E402  (the same hooks, script and body as bench/hooks.py)

ROUTES = ("info", "plain", "script")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("variants", nargs="+", metavar="NAME=BINARY[,VAR=VALUE...]")
    ap.add_argument("--routes", default="info,plain,script", help="comma-separated: info, plain, script")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5, help="seconds per run")
    ap.add_argument("--connections", type=int, default=64)
    a = ap.parse_args()
    routes = a.routes.split(",")
    if any(r not in ROUTES for r in routes):
        sys.exit(f"--routes: each of {', '.join(ROUTES)}")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")

    variants = []
    for v in a.variants:
        name, _, rest = v.partition("=")
        binary, *pairs = rest.split(",")
        if not name or not os.path.exists(binary) or any("=" not in p for p in pairs):
            sys.exit(f"{v}: expected NAME=BINARY[,VAR=VALUE...] with an existing BINARY")
        if any(name == n for n, *_ in variants):
            sys.exit(f"{v}: the name {name} is already taken")
        env = dict(p.split("=", 1) for p in pairs)
        args = argparse.Namespace(duration=a.duration, connections=a.connections, threads=1, binary=binary,
                                  synchronous=env.pop("SYNC", "full"), rounds=1)
        variants.append((name, args, env))

    servers = []
    urls_of = {}  # variant name -> route -> (URL, wrk script or None)
    results = {}
    try:
        for name, args, env in variants:
            server, tmp, base, auth = hooks.start_server(args, "sb-ab-", **env)
            servers.append((server, tmp))
            lua = hooks.write_post_lua(tmp, hooks.BODY)
            urls = {"info": (f"{base}/api/info", None)}
            for kind, script in (("plain", None), ("script", hooks.SCRIPT)):
                urls[kind] = (base + hooks.create_hook(base, auth, kind, script), lua)
            warm = argparse.Namespace(**{**vars(args), "duration": 2})
            for r in routes:
                hooks.wrk(urls[r][0], warm, urls[r][1])
            urls_of[name] = urls

        for n in range(1, a.rounds + 1):
            for r in routes:
                for name, args, _ in variants:
                    url, lua = urls_of[name][r]
                    out = hooks.wrk(url, args, lua)
                    results.setdefault((r, name), []).append(out)
                    print(f"round {n}  {r:<7} {name:<12} {out['rps']:>9.0f} req/s  p99 {out['p99']:6.2f} ms"
                          f"{'  non-2xx ' + str(out['non2xx']) if out['non2xx'] else ''}", flush=True)
    finally:
        for server, tmp in servers:
            hooks.stop_server(server, tmp)

    first = variants[0][0]
    print(f"\nwrk -t1 -c{a.connections} -d{a.duration}s, {a.rounds} round(s), {os.cpu_count()} CPUs; "
          f"medians, the ratio taken against {first} within each round")
    print(f"{'route':<7} {'variant':<12} {'req/s':>9} {'p99 ms':>7} {'vs ' + first:>12}  runs")
    for r in routes:
        for name, *_ in variants:
            runs = results[(r, name)]
            ratio = statistics.median(x["rps"] / y["rps"] for x, y in zip(runs, results[(r, first)]))
            print(f"{r:<7} {name:<12} {statistics.median(x['rps'] for x in runs):>9.0f} "
                  f"{statistics.median(x['p99'] for x in runs):>7.2f} {ratio:>11.0%}  "
                  f"{[round(x['rps']) for x in runs]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

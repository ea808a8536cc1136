#!/usr/bin/env python3
"""Where a request's CPU goes, thread by thread, under the load of bench/hooks.py.

Starts the release binary as bench/hooks.py does (fresh SQLite database, a plain and a scripted hook), warms
the routes up, then drives each route with wrk for --duration seconds and reads, before and after, every
server thread's CPU time (/proc/<pid>/task/*/stat) and scheduler statistics (schedstat: time run, time spent
runnable but waiting for a CPU, and the number of times it was put on a CPU), plus wrk's own CPU time. All of
it is printed per request, grouped by thread name, with what is left of the two CPUs as idle:

  idle per request = (CPUs x wall time - server CPU - wrk CPU) / requests

Linux only (it reads /proc). Usage: bench/threads.py [--routes info,plain,script] [--duration 8]
[--connections 64] [--synchronous full] [--binary target/release/switchboard]
Needs: wrk (Debian package `wrk`), a release build (`cargo build --release`).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hooks  # noqa: E402  (the same hooks, script and body as bench/hooks.py)


def threads(pid):
    """Per thread name (digits and dashes at the end dropped, so `script-1` and `script-2` add up): user and
    system CPU seconds, and schedstat's run and wait nanoseconds and timeslices."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        base = f"/proc/{pid}/task/{tid}"
        try:
            stat = open(f"{base}/stat").read()
            run, wait, slices = map(int, open(f"{base}/schedstat").read().split())
        except OSError:
            continue  # the thread ended meanwhile
        name = stat[stat.index("(") + 1:stat.rindex(")")].rstrip("0123456789-")
        fields = stat[stat.rindex(")") + 2:].split()
        sample = (int(fields[11]) / tick, int(fields[12]) / tick, run, wait, slices)
        out[name] = tuple(a + b for a, b in zip(out.get(name, (0, 0, 0, 0, 0)), sample))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--routes", default="info,plain,script")
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--binary", default="target/release/switchboard")
    ap.add_argument("--synchronous", default="full", help="SQLite durability: full or normal")
    a = ap.parse_args()
    if not os.path.exists(a.binary):
        sys.exit(f"{a.binary} is missing: run cargo build --release")
    args = argparse.Namespace(binary=a.binary, synchronous=a.synchronous, duration=a.duration,
                              connections=a.connections, threads=1)
    server, tmp, base, auth = hooks.start_server(args, "sb-threads-")
    try:
        urls = hooks.route_urls(base, auth, tmp)
        routes = a.routes.split(",")
        hooks.warm_up(urls, routes, args)
        print(f"wrk -t1 -c{a.connections} -d{a.duration}s, {os.cpu_count()} CPUs; microseconds per request")
        for r in routes:
            before, wrk_before, started = threads(server.pid), os.times(), time.time()
            res = hooks.wrk(urls[r][0], args, urls[r][1])
            after, wrk_after, wall = threads(server.pid), os.times(), time.time() - started
            n = res["requests"]
            us = 1e6 / n
            print(f"\n{r}: {res['rps']:.0f} req/s, p99 {res['p99']:.2f} ms")
            print(f"  {'thread':<18} {'user':>6} {'system':>7} {'runnable, waiting':>18} {'on CPU per req':>15}")
            server_cpu = 0.0
            for name in sorted(after):
                d = [x - y for x, y in zip(after[name], before.get(name, (0, 0, 0, 0, 0)))]
                if (d[0] + d[1]) * us < 0.05 and d[2] / 1e3 / n < 0.05:
                    continue  # threads this route does not use
                server_cpu += d[0] + d[1]
                print(f"  {name:<18} {d[0] * us:>6.1f} {d[1] * us:>7.1f} {d[3] / 1e3 / n:>18.1f} {d[4] / n:>15.2f}")
            wrk_user = wrk_after.children_user - wrk_before.children_user
            wrk_sys = wrk_after.children_system - wrk_before.children_system
            print(f"  {'wrk':<18} {wrk_user * us:>6.1f} {wrk_sys * us:>7.1f}")
            idle = (os.cpu_count() or 1) * wall - server_cpu - wrk_user - wrk_sys
            print(f"  server {server_cpu * us:.1f}, wrk {(wrk_user + wrk_sys) * us:.1f}, idle {idle * us:.1f}")
    finally:
        hooks.stop_server(server, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""System calls and context switches per request, thread by thread, under the load of bench/hooks.py.

On virtual machines where a system call or a context switch is dear, these counts explain much of what a
route costs beyond its own code: every time a thread goes to sleep and is woken again, both the sleeper and
the waker pay (see examples/wake_cost.rs for what one such round trip costs on the machine at hand).

Starts the release binary as bench/hooks.py does (fresh SQLite database, a plain and a scripted hook), warms
the routes up, then for each route runs wrk for --duration seconds and, from the second second on, counts
with `perf stat --per-thread` the context switches and the calls of the system calls a request path makes
(futex, epoll_wait, read/recvfrom, write/writev, pwrite64, pread64, fsync, fcntl). Counts are printed per
request and summed per thread name (so both HTTP workers add up as `tokio-rt-worker`).

Linux only; needs perf (Debian package `linux-perf`) with the syscall tracepoints readable (root, or a low
`kernel.perf_event_paranoid`), wrk, and a release build. Everything targets 127.0.0.1 and stops by itself.

Usage: bench/syscalls.py [--routes info,plain,script] [--duration 6] [--connections 64]
                         [--binary target/release/switchboard]
"""
import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hooks  # noqa: E402  (the same hooks, script and body as bench/hooks.py)

SYSCALLS = ["futex", "epoll_wait", "read", "recvfrom", "write", "writev", "sendto", "pwrite64", "pread64",
            "fsync", "fdatasync", "fcntl"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--routes", default="info,plain,script")
    ap.add_argument("--duration", type=int, default=6)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--binary", default="target/release/switchboard")
    a = ap.parse_args()
    for tool in ("wrk", "perf"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed")
    if not os.path.exists(a.binary):
        sys.exit(f"{a.binary} is missing: run cargo build --release")
    args = argparse.Namespace(binary=a.binary, synchronous="full", duration=a.duration,
                              connections=a.connections, threads=1)
    events = ",".join(["context-switches"] + [f"syscalls:sys_enter_{s}" for s in SYSCALLS])
    counted = max(1, a.duration - 2)
    server, tmp, base, auth = hooks.start_server(args, "sb-syscalls-")
    try:
        urls = hooks.route_urls(base, auth, tmp)
        routes = a.routes.split(",")
        hooks.warm_up(urls, routes, args)
        print(f"wrk -t1 -c{a.connections} -d{a.duration}s, counted for {counted} s; calls per request")
        for r in routes:
            load = subprocess.Popen(hooks.wrk_command(urls[r][0], args, urls[r][1]), stdout=subprocess.PIPE,
                                    text=True)
            time.sleep(1)
            stat = subprocess.run(["perf", "stat", "--per-thread", "-x", ",", "-e", events, "-p",
                                   str(server.pid), "--", "sleep", str(counted)],
                                  capture_output=True, text=True)
            res = hooks.parse_wrk(load.communicate()[0])
            requests = res["rps"] * counted
            per = collections.defaultdict(float)
            for line in stat.stderr.splitlines():
                # CSV: thread-tid,count,unit,event,...
                f = line.split(",")
                if len(f) < 4 or not f[1].strip().isdigit():
                    continue
                thread = re.sub(r"[-\d]+$", "", f[0].strip())
                event = f[3].replace("syscalls:sys_enter_", "")
                per[(thread, event)] += int(f[1]) / requests
            print(f"\n{r}: {res['rps']:.0f} req/s, p99 {res['p99']:.2f} ms")
            names = sorted({t for t, _ in per})
            cols = ["context-switches"] + SYSCALLS
            shown = [c for c in cols if any(per[(t, c)] >= 0.005 for t in names)]
            print(f"  {'thread':<18}" + "".join(f"{c.replace('context-switches', 'switches'):>11}" for c in shown))
            for t in names:
                if all(per[(t, c)] < 0.005 for c in shown):
                    continue
                print(f"  {t:<18}" + "".join(f"{per[(t, c)]:>11.3f}" for c in shown))
            print(f"  {'all threads':<18}" + "".join(f"{sum(per[(t, c)] for t in names):>11.3f}" for c in shown))
    finally:
        hooks.stop_server(server, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Shared bits of the client scripts: arguments, checks, unique names.

Every script takes the server's base URL and the administrator's credentials, as arguments or from the
environment:

    python3 rest_client.py http://127.0.0.1:3000 admin admin-pass
    SB_URL=http://127.0.0.1:3000 SB_ADMIN_USER=admin SB_ADMIN_PASSWORD=admin-pass python3 rest_client.py

It exits 0 when every check passed, and 1 with a `FAIL:` line naming the first mismatch otherwise.
"""

import os
import secrets
import sys
import traceback


class Mismatch(Exception):
    """The server answered something a Rocket.Chat server would not."""


def check(cond, what, got=None):
    """Fails the run with `what` (and what the server gave instead) unless `cond` holds."""
    if not cond:
        raise Mismatch(what if got is None else f"{what}; got: {got!r}")
    print(f"ok   {what}", flush=True)


def args():
    """(base URL without a trailing slash, admin username, admin password)."""
    argv = sys.argv[1:]
    url = argv[0] if len(argv) > 0 else os.environ.get("SB_URL")
    user = argv[1] if len(argv) > 1 else os.environ.get("SB_ADMIN_USER", "admin")
    password = argv[2] if len(argv) > 2 else os.environ.get("SB_ADMIN_PASSWORD")
    if not url or not password:
        print(f"usage: {sys.argv[0]} BASE_URL [ADMIN_USER] ADMIN_PASSWORD (or SB_URL, SB_ADMIN_USER, "
              "SB_ADMIN_PASSWORD)", file=sys.stderr)
        sys.exit(2)
    return url.rstrip("/"), user, password


def unique(prefix):
    """A name no earlier run against the same server used."""
    return f"{prefix}-{secrets.token_hex(4)}"


def run(main):
    """Runs `main()`, turning any failure into a `FAIL:` line and exit status 1."""
    try:
        main()
    except Mismatch as e:
        print(f"FAIL: {e}", flush=True)
        traceback.print_exc()
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - any library exception is a failed run
        print(f"FAIL: unexpected {type(e).__name__}: {e}", flush=True)
        traceback.print_exc()
        sys.exit(1)
    print("PASS", flush=True)

"""`python -m perfspec.runtime.demo`: serve the demo target; prints its URL on the first line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import sys

from ..postgres import PostgresUnavailable, throwaway
from .app import Faults, serve

UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def parse_duration(text: str) -> float:
    """`300ms`, `1.5s`: the demo target's injected latency (the runtime never imports the
    compiler, so this is its own small parser)."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(us|µs|ms|s|m)\s*", text)
    if m is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (write e.g. 300ms or 1.5s)")
    return float(m.group(1)) * UNITS[m.group(2)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="perfspec demo serve", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = a free port")
    p.add_argument(
        "--dsn",
        default=os.environ.get("PERFSPEC_DEMO_DSN"),
        help="PostgreSQL DSN (default $PERFSPEC_DEMO_DSN, which keeps a password out of "
        "the process list; else a throwaway server)",
    )
    p.add_argument("--latency", type=parse_duration, default=0.0, help="inject latency, e.g. 50ms")
    p.add_argument("--error-ratio", type=float, default=0.0, help="share of 500 answers, 0..1")
    p.add_argument("--login-rate", type=float, default=0.0, help="logins/s before 429; 0 = off")
    args = p.parse_args(argv)
    faults = Faults(args.latency, args.error_ratio, args.login_rate)

    def ready(url: str) -> None:
        print(url, flush=True)

    async def run(dsn: str) -> None:
        task = asyncio.ensure_future(serve(dsn, args.host, args.port, faults, ready))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        if args.dsn:
            asyncio.run(run(args.dsn))
        else:
            with throwaway() as dsn:
                asyncio.run(run(dsn))
    except PostgresUnavailable as exc:
        print(f"error: cannot start a throwaway PostgreSQL: {exc}", file=sys.stderr)
        print("  hint: pass --dsn, or install pgserver (pip install pgserver)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Regression power: how often a `regression` target judged against the history flags an A/A
run (false positives) and detects a known slowdown, next to the naive one-baseline rule.

Starts a local aiohttp server on 127.0.0.1 whose every answer waits a log-normal time (median
50 ms, sigma 0.25; the client's own ~1 ms is then small beside it, so a factor on the wait is
nearly that factor on the p95) times a factor the bench sets between runs, then runs the
spec below with `perfspec run --only k6` (real k6, an open-model 400 requests/s for 5 s), each
run keeping its history record. Order: 5 runs at factor 1, then per round one more run at 1 and
one at each shift (2, 5, 10, 20 % slower), so machine drift hits every arm alike.

Each trial judges one run against the 5 runs at factor 1 just before it, by the same code
`perfspec check` uses (runtime/regression.py `compare` and `breaks`): the run fails the bound
`< +5%` when its estimate breaks it and the change is significantly upwards (one-sided 95 %).
A/A trials judge the next run at factor 1. The naive rule compares with the one run at factor
1 before: fail above +10 %.

    python bench/regression_power.py [--rounds 20] [--seconds 5] [--rate 400]
    python bench/regression_power.py --analyze FOLDER   # the runs of an earlier bench again

Goals (issue #35): A/A false positives <= 5 %; a 10 % p95 slowdown detected in >= 90 %.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIFTS = (0.02, 0.05, 0.10, 0.20)
SPEC = """\
version: 1
name: power
hosts:
  target: {url: "${API_URL}"}
http:
  endpoints:
    item: {get: /item}
profiles:
  steady: {rate: %(rate)d/s, for: %(seconds)ds, max_users: 80}
targets:
  - {name: item, select: {endpoint: item}, p95: < 150ms, regression: {p95: "< +5%%"}}
"""


def serve(factor: list[float]) -> tuple[str, threading.Thread]:
    """The target: /item waits median 50 ms (log-normal, sigma 0.25) x factor[0]."""
    from aiohttp import web

    rng = random.Random(7)

    async def item(_request):
        await asyncio.sleep(0.050 * rng.lognormvariate(0, 0.25) * factor[0])
        return web.Response(text='{"ok": true}', content_type="application/json")

    ready: list[str] = []

    def run() -> None:
        loop = asyncio.new_event_loop()
        app = web.Application()
        app.add_routes([web.get("/item", item)])
        runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        ready.append(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}")  # noqa: SLF001
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    while not ready:
        time.sleep(0.05)
    return ready[0], thread


def one_run(folder: Path, url: str, factor: list[float], value: float) -> str:
    """One `perfspec run`; its run id. A run that kept no history record stops the bench: the
    analysis takes the arms from the records' order."""
    factor[0] = value
    root = folder / "results"
    before = {p.name for p in root.iterdir()} if root.is_dir() else set()
    env = {**os.environ, "API_URL": url, "PERFSPEC_BRANCH": "bench"}
    proc = subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", "run", "power.yaml", "--only", "k6"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    new = [p for p in root.iterdir() if p.name not in before and (p / "history.json").is_file()]
    if len(new) != 1:
        sys.exit(f"the run kept no history record: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return new[0].name


def judge(record, before) -> tuple[bool, bool]:
    """(fails the `< +5%` bound as perfspec judges it, naive: above +10 % of the last run)."""
    from perfspec.runtime.contracts import Bound
    from perfspec.runtime.histogram import Histogram
    from perfspec.runtime.regression import breaks, compare, spread_of

    part = record.targets["item"]["k6"]
    value = part["stats"]["p95"]
    spread = spread_of("p95", Histogram.from_pairs(part["histogram"]), part["count"], value)
    history = [r.targets["item"]["k6"]["stats"]["p95"] for r in before]
    change = compare(value, spread, history)
    return breaks(Bound(op="<", value=0.05, text="< +5%"), change), value / history[-1] - 1 > 0.10


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rate", type=int, default=400)
    ap.add_argument("--analyze", type=Path, help="judge the runs of an earlier bench's folder again")
    args = ap.parse_args()
    if args.analyze:
        analyze(args.analyze / "results")
        return

    factor = [1.0]
    url, _ = serve(factor)
    folder = Path(tempfile.mkdtemp(prefix="perfspec-power-"))
    (folder / "pyproject.toml").write_text("")
    (folder / "power.yaml").write_text(SPEC % {"rate": args.rate, "seconds": args.seconds})
    arms: dict[float, list[str]] = {0.0: [], **{s: [] for s in SHIFTS}}
    started = time.time()
    for _ in range(5):
        arms[0.0].append(one_run(folder, url, factor, 1.0))
    for r in range(args.rounds):
        for shift in (0.0, *SHIFTS) if r % 2 == 0 else (*SHIFTS, 0.0):  # alternate who goes first
            arms[shift].append(one_run(folder, url, factor, 1.0 + shift))
        print(f"round {r + 1}/{args.rounds} done ({time.time() - started:.0f}s)", file=sys.stderr)
    print(f"runs in {folder}", file=sys.stderr)
    analyze(folder / "results")


def analyze(results: Path) -> None:
    """The arms from the runs' order (5 at factor 1, then per round 1 + the shifts, who goes
    first alternating), every trial judged, the table printed."""
    from perfspec.runtime.history_store import FileStore

    records = FileStore(results).records()
    arms: dict[float, list] = {0.0: records[:5], **{s: [] for s in SHIFTS}}
    rounds = (len(records) - 5) // (1 + len(SHIFTS))
    rest = iter(records[5:])
    for r in range(rounds):
        for shift in (0.0, *SHIFTS) if r % 2 == 0 else (*SHIFTS, 0.0):
            arms[shift].append(next(rest))
    base = arms[0.0]
    rows = []
    for shift in (0.0, *SHIFTS):
        history_rule = naive = 0
        for j in range(rounds):
            now = base[j + 5] if shift == 0.0 else arms[shift][j]
            fails, naive_fails = judge(now, base[j : j + 5])
            history_rule += fails
            naive += naive_fails
        rows.append((shift, history_rule / rounds, naive / rounds))
    p95 = [r.targets["item"]["k6"]["stats"]["p95"] for r in base]
    mean = sum(p95) / len(p95)
    cv = (sum((x - mean) ** 2 for x in p95) / (len(p95) - 1)) ** 0.5 / mean
    print(
        f"\n{rounds} trials per arm; factor-1 runs: p95 median {sorted(p95)[len(p95) // 2] * 1000:.2f} ms, "
        f"run-to-run CV {cv * 100:.1f} %"
    )
    print("| p95 shift | history rule (last 5, one-sided 95 %, < +5 %) | naive (one baseline, > +10 %) |")
    print("|---|---|---|")
    for shift, h, n in rows:
        label = "A/A (0 %): false positives" if shift == 0.0 else f"+{shift * 100:.0f} %: detected"
        print(f"| {label} | {h * 100:.0f} % | {n * 100:.0f} % |")
    print(json.dumps({"rows": rows, "folder": str(results.parent)}))


if __name__ == "__main__":
    main()

"""perfspec's two SQL engines vs pgbench itself, on pgbench's own select-only and tpcb-like workloads.

One throwaway PostgreSQL (the machine's binaries, TCP 127.0.0.1), initialised by `pgbench -i -s
SCALE`. Per workload, in alternating order each round, for the same clients and seconds:

- hand-run pgbench: its built-in script (`-b select-only`, `-b tpcb-like`), `-M prepared`;
- perfspec's pgbench engine: the spec's query compiled into a pgbench script, run by sql_bench.py;
- perfspec's asyncpg engine: the same query on asyncpg (what an asyncpg application sees);
- a bare asyncpg loop: prepared statements in a loop (the transaction's five for tpcb-like), no
  timing, no bookkeeping, the same process count: the ceiling of any asyncpg client here.

Prints transactions per second of each (median of rounds) and the medians of per-round ratios
to hand-run pgbench. Goal: pgbench engine >= 0.95 of hand-run pgbench on both workloads.

    python bench/sql_vs_pgbench.py [--seconds 10] [--clients 8] [--rounds 3] [--scale 10]
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SPEC = """\
version: 1
name: engines
databases:
  bank: {{dsn: "${{BENCH_DSN}}", pool: {{min_size: {clients}, max_size: {clients}}}}}
sql:
  database: bank
  scale: {scale}
  defaults: {{duration: {seconds}s, concurrency: [{clients}], warmup: 0, engine: {engine}}}
  params:
    aid: {{int: [1, "100000 * scale"]}}
    bid: {{int: [1, "1 * scale"]}}
    tid: {{int: [1, "10 * scale"]}}
    delta: {{int: [-5000, 5000]}}
  queries:
    select_only: {{sql: "SELECT abalance FROM pgbench_accounts WHERE aid = $1", params: [aid]}}
    tpcb_like:
      steps:
        - {{sql: "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2", params: [delta, aid]}}
        - {{sql: "SELECT abalance FROM pgbench_accounts WHERE aid = $1", params: [aid]}}
        - {{sql: "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2", params: [delta, tid]}}
        - {{sql: "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2", params: [delta, bid]}}
        - sql: "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, now())"
          params: [tid, bid, aid, delta]
"""

BUILTIN = {"select_only": "select-only", "tpcb_like": "tpcb-like"}
TPCB = [
    ("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2", "da"),
    ("SELECT abalance FROM pgbench_accounts WHERE aid = $1", "a"),
    ("UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2", "dt"),
    ("UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2", "db"),
    ("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, now())", "tbad"),
]


def pgbench_binary() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"), reverse=True)
    binary = shutil.which("pgbench") or (found[0] if found else None)
    if binary is None:
        raise SystemExit("pgbench not found (Debian: postgresql-client or the server package)")
    return binary


def libpq_env(dsn: str) -> dict[str, str]:
    from perfspec.runtime.support.perfspec_sql_pgbench import dsn_env

    return {**os.environ, **dsn_env(dsn)}


def hand_pgbench(dsn: str, workload: str, seconds: int, clients: int) -> float:
    jobs = min(clients, os.cpu_count() or 1)
    proc = subprocess.run(
        [
            pgbench_binary(),
            "-n",
            "-M",
            "prepared",
            "-b",
            BUILTIN[workload],
            "-c",
            str(clients),
            "-j",
            str(jobs),
            "-T",
            str(seconds),
        ],
        capture_output=True,
        text=True,
        env=libpq_env(dsn),
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"pgbench failed:\n{proc.stderr}")
    return next(
        float(line.split("=")[1].split()[0]) for line in proc.stdout.splitlines() if line.startswith("tps =")
    )


def perfspec_engine(script: Path, dsn: str, workload: str, out: Path) -> tuple[float, int]:
    proc = subprocess.run(
        [sys.executable, str(script), "--out", str(out), "--only", workload],
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_DSN": dsn},
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"perfspec benchmark failed:\n{proc.stdout}{proc.stderr}")
    newest = max(out.glob("*.json"), key=lambda p: p.stat().st_mtime)
    level = next(iter(json.loads(newest.read_text())["queries"][workload]["levels"].values()))
    newest.unlink()
    return level["throughput"], level.get("processes", 1)


def _bare_process(dsn: str, workload: str, seconds: int, connections: int, scale: int, out) -> None:
    import random

    import asyncpg

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    async def main() -> int:
        conns = [await asyncpg.connect(dsn) for _ in range(connections)]
        stop = asyncio.get_running_loop().time() + seconds

        async def lookup(conn) -> int:
            stmt = await conn.prepare("SELECT abalance FROM pgbench_accounts WHERE aid = $1")
            n = 0
            while asyncio.get_running_loop().time() < stop:
                await stmt.fetch(random.randint(1, 100000 * scale))
                n += 1
            return n

        async def tpcb(conn) -> int:
            stmts = [(await conn.prepare(sql), order) for sql, order in TPCB]
            n = 0
            while asyncio.get_running_loop().time() < stop:
                v = {
                    "a": random.randint(1, 100000 * scale),
                    "b": random.randint(1, scale),
                    "t": random.randint(1, 10 * scale),
                    "d": random.randint(-5000, 5000),
                }
                async with conn.transaction():
                    for stmt, order in stmts:
                        await stmt.fetch(*(v[k] for k in order))
                n += 1
            return n

        loop = lookup if workload == "select_only" else tpcb
        counts = await asyncio.gather(*(loop(c) for c in conns))
        for c in conns:
            await c.close()
        return sum(counts)

    out.send(asyncio.run(main()))


def bare_asyncpg(dsn: str, workload: str, seconds: int, clients: int, processes: int, scale: int) -> float:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    pipes, procs = [], []
    for p in range(processes):
        here, there = ctx.Pipe(duplex=False)
        share = clients // processes + (p < clients % processes)
        proc = ctx.Process(target=_bare_process, args=(dsn, workload, seconds, share, scale, there))
        proc.start()
        pipes.append(here)
        procs.append(proc)
    total = sum(pipe.recv() for pipe in pipes)
    for proc in procs:
        proc.join()
    return total / seconds


def build(folder: Path, engine: str, args: argparse.Namespace) -> Path:
    spec = folder / f"{engine}.yaml"
    spec.write_text(SPEC.format(clients=args.clients, scale=args.scale, seconds=args.seconds, engine=engine))
    subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", "build", str(spec), "--out", str(folder / "gen")],
        check=True,
        capture_output=True,
        cwd=folder,
    )
    return folder / "gen" / engine / "sql_bench.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=int, default=10)
    args = parser.parse_args()
    from perfspec.runtime.postgres import throwaway

    names = ("hand-run pgbench", "perfspec pgbench engine", "perfspec asyncpg engine", "bare asyncpg loop")
    runs: dict[str, dict[str, list[float]]] = {w: {n: [] for n in names} for w in BUILTIN}
    with tempfile.TemporaryDirectory() as tmp, throwaway(tcp=True) as dsn:
        folder = Path(tmp)
        subprocess.run(
            [pgbench_binary(), "-i", "-q", "-s", str(args.scale)],
            env=libpq_env(dsn),
            check=True,
            capture_output=True,
        )
        scripts = {engine: build(folder, engine, args) for engine in ("pgbench", "asyncpg")}
        processes = 1
        for r in range(args.rounds):
            for workload in BUILTIN:
                order = list(names) if r % 2 == 0 else list(reversed(names))
                for name in order:
                    if name == "hand-run pgbench":
                        tps = hand_pgbench(dsn, workload, args.seconds, args.clients)
                    elif name == "bare asyncpg loop":
                        tps = bare_asyncpg(dsn, workload, args.seconds, args.clients, processes, args.scale)
                    else:
                        engine = name.split()[1]
                        tps, used = perfspec_engine(scripts[engine], dsn, workload, folder / "out")
                        processes = used if engine == "asyncpg" else processes
                    runs[workload][name].append(tps)
                    print(f"round {r + 1}: {workload:<12} {name:<24} {tps:>10,.0f} tps", flush=True)
    print(
        f"\n{args.clients} clients, {args.seconds} s per run, {args.rounds} rounds, scale {args.scale}, "
        f"TCP 127.0.0.1, {os.cpu_count()} cores shared with the server; medians:"
    )
    for workload, by_name in runs.items():
        hand = by_name["hand-run pgbench"]
        print(f"  {workload}")
        for name, values in by_name.items():
            ratio = statistics.median(v / h for v, h in zip(values, hand, strict=True))
            goal = "  (goal >= 0.95)" if name == "perfspec pgbench engine" else ""
            median = statistics.median(values)
            print(
                f"    {name:<24} {median:>10,.0f} tps   {ratio:.3f} of hand-run pgbench{goal}"
                f"   rounds: {', '.join(f'{v:,.0f}' for v in values)}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

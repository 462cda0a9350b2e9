"""perfspec's generated SQL benchmark vs pgbench: one primary-key lookup, 10 clients, same server.

Both connect over TCP to 127.0.0.1 (a throwaway PostgreSQL started from the machine's binaries)
and run for the same time. pgbench runs `-M prepared` with a custom script and logs every
transaction (-l), so its p50/p99 come from all samples too. Goal: throughput ratio >= 0.6.

A bare asyncpg loop (prepared fetch, no timing, same process count) runs in every round too:
the ceiling of any asyncpg-based client on this machine.

    python bench/sql_vs_pgbench.py [--seconds 10] [--clients 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOTS = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"), reverse=True)
ROWS = 100_000

SPEC = """\
version: 1
name: pk-lookup
databases:
  main: {{dsn: "${{BENCH_DSN}}", pool: {{min_size: {clients}, max_size: {clients}}}}}
sql:
  database: main
  params:
    id: {{int: [1, {rows}]}}
  queries:
    pk_lookup: {{sql: "SELECT id, payload FROM lookup WHERE id = $1", params: [id],
                warmup: 200, duration: {seconds}s, concurrency: [{clients}], expect_plan: index_scan}}
"""

PGBENCH_SCRIPT = f"""\\set id random(1, {ROWS})
SELECT id, payload FROM lookup WHERE id = :id;
"""


def quantile(sorted_values: list[int], q: float) -> int:
    rank = max(1, -int(-q * len(sorted_values) // 1))
    return sorted_values[rank - 1]


async def load(dsn: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    await conn.execute(f"""
        DROP TABLE IF EXISTS lookup;
        CREATE TABLE lookup (id int PRIMARY KEY, payload text NOT NULL);
        INSERT INTO lookup SELECT g, md5(g::text) FROM generate_series(1, {ROWS}) g;
        ANALYZE lookup;""")
    await conn.close()


def run_perfspec(folder: Path, dsn: str, seconds: int, clients: int) -> dict:
    from perfspec.compiler.backends.sql import SqlBackend
    from perfspec.compiler.plan import build_plan
    from perfspec.compiler.validate import check_file

    spec = folder / "pk.yaml"
    spec.write_text(SPEC.format(clients=clients, rows=ROWS, seconds=seconds))
    script = folder / "sql_bench.py"
    script.write_text(SqlBackend().emit(build_plan(check_file(spec)))[0].content)
    out = folder / f"perfspec-{len(list(folder.glob('perfspec-*')))}"
    proc = subprocess.run([sys.executable, str(script), "--out", str(out)], capture_output=True,
                          text=True, env={**os.environ, "BENCH_DSN": dsn})
    if proc.returncode != 0:
        raise SystemExit(f"perfspec benchmark failed:\n{proc.stdout}{proc.stderr}")
    doc = json.loads(next(out.glob("sql-*.json")).read_text())
    level = doc["queries"]["pk_lookup"]["levels"][str(clients)]
    from perfspec.runtime.histogram import Histogram

    hist = Histogram.from_pairs(level["histogram"])
    return {"tps": level["throughput"], "p50": hist.quantile(0.5) / 1e6,
            "p99": hist.quantile(0.99) / 1e6, "processes": level["processes"],
            "uvloop": doc["client"]["uvloop"], "calls": level["count"]}


def _bare_process(dsn: str, seconds: int, connections: int, out) -> None:
    """The floor of any asyncpg client: prepared fetch in a loop, no timing, no bookkeeping."""
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

        async def loop(conn) -> int:
            stmt = await conn.prepare("SELECT id, payload FROM lookup WHERE id = $1")
            n = 0
            while asyncio.get_running_loop().time() < stop:
                await stmt.fetch(random.randint(1, ROWS))
                n += 1
            return n

        counts = await asyncio.gather(*(loop(c) for c in conns))
        for c in conns:
            await c.close()
        return sum(counts)

    out.send(asyncio.run(main()))


def run_bare(dsn: str, seconds: int, clients: int, processes: int) -> dict:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    pipes, procs = [], []
    for p in range(processes):
        here, there = ctx.Pipe(duplex=False)
        share = clients // processes + (p < clients % processes)
        proc = ctx.Process(target=_bare_process, args=(dsn, seconds, share, there))
        proc.start()
        pipes.append(here)
        procs.append(proc)
    total = sum(pipe.recv() for pipe in pipes)
    for proc in procs:
        proc.join()
    return {"tps": total / seconds}


def run_pgbench(pgbench: str, folder: Path, port: str, seconds: int, clients: int) -> dict:
    script = folder / "lookup.sql"
    script.write_text(PGBENCH_SCRIPT)
    logs = folder / f"pgbench-{len(list(folder.glob('pgbench-*')))}"
    logs.mkdir()
    jobs = min(clients, os.cpu_count() or 1)
    proc = subprocess.run(
        [pgbench, "-n", "-M", "prepared", "-h", "127.0.0.1", "-p", port, "-U", "postgres",
         "-c", str(clients), "-j", str(jobs), "-T", str(seconds), "-f", str(script), "-l",
         "--log-prefix", str(logs / "log"), "postgres"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"pgbench failed:\n{proc.stderr}")
    latencies = sorted(int(line.split()[2]) for path in logs.glob("log*") for line in path.open())
    tps = next(float(line.split("=")[1].split()[0]) for line in proc.stdout.splitlines()
               if line.startswith("tps ="))
    return {"tps": tps, "p50": quantile(latencies, 0.5) / 1e3, "p99": quantile(latencies, 0.99) / 1e3,
            "calls": len(latencies), "jobs": jobs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each; best kept")
    args = parser.parse_args()
    pgbench = shutil.which("pgbench") or (ROOTS[0] if ROOTS else None)
    if pgbench is None:
        raise SystemExit("pgbench not found (Debian: postgresql-client or the server package)")
    from perfspec.runtime.postgres import throwaway

    with tempfile.TemporaryDirectory() as tmp, throwaway(tcp=True) as dsn:
        folder = Path(tmp)
        os.chmod(folder, 0o755)
        port = dsn.rsplit(":", 1)[1].split("/")[0]
        asyncio.run(load(dsn))
        ours, theirs, bare = [], [], []
        for _ in range(args.rounds):
            theirs.append(run_pgbench(pgbench, folder, port, args.seconds, args.clients))
            ours.append(run_perfspec(folder, dsn, args.seconds, args.clients))
            bare.append(run_bare(dsn, args.seconds, args.clients, ours[-1]["processes"]))
    best_ours = max(ours, key=lambda r: r["tps"])
    best_theirs = max(theirs, key=lambda r: r["tps"])
    print(f"primary-key lookup, {args.clients} clients, {args.seconds} s per run, {args.rounds} "
          f"rounds, TCP 127.0.0.1, {os.cpu_count()} cores shared with the server")
    for label, runs, best in (("pgbench -M prepared", theirs, best_theirs),
                              ("perfspec sql_bench", ours, best_ours)):
        every = ", ".join(f"{r['tps']:.0f}" for r in runs)
        print(f"  {label:<20} {best['tps']:>9.0f} tps (runs: {every})  p50 {best['p50']:.3f} ms  "
              f"p99 {best['p99']:.3f} ms  ({best['calls']} calls)")
    print(f"  perfspec: {best_ours['processes']} processes, uvloop {best_ours['uvloop']}")
    best_bare = max(r["tps"] for r in bare)
    runs = ", ".join(f"{r['tps']:.0f}" for r in bare)
    print(f"  bare asyncpg loop    {best_bare:>9.0f} tps (runs: {runs}; "
          f"same processes, prepared fetch, no timing): perfspec reaches "
          f"{best_ours['tps'] / best_bare:.2f} of it, the loop itself {best_bare / best_theirs['tps']:.2f} "
          "of pgbench")
    ratio = best_ours["tps"] / best_theirs["tps"]
    paired = sorted(o["tps"] / t["tps"] for o, t in zip(ours, theirs, strict=True))
    print(f"  ratio perfspec/pgbench, best vs best: {ratio:.2f}  (goal >= 0.60: "
          f"{'met' if ratio >= 0.6 else 'NOT met'}); per round: {', '.join(f'{r:.2f}' for r in paired)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Support module of perfspec's generated SQL benchmarks: pool, generators, levels, EXPLAIN checks.

`perfspec build` writes this file once per output folder as `perfspec_sql.py`; a generated
sql_bench.py holds the spec's database, generators and queries as data and calls `main`. It needs
only asyncpg (uvloop when installed). Each query runs its warm-up, then every concurrency level:
N workers on an asyncpg pool with the spec's settings, split over one process per core. Every
call's exact latency goes into a histogram of 3 significant digits in nanoseconds (off by at most
0.5 %). Before measuring, each query is explained (EXPLAIN (FORMAT JSON)) and its plan checked
against expect_plan. The result file sql-<host>-<pid>.json lands in --out (default:
$PERFSPEC_RESULTS_DIR, else the working folder). Exit status: 0 all queries ran cleanly, 1 errors
or plan mismatches, 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import sys
import time

if __package__:  # perfspec.runtime.support in perfspec's own tests
    from . import perfspec_sql_level as config
    from . import perfspec_sql_pgbench as pgbench
    from .perfspec_histogram import Histogram
    from .perfspec_sql_values import BadInput, Generators, resolve
else:  # beside the generated sql_bench.py, whose folder's parent is on sys.path
    import perfspec_sql_level as config
    import perfspec_sql_pgbench as pgbench
    from perfspec_histogram import Histogram
    from perfspec_sql_values import BadInput, Generators, resolve

asyncpg = config.asyncpg
describe_error, run_level, use_uvloop = config.describe_error, config.run_level, config.use_uvloop


def configure(spec, database, generators, queries):
    """The spec's data, for this module and the level module."""
    config.configure(spec, database, generators, queries)


def mask(dsn):
    """A DSN fit for messages and result files: the password never leaves the process."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", re.sub(r"(?i)(password=)\S+", r"\1***", dsn))


async def connect(dsn):
    try:
        return await asyncpg.connect(dsn, timeout=config.DATABASE["pool"].get("timeout", 10))
    except Exception as exc:  # every way a connection can fail becomes one clear message
        raise BadInput(
            f"cannot connect to database {config.DATABASE['name']!r} ({config.DATABASE['source']}) "
            f"at {mask(dsn)}: {describe_error(exc)}"
        ) from None


async def run_files(dsn, files, what):
    conn = await connect(dsn)
    try:
        if config.DATABASE.get("scale"):  # setup SQL reads it as current_setting('perfspec.scale')
            await conn.execute(f"SET perfspec.scale = {int(config.DATABASE['scale'])}")
        for path in files:
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as exc:
                raise BadInput(
                    f"{what} file {path} ({config.DATABASE['source']}): {exc.strerror}; paths "
                    "are relative to the folder perfspec build ran in"
                ) from None
            try:
                await conn.execute(text)
            except asyncpg.PostgresError as exc:
                raise BadInput(f"{what} file {path} failed: {describe_error(exc)}") from None
    finally:
        await conn.close()


def plan_nodes(node, found):
    found.append({k: node[k] for k in ("Node Type", "Relation Name", "Index Name") if k in node})
    for child in node.get("Plans", []):
        plan_nodes(child, found)
    return found


def plan_problems(expect, nodes):
    """What the plan lacks or has against expect_plan; an empty list means it matches."""
    problems = []
    index_nodes = [
        n for n in nodes if n["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
    ]
    seq = [n for n in nodes if n["Node Type"] == "Seq Scan"]
    shown = ", ".join(
        f"{n['Node Type']}"
        + (f" on {n['Relation Name']}" if "Relation Name" in n else "")
        + (f" using {n['Index Name']}" if "Index Name" in n else "")
        for n in nodes
    )
    uses = expect.get("uses_index")
    if uses is True and not index_nodes:
        problems.append(f"expected an index scan; the plan is: {shown}")
    if isinstance(uses, str) and not any(n.get("Index Name") == uses for n in index_nodes):
        problems.append(f"expected a scan using index {uses}; the plan is: {shown}")
    if expect.get("no_seq_scan") and seq:
        tables = ", ".join(sorted({n.get("Relation Name", "?") for n in seq}))
        problems.append(f"expected no sequential scan; {tables} read by Seq Scan; the plan is: {shown}")
    for table in expect.get("no_seq_scan_on", []):
        if any(n.get("Relation Name") == table for n in seq):
            problems.append(f"expected no sequential scan on {table}; the plan is: {shown}")
    for table in expect.get("index_scan_on", []):
        reads = [n["Node Type"] for n in nodes if n.get("Relation Name") == table]
        reads = [kind for kind in reads if kind != "ModifyTable"]  # the table written, not read
        if not reads:
            problems.append(f"expected an index scan on {table}, which the plan does not read: {shown}")
        elif any(kind not in INDEX_READS for kind in reads):
            problems.append(f"expected {table} read by an index only; the plan is: {shown}")
    return problems


INDEX_READS = ("Index Scan", "Index Only Scan", "Bitmap Heap Scan")


async def explain(dsn, names):
    """The server's version, then per query: its plan and the check, or the error that stops it.
    A transaction's steps are explained in order inside a transaction that is rolled back, each
    run after its EXPLAIN so the later steps see its returned columns."""
    conn = await connect(dsn)
    found = {}
    try:
        version = await conn.fetchval("SHOW server_version")
        gens = config.generators(0, 1)
        for name in names:
            q = config.QUERIES[name]
            if "mix" in q:
                continue
            entry = found[name] = {}
            try:
                entry["nodes"], entry["plan"] = await explain_steps(conn, gens, name, q)
            except (
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                asyncpg.DataError,
                TypeError,
                ValueError,
                OverflowError,
            ) as exc:
                entry.pop("nodes", None)
                entry["error"] = describe_error(exc)
                continue
            if q["expect_plan"]:
                entry["expect"] = q["expect_plan"]
                entry["problems"] = plan_problems(q["expect_plan"], entry["nodes"])
    finally:
        await conn.close()
    return version, found


async def explain_steps(conn, gens, name, q):
    """Every statement's plan nodes (one list) and plans (one, or a list for a transaction)."""
    values = gens.draw(name)
    if "steps" not in q:
        args = [values[p] for p in q.get("params", [])]
        document = await conn.fetchval("EXPLAIN (FORMAT JSON) " + q["sql"], *args)
        plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
        return plan_nodes(plan, []), plan
    nodes, plans = [], []
    transaction = conn.transaction()
    await transaction.start()
    try:
        for step in q["steps"]:
            args = [values[p] for p in step["params"]]
            document = await conn.fetchval("EXPLAIN (FORMAT JSON) " + step["sql"], *args)
            plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
            plans.append(plan)
            plan_nodes(plan, nodes)
            row = await conn.fetchrow(step["sql"], *args)
            if step["returns"] and row is not None:
                values.update(row.items())
    finally:
        await transaction.rollback()
    return nodes, plans


def ms(ns):
    return "-" if ns is None else f"{ns / 1e6:.3f}"


def main(spec, database, generators, queries, argv=None, folder=None):
    """The command line of a generated sql_bench.py (`folder`: its own, where pgbench scripts are)."""
    configure(spec, database, generators, queries)
    folder = folder or os.path.dirname(os.path.abspath(sys.argv[0]))
    parser = argparse.ArgumentParser(description=f"SQL benchmark of {config.SPEC}")
    parser.add_argument("--dsn", help="PostgreSQL DSN (default: the spec's, read from the environment)")
    parser.add_argument("--out", help="folder of the result file (default: $PERFSPEC_RESULTS_DIR or .)")
    parser.add_argument("--only", help="comma-separated query names")
    parser.add_argument("--setup", action="store_true", help="run the spec's setup SQL first")
    parser.add_argument("--teardown", action="store_true", help="run the spec's teardown SQL last")
    parser.add_argument("--processes", type=int, default=0, help="processes (default: one per core)")
    parser.add_argument("--no-uvloop", action="store_true", help="use asyncio's default event loop")
    args = parser.parse_args(argv)
    try:
        return bench(args, folder)
    except BadInput as exc:
        print(f"{config.SPEC}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{config.SPEC}: interrupted; no result file written", file=sys.stderr)
        return 130


def bench(args, folder):
    dsn, names = dsn_of(args), query_names(args)
    uvloop_on = use_uvloop(not args.no_uvloop)
    cores = args.processes or os.cpu_count() or 1
    if args.setup and config.DATABASE["setup"]:
        asyncio.run(run_files(dsn, config.DATABASE["setup"], "setup"))
    started = time.time()
    parts = [p for n in names for p in config.QUERIES[n].get("mix", {})]
    version, plans = asyncio.run(explain(dsn, [*names, *(p for p in parts if p not in names)]))
    results, bad = {"asyncpg": {}, "pgbench": {}}, False
    for name in names:
        engine = config.QUERIES[name].get("engine", "asyncpg")
        for which in ("asyncpg", "pgbench") if engine == "both" else (engine,):
            entries, failed = measure_query(dsn, name, plans, cores, uvloop_on, which, folder)
            results[which].update(entries)
            bad = bad or failed
    if args.teardown and config.DATABASE["teardown"]:
        asyncio.run(run_files(dsn, config.DATABASE["teardown"], "teardown"))
    for which, found in results.items():
        if found:
            write_results(args, dsn, version, uvloop_on, cores, started, found, which)
    return 1 if bad else 0


def dsn_of(args):
    db = config.DATABASE
    try:
        dsn = args.dsn or resolve(db["dsn"])
    except BadInput as exc:
        raise BadInput(
            f"{exc}: it holds the DSN of database {db['name']!r} ({db['source']}); set it, or pass --dsn"
        ) from None
    if not dsn:
        raise BadInput(f"no DSN for database {db['name']!r} ({db['source']}): pass --dsn")
    return dsn


def query_names(args):
    """The queries to run (--only), their CSV columns read up front so a missing one fails fast."""
    names = [n for n, q in config.QUERIES.items() if q.get("standalone", True)]
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in config.QUERIES]
        if unknown:
            raise BadInput(f"unknown queries {unknown}; the spec has {sorted(config.QUERIES)}")
    for name in names:
        for gen in config.QUERIES[name].get("draws", config.QUERIES[name].get("params", [])):
            if "csv" in config.GENERATORS[gen]:
                Generators.column(config.GENERATORS[gen]["csv"], config.GENERATORS[gen]["column"])
    return names


def entry_of(name, plan):
    q = config.QUERIES[name]
    workload = {k: q[k] for k in ("sql", "steps", "mix") if k in q}
    return {
        **workload,
        "class": q["class"],
        "source": q["source"],
        "expect_plan": q["expect_plan"],
        "levels": {},
        **plan,
    }


def measure_query(dsn, name, plans, cores, uvloop_on, engine, folder):
    """Every concurrency level of one query (unless its EXPLAIN failed) on one engine: its result
    entries (a mix's parts besides the mix) and whether anything went wrong."""
    q = config.QUERIES[name]
    parts = list(q.get("mix", {}))
    entries = {name: entry_of(name, plans.get(name, {}))}
    entries.update({f"{name}/{p}": {**entry_of(p, plans.get(p, {})), "mix": name} for p in parts})
    for key in [name, *parts]:
        if "error" in plans.get(key, {}):
            print(
                f"{config.QUERIES[key]['source']}: query {key!r} failed before measuring: "
                f"{plans[key]['error']}",
                file=sys.stderr,
            )
            return entries, True
    bad = False
    for key in [name, *parts]:
        for problem in plans.get(key, {}).get("problems", []):
            bad = True
            print(f"{config.QUERIES[key]['source']}: query {key!r}: {problem}", file=sys.stderr)
    for workers in q["levels"]:
        if engine == "pgbench":
            level = pgbench.run_level(
                q, parts or [name], dsn, workers, cores, folder, config.DATABASE.get("scale")
            )
        else:
            level = run_level(dsn, name, workers, max(1, min(cores, workers)), uvloop_on)
        for part, result in level.pop("parts", {}).items():
            entries[f"{name}/{part}"]["levels"][str(workers)] = result
        entries[name]["levels"][str(workers)] = level
        hist = Histogram()
        hist.merge_pairs(level["histogram"])
        shown = name if engine == "asyncpg" else f"{name} ({engine})"
        print(
            f"{shown:<28} {workers:>4} workers {level['count']:>8} calls {level['failures']:>6} errors "
            f"{level['throughput']:>10.1f}/s  p50 {ms(hist.quantile(0.5))} ms  "
            f"p99 {ms(hist.quantile(0.99))} ms",
            flush=True,
        )
        if level["failures"] or "fatal" in level:
            bad = True
            first = level.get("fatal") or next(iter(level["errors"]))
            print(f"{q['source']}: query {name!r} at {workers} workers ({engine}): {first}", file=sys.stderr)
    return entries, bad


def identity():
    """What a result file says of itself: the run that made it and its spec's SHA-256 (set by
    `perfspec run`; absent when the file is run by hand), and the process (one shard each)."""
    found = {"host": socket.gethostname(), "pid": os.getpid()}
    for key, name in (("run", "PERFSPEC_RUN_ID"), ("spec_sha256", "PERFSPEC_SPEC_SHA256")):
        if os.environ.get(name):
            found[key] = os.environ[name]
    return found


def write_results(args, dsn, version, uvloop_on, cores, started, results, engine):
    folder = args.out or os.environ.get("PERFSPEC_RESULTS_DIR", ".")
    os.makedirs(folder, exist_ok=True)
    tool = "sql" if engine == "asyncpg" else engine
    path = os.path.join(folder, f"{tool}-{socket.gethostname()}-{os.getpid()}.json")
    document = {
        "format": "perfspec-results/1",
        "tool": tool,
        "engine": engine,
        "spec": config.SPEC,
        **identity(),
        "unit": "ns",
        "database": config.DATABASE["name"],
        "dsn": mask(dsn),
        "server_version": version,
        "client": (
            {"asyncpg": asyncpg.__version__, "uvloop": uvloop_on, "cores": cores}
            if engine == "asyncpg"
            else {"pgbench": pgbench.version(), "cores": cores}
        ),
        "started": started,
        "ended": time.time(),
        "queries": results,
    }
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(document, handle)
    os.replace(path + ".tmp", path)
    print(f"results: {path}")

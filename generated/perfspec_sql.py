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
import array
import asyncio
import csv
import functools
import gc
import json
import multiprocessing
import os
import random
import re
import socket
import sys
import time
import uuid

try:
    import asyncpg
except ImportError:
    raise SystemExit("this benchmark needs asyncpg: pip install asyncpg") from None

# set by configure() from the generated sql_bench.py
SPEC = ""
DATABASE: dict = {}
# parameter generators: int [low, high] | choice [...] | csv + column | uuid | sequence | text
GENERATORS: dict = {}
# per query: iterations per level (all workers) or per worker, or a duration in seconds
QUERIES: dict = {}


def configure(spec, database, generators, queries):
    """The spec's data, also in worker processes started by spawn (where no global is inherited)."""
    global SPEC, DATABASE, GENERATORS, QUERIES
    SPEC, DATABASE, GENERATORS, QUERIES = spec, database, generators, queries


class BadInput(Exception):
    """Something the user must fix: printed as one message, exit status 2."""


def resolve(parts, counter=None):
    """Join template parts: text, environment read at run time, {uuid} and {seq}."""
    out = []
    for part in parts:
        if part[0] == "text":
            out.append(part[1])
        elif part[0] == "env":
            value = os.environ.get(part[1]) or (part[2] if len(part) > 2 else None)
            if value is None:
                raise BadInput(f"environment variable {part[1]} is not set")
            out.append(value)
        elif part[1] == "uuid":
            out.append(str(uuid.uuid4()))
        else:
            out.append(str(next(counter)))
    return "".join(out)


def mask(dsn):
    """A DSN fit for messages and result files: the password never leaves the process."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", re.sub(r"(?i)(password=)\S+", r"\1***", dsn))


class Histogram:
    """Latencies in nanoseconds, kept to 3 significant digits: mergeable, each within 0.5 %."""

    def __init__(self):
        self.counts = {}

    def add(self, ns):
        if ns >= 1000:
            scale = 10 ** (len(str(ns)) - 3)
            ns = (ns + scale // 2) // scale * scale
        self.counts[ns] = self.counts.get(ns, 0) + 1

    def extend(self, samples):
        for ns in samples:
            self.add(ns)

    def merge(self, pairs):
        for key, count in pairs:
            self.counts[key] = self.counts.get(key, 0) + count

    def to_list(self):
        return [[k, self.counts[k]] for k in sorted(self.counts)]

    def quantile(self, q):
        total = sum(self.counts.values())
        rank, seen = max(1, -int(-q * total // 1)), 0
        for key in sorted(self.counts):
            seen += self.counts[key]
            if seen >= rank:
                return key
        return None


class Generators:
    """Parameter values for one process; sequences stay unique across processes."""

    _csv_cache = {}

    def __init__(self, process, processes):
        self.rng = random.Random()
        self.sequences = {}
        self.process, self.processes = process, processes

    def counter(self, name, start):
        if name not in self.sequences:
            self.sequences[name] = iter(range(start + self.process, 2**62, self.processes))
        return self.sequences[name]

    def value(self, name):
        gen = GENERATORS[name]
        if "int" in gen:
            return self.rng.randint(gen["int"][0], gen["int"][1])
        if "choice" in gen:
            return self.rng.choice(gen["choice"])
        if "csv" in gen:
            return self.rng.choice(self.column(gen["csv"], gen["column"]))
        if "uuid" in gen:
            return str(uuid.uuid4())
        if "sequence" in gen:
            return next(self.counter(name, gen["sequence"]))
        return resolve(gen["text"], self.counter(name, 1))

    @classmethod
    def column(cls, path, column):
        key = (path, column)
        if key not in cls._csv_cache:
            try:
                with open(path, newline="", encoding="utf-8") as handle:
                    values = [row[column] for row in csv.DictReader(handle)]
            except OSError as exc:
                raise BadInput(f"CSV file {path}: {exc.strerror}") from None
            except KeyError:
                raise BadInput(f"CSV file {path} has no column {column!r}") from None
            if not values:
                raise BadInput(f"CSV file {path} has no rows")
            cls._csv_cache[key] = values
        return cls._csv_cache[key]

    def args(self, query):
        return [self.value(name) for name in QUERIES[query]["params"]]

    def maker(self, query):
        """A fast argument maker for the timed loop: plain int ranges skip the dispatch."""
        names = QUERIES[query]["params"]
        if not names:
            return tuple
        if all("int" in GENERATORS[n] for n in names):
            ranges = [
                (GENERATORS[n]["int"][0], GENERATORS[n]["int"][1] - GENERATORS[n]["int"][0] + 1)
                for n in names
            ]
            draw = self.rng.random
            return lambda: [low + int(draw() * span) for low, span in ranges]
        return lambda: self.args(query)


def describe_error(exc):
    """One line per kind of failure: the server's message, or the client-side failure."""
    if isinstance(exc, asyncpg.PostgresError):
        return f"{exc.sqlstate or 'error'}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


def pool_settings(processes):
    """The spec's pool split over the processes; the total number of connections is kept."""
    pool = dict(DATABASE["pool"])
    per = lambda n: max(1, -(-n // processes))  # noqa: E731
    pool["max_size"] = per(pool.get("max_size", 10))
    pool["min_size"] = min(per(pool.get("min_size", 10)), pool["max_size"])
    acquire = pool.pop("timeout", None)
    if "server_settings" in pool:
        pool["server_settings"] = dict(pool["server_settings"])
    return pool, acquire


async def connect(dsn):
    try:
        return await asyncpg.connect(dsn, timeout=DATABASE["pool"].get("timeout", 10))
    except Exception as exc:  # every way a connection can fail becomes one clear message
        raise BadInput(
            f"cannot connect to database {DATABASE['name']!r} ({DATABASE['source']}) "
            f"at {mask(dsn)}: {describe_error(exc)}"
        ) from None


async def run_files(dsn, files, what):
    conn = await connect(dsn)
    try:
        for path in files:
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as exc:
                raise BadInput(
                    f"{what} file {path} ({DATABASE['source']}): {exc.strerror}; paths "
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
        problems.append(f"expected no sequential scan; the plan is: {shown}")
    for table in expect.get("no_seq_scan_on", []):
        if any(n.get("Relation Name") == table for n in seq):
            problems.append(f"expected no sequential scan on {table}; the plan is: {shown}")
    return problems


async def explain(dsn, names):
    """The server's version, then per query: its plan and the check, or the error that stops it."""
    conn = await connect(dsn)
    found = {}
    try:
        version = await conn.fetchval("SHOW server_version")
        gens = Generators(0, 1)
        for name in names:
            q = QUERIES[name]
            entry = found[name] = {}
            try:
                raw = await conn.fetchval("EXPLAIN (FORMAT JSON) " + q["sql"], *gens.args(name))
            except (
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                asyncpg.DataError,
                TypeError,
                ValueError,
                OverflowError,
            ) as exc:
                entry["error"] = describe_error(exc)
                continue
            document = json.loads(raw) if isinstance(raw, str) else raw
            entry["nodes"] = plan_nodes(document[0]["Plan"], [])
            entry["plan"] = document[0]["Plan"]
            if q["expect_plan"]:
                entry["expect"] = q["expect_plan"]
                entry["problems"] = plan_problems(q["expect_plan"], entry["nodes"])
    finally:
        await conn.close()
    return version, found


async def measure_level(dsn, name, workers, process, processes, start_barrier):
    """This process's share of one concurrency level; returns counts, histogram, timing.

    A worker holds one pooled connection when the pool has one for every worker; otherwise each
    call waits for a connection, and that wait is part of its latency (as in the application).
    Raw latencies go into an array and are bucketed between calls, off the timed path.
    """
    q = QUERIES[name]
    mine = list(range(process, workers, processes))
    settings, acquire_timeout = pool_settings(processes)
    if not q["prepared"]:
        settings["statement_cache_size"] = 0  # parse and plan on every call
    pool = await asyncpg.create_pool(dsn, **settings)
    gens = Generators(process, processes)
    hist, errors = Histogram(), {}
    failures = [0]
    hold = len(mine) <= settings["max_size"]
    if q["iterations"] is not None:
        share = [q["iterations"] // workers + (w < q["iterations"] % workers) for w in mine]
    else:
        share = [q["per_worker"] or 0 for _ in mine]
    warm = [q["warmup"] // workers + (w < q["warmup"] % workers) for w in mine]
    clock, sql = time.perf_counter_ns, q["sql"]
    go, deadline_box, ready = asyncio.Event(), [None], []
    make_args = gens.maker(name)

    async def pooled(*args):
        async with pool.acquire(timeout=acquire_timeout) as conn:
            return await conn.fetch(sql, *args)

    def failed(exc):
        failures[0] += 1
        key = describe_error(exc)
        errors[key] = errors.get(key, 0) + 1

    async def worker(i, conn):
        if conn is None:
            call = pooled
        elif q["prepared"]:
            call = (await conn.prepare(sql)).fetch
        else:
            call = functools.partial(conn.fetch, sql)
        for _ in range(warm[i]):
            try:
                await call(*make_args())
            except Exception:  # noqa: BLE001 - failures show in the measured calls
                pass
        ready.append(i)
        await go.wait()
        samples = array.array("q")
        record = samples.append
        n, limit, deadline, monotonic = 0, share[i], deadline_box[0], time.monotonic
        while (n < limit) if deadline is None else (monotonic() < deadline):
            n += 1
            args = make_args()
            started = clock()
            try:
                await call(*args)
            except Exception as exc:  # noqa: BLE001 - a failing query is counted, never fatal
                record(clock() - started)
                failed(exc)
            else:
                record(clock() - started)
            if len(samples) >= 1 << 20:  # 8 MB per worker; bucketing pauses this process briefly
                hist.extend(samples)
                del samples[:]
        hist.extend(samples)
        return n

    held = [await pool.acquire(timeout=acquire_timeout) for _ in mine] if hold else [None] * len(mine)
    try:
        tasks = [asyncio.ensure_future(worker(i, held[i])) for i in range(len(mine))]
        while len(ready) < len(mine) and not any(t.done() for t in tasks):
            await asyncio.sleep(0.001)
        for t in tasks:
            if t.done() and t.exception() is not None:
                raise t.exception()
        if start_barrier is not None:
            start_barrier.wait(timeout=120)  # every process starts measuring at once
        # no cyclic GC pauses inside the timed loop: what it allocates is freed by reference
        # counting; the collector runs again between levels
        gc.collect()
        gc.disable()
        began = time.monotonic()
        if q["duration"] is not None:
            deadline_box[0] = began + q["duration"]
        go.set()
        try:
            calls = sum(await asyncio.gather(*tasks))
        finally:
            ended = time.monotonic()
            gc.enable()
    finally:
        for conn in held:
            if conn is not None:
                await pool.release(conn)
        await pool.close()
    return {
        "count": calls,
        "failures": failures[0],
        "errors": errors,
        "histogram": hist.to_list(),
        "began": began,
        "ended": ended,
        "workers": len(mine),
    }


def use_uvloop(enabled):
    if not enabled:
        return False
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


def child(config, dsn, name, workers, process, processes, barrier, pipe, uvloop_on):
    configure(*config)
    use_uvloop(uvloop_on)
    try:
        pipe.send(asyncio.run(measure_level(dsn, name, workers, process, processes, barrier)))
    except Exception as exc:  # noqa: BLE001 - reported by the parent, named by query
        barrier.abort()
        pipe.send({"fatal": describe_error(exc)})
    finally:
        pipe.close()


def run_level(dsn, name, workers, processes, uvloop_on):
    """One concurrency level over `processes` processes; their results merged."""
    if processes == 1:
        try:
            parts = [asyncio.run(measure_level(dsn, name, workers, 0, 1, None))]
        except Exception as exc:  # noqa: BLE001 - e.g. the pool cannot connect
            parts = [{"fatal": describe_error(exc)}]
    else:
        config = (SPEC, DATABASE, GENERATORS, QUERIES)
        ctx = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        )
        barrier = ctx.Barrier(processes)
        pipes, procs = [], []
        for p in range(processes):
            here, there = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=child, args=(config, dsn, name, workers, p, processes, barrier, there, uvloop_on)
            )
            proc.start()
            there.close()
            pipes.append(here)
            procs.append(proc)
        parts = []
        for pipe, proc in zip(pipes, procs, strict=True):
            try:
                parts.append(pipe.recv())
            except EOFError:
                parts.append({"fatal": f"worker process exited with status {proc.exitcode}"})
            proc.join()
    fatal = [p["fatal"] for p in parts if "fatal" in p]
    if fatal:
        return {
            "count": 0,
            "failures": 0,
            "errors": {fatal[0]: 1},
            "histogram": [],
            "elapsed": 0.0,
            "throughput": 0.0,
            "processes": processes,
            "fatal": fatal[0],
        }
    hist, errors = Histogram(), {}
    for part in parts:
        hist.merge(part["histogram"])
        for key, n in part["errors"].items():
            errors[key] = errors.get(key, 0) + n
    elapsed = max(p["ended"] for p in parts) - min(p["began"] for p in parts)
    count = sum(p["count"] for p in parts)
    return {
        "count": count,
        "failures": sum(p["failures"] for p in parts),
        "errors": errors,
        "histogram": hist.to_list(),
        "elapsed": round(elapsed, 6),
        "throughput": round(count / elapsed, 3) if elapsed > 0 else 0.0,
        "processes": processes,
    }


def ms(ns):
    return "-" if ns is None else f"{ns / 1e6:.3f}"


def main(spec, database, generators, queries, argv=None):
    """The command line of a generated sql_bench.py."""
    configure(spec, database, generators, queries)
    parser = argparse.ArgumentParser(description=f"SQL benchmark of {SPEC}")
    parser.add_argument("--dsn", help="PostgreSQL DSN (default: the spec's, read from the environment)")
    parser.add_argument("--out", help="folder of the result file (default: $PERFSPEC_RESULTS_DIR or .)")
    parser.add_argument("--only", help="comma-separated query names")
    parser.add_argument("--setup", action="store_true", help="run the spec's setup SQL first")
    parser.add_argument("--teardown", action="store_true", help="run the spec's teardown SQL last")
    parser.add_argument("--processes", type=int, default=0, help="processes (default: one per core)")
    parser.add_argument("--no-uvloop", action="store_true", help="use asyncio's default event loop")
    args = parser.parse_args(argv)
    try:
        return bench(args)
    except BadInput as exc:
        print(f"{SPEC}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{SPEC}: interrupted; no result file written", file=sys.stderr)
        return 130


def bench(args):
    try:
        dsn = args.dsn or resolve(DATABASE["dsn"])
    except BadInput as exc:
        raise BadInput(
            f"{exc}: it holds the DSN of database {DATABASE['name']!r} "
            f"({DATABASE['source']}); set it, or pass --dsn"
        ) from None
    if not dsn:
        raise BadInput(f"no DSN for database {DATABASE['name']!r} ({DATABASE['source']}): pass --dsn")
    names = list(QUERIES)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in QUERIES]
        if unknown:
            raise BadInput(f"unknown queries {unknown}; the spec has {sorted(QUERIES)}")
    for name in names:
        for gen in QUERIES[name]["params"]:
            if "csv" in GENERATORS[gen]:
                Generators.column(GENERATORS[gen]["csv"], GENERATORS[gen]["column"])
    uvloop_on = use_uvloop(not args.no_uvloop)
    cores = args.processes or os.cpu_count() or 1
    if args.setup and DATABASE["setup"]:
        asyncio.run(run_files(dsn, DATABASE["setup"], "setup"))
    started = time.time()
    version, plans = asyncio.run(explain(dsn, names))
    results, bad = {}, False
    for name in names:
        q = QUERIES[name]
        entry = results[name] = {
            "sql": q["sql"],
            "class": q["class"],
            "source": q["source"],
            "expect_plan": q["expect_plan"],
            "levels": {},
            **plans[name],
        }
        if "error" in plans[name]:
            bad = True
            print(
                f"{q['source']}: query {name!r} failed before measuring: {plans[name]['error']}",
                file=sys.stderr,
            )
            continue
        for problem in plans[name].get("problems", []):
            bad = True
            print(f"{q['source']}: query {name!r}: {problem}", file=sys.stderr)
        for workers in q["levels"]:
            level = run_level(dsn, name, workers, max(1, min(cores, workers)), uvloop_on)
            entry["levels"][str(workers)] = level
            hist = Histogram()
            hist.merge(level["histogram"])
            print(
                f"{name:<28} {workers:>4} workers {level['count']:>8} calls {level['failures']:>6} errors "
                f"{level['throughput']:>10.1f}/s  p50 {ms(hist.quantile(0.5))} ms  "
                f"p99 {ms(hist.quantile(0.99))} ms",
                flush=True,
            )
            if level["failures"] or "fatal" in level:
                bad = True
                first = level.get("fatal") or next(iter(level["errors"]))
                print(f"{q['source']}: query {name!r} at {workers} workers: {first}", file=sys.stderr)
    if args.teardown and DATABASE["teardown"]:
        asyncio.run(run_files(dsn, DATABASE["teardown"], "teardown"))
    folder = args.out or os.environ.get("PERFSPEC_RESULTS_DIR", ".")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"sql-{socket.gethostname()}-{os.getpid()}.json")
    document = {
        "format": "perfspec-results/1",
        "tool": "sql",
        "spec": SPEC,
        "unit": "ns",
        "database": DATABASE["name"],
        "dsn": mask(dsn),
        "server_version": version,
        "client": {"asyncpg": asyncpg.__version__, "uvloop": uvloop_on, "cores": cores},
        "started": started,
        "ended": time.time(),
        "queries": results,
    }
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(document, handle)
    os.replace(path + ".tmp", path)
    print(f"results: {path}")
    return 1 if bad else 0

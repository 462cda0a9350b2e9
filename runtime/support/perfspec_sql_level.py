"""Support module of perfspec's generated SQL benchmarks: one concurrency level of one query.

N workers on an asyncpg pool with the spec's settings, split over one process per core; the
parameter generators; every call's exact latency into a histogram of 3 significant digits in
nanoseconds (each value within 0.5 %). Written once per output folder beside perfspec_sql.py,
which configures it with the spec's data and runs its levels.
"""

from __future__ import annotations

import array
import asyncio
import csv
import functools
import gc
import multiprocessing
import os
import random
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


class Level:
    """This process's share of one concurrency level.

    A worker holds one pooled connection when the pool has one for every worker; otherwise each
    call waits for a connection, and that wait is part of its latency (as in the application).
    Raw latencies go into an array and are bucketed between calls, off the timed path.
    """

    def __init__(self, name, workers, process, processes):
        q = self.q = QUERIES[name]
        self.mine = list(range(process, workers, processes))
        self.settings, self.acquire_timeout = pool_settings(processes)
        if not q["prepared"]:
            self.settings["statement_cache_size"] = 0  # parse and plan on every call
        self.hist, self.errors, self.failures = Histogram(), {}, 0
        if q["iterations"] is not None:
            self.share = [q["iterations"] // workers + (w < q["iterations"] % workers) for w in self.mine]
        else:
            self.share = [q["per_worker"] or 0 for _ in self.mine]
        self.warm = [q["warmup"] // workers + (w < q["warmup"] % workers) for w in self.mine]
        self.go, self.deadline, self.ready = asyncio.Event(), None, []
        self.make_args = Generators(process, processes).maker(name)
        self.pool = None

    async def pooled(self, *args):
        async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
            return await conn.fetch(self.q["sql"], *args)

    def failed(self, exc):
        self.failures += 1
        key = describe_error(exc)
        self.errors[key] = self.errors.get(key, 0) + 1

    async def caller(self, conn):
        if conn is None:
            return self.pooled
        if self.q["prepared"]:
            return (await conn.prepare(self.q["sql"])).fetch
        return functools.partial(conn.fetch, self.q["sql"])

    async def worker(self, i, conn):
        call, make_args, clock = await self.caller(conn), self.make_args, time.perf_counter_ns
        for _ in range(self.warm[i]):
            try:
                await call(*make_args())
            except Exception:  # noqa: BLE001 - failures show in the measured calls
                pass
        self.ready.append(i)
        await self.go.wait()
        samples = array.array("q")
        record, failed, hist = samples.append, self.failed, self.hist
        n, limit, deadline, monotonic = 0, self.share[i], self.deadline, time.monotonic
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

    async def timed(self, tasks, start_barrier):
        """Once every worker is warm: all start at once (across processes too), no cyclic GC
        pauses inside the timed loop (reference counting frees what it allocates)."""
        while len(self.ready) < len(self.mine) and not any(t.done() for t in tasks):
            await asyncio.sleep(0.001)
        for t in tasks:
            if t.done() and t.exception() is not None:
                raise t.exception()
        if start_barrier is not None:
            start_barrier.wait(timeout=120)
        gc.collect()
        gc.disable()
        began = time.monotonic()
        if self.q["duration"] is not None:
            self.deadline = began + self.q["duration"]
        self.go.set()
        try:
            calls = sum(await asyncio.gather(*tasks))
        finally:
            ended = time.monotonic()
            gc.enable()
        return calls, began, ended

    async def run(self, dsn, start_barrier):
        self.pool = pool = await asyncpg.create_pool(dsn, **self.settings)
        hold = len(self.mine) <= self.settings["max_size"]
        timeout = self.acquire_timeout
        held = [await pool.acquire(timeout=timeout) for _ in self.mine] if hold else [None] * len(self.mine)
        try:
            tasks = [asyncio.ensure_future(self.worker(i, held[i])) for i in range(len(self.mine))]
            calls, began, ended = await self.timed(tasks, start_barrier)
        finally:
            for conn in held:
                if conn is not None:
                    await pool.release(conn)
            await pool.close()
        return {
            "count": calls,
            "failures": self.failures,
            "errors": self.errors,
            "histogram": self.hist.to_list(),
            "began": began,
            "ended": ended,
            "workers": len(self.mine),
        }


async def measure_level(dsn, name, workers, process, processes, start_barrier):
    """This process's share of one concurrency level; returns counts, histogram, timing."""
    return await Level(name, workers, process, processes).run(dsn, start_barrier)


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

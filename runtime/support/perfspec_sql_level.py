"""Support module of perfspec's generated SQL benchmarks: one concurrency level of one query.

N workers on an asyncpg pool with the spec's settings, split over one process per core; the
parameter generators; every call's exact latency into a histogram of 3 significant digits in
nanoseconds (each value within 0.5 %). Written once per output folder beside perfspec_sql.py,
which configures it with the spec's data and runs its levels.
"""

from __future__ import annotations

import array
import asyncio
import functools
import gc
import multiprocessing
import time

try:
    import asyncpg
except ImportError:
    raise SystemExit("this benchmark needs asyncpg: pip install asyncpg") from None

if __package__:  # perfspec.runtime.support in perfspec's own tests
    from . import perfspec_sql_calls as calls
    from .perfspec_histogram import Histogram
    from .perfspec_sql_values import Generators
else:  # beside the generated sql_bench.py
    import perfspec_sql_calls as calls
    from perfspec_histogram import Histogram
    from perfspec_sql_values import Generators

# set by configure() from the generated sql_bench.py
SPEC = ""
DATABASE: dict = {}
# parameter generators: int [low, high] (+ dist, param) | expr | choice | csv + column | uuid |
# sequence | text
GENERATORS: dict = {}
# per query: iterations per level (all workers) or per worker, or a duration in seconds
QUERIES: dict = {}


def configure(spec, database, generators, queries):
    """The spec's data, also in worker processes started by spawn (where no global is inherited)."""
    global SPEC, DATABASE, GENERATORS, QUERIES
    SPEC, DATABASE, GENERATORS, QUERIES = spec, database, generators, queries


def generators(process, processes):
    """Parameter values for one process of a level (or for EXPLAIN)."""
    return Generators(GENERATORS, QUERIES, DATABASE.get("scale"), process, processes)


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
        self.name, self.workers = name, workers
        self.mine = list(range(process, workers, processes))
        self.settings, self.acquire_timeout = pool_settings(processes)
        if not q["prepared"]:
            self.settings["statement_cache_size"] = 0  # parse and plan on every call
        self.hist, self.errors, self.failures = Histogram(), {}, 0
        self.retried, self.part_samples, self.part_errors = {}, {}, {}
        if q["iterations"] is not None:
            self.share = [q["iterations"] // workers + (w < q["iterations"] % workers) for w in self.mine]
        else:
            self.share = [q["per_worker"] or 0 for _ in self.mine]
        self.warm = [q["warmup"] // workers + (w < q["warmup"] % workers) for w in self.mine]
        self.go, self.deadline, self.ready, self.t0 = asyncio.Event(), None, [], 0
        self.gens = generators(process, processes)
        plain = "mix" not in q and not calls.is_transaction(q)
        self.make_args = self.gens.maker(name) if plain else tuple
        self.pool = None

    def failed(self, exc):
        self.failures += 1
        key = describe_error(exc)
        self.errors[key] = self.errors.get(key, 0) + 1

    def part_failed(self, part, exc):
        errors = self.part_errors.setdefault(part, {})
        key = describe_error(exc)
        errors[key] = errors.get(key, 0) + 1

    async def caller(self, conn):
        """The call the timed loop makes, with the arguments make_args() draws (none but for a
        plain statement, whose arguments are drawn outside its call as before)."""
        q = self.q
        if "mix" in q:
            return await calls.Mix(self, q).build(QUERIES, conn)
        if calls.is_transaction(q):
            return await calls.transaction(self, self.name, q, conn)
        if conn is None:
            return self.pooled
        if q["prepared"]:
            return (await conn.prepare(q["sql"])).fetch
        return functools.partial(conn.fetch, q["sql"])

    async def pooled(self, *args):
        async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
            return await conn.fetch(self.q["sql"], *args)

    async def worker(self, i, conn):
        call, make_args, clock = await self.caller(conn), self.make_args, time.perf_counter_ns
        for _ in range(self.warm[i]):
            try:
                await call(*make_args())
            except Exception:  # noqa: BLE001 - failures show in the measured calls
                pass
        self.ready.append(i)
        await self.go.wait()
        if self.q.get("rate"):
            return await self.paced(i, call, make_args)
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

    async def paced(self, i, call, make_args):
        """Open model: this worker's share of the rate, each call's latency counted from its
        scheduled start, so a stall shows as latency instead of fewer calls."""
        clock, step = time.perf_counter_ns, int(self.workers * 1e9 / self.q["rate"])
        scheduled = self.t0 + self.mine[i] * step // self.workers
        samples = array.array("q")
        record, failed = samples.append, self.failed
        n, limit, deadline, monotonic = 0, self.share[i], self.deadline, time.monotonic
        while (n < limit) if deadline is None else (monotonic() < deadline):
            now = clock()
            if scheduled > now:
                await asyncio.sleep((scheduled - now) / 1e9)
            n += 1
            try:
                await call(*make_args())
            except Exception as exc:  # noqa: BLE001 - a failing query is counted, never fatal
                record(clock() - scheduled)
                failed(exc)
            else:
                record(clock() - scheduled)
            scheduled += step
        self.hist.extend(samples)
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
        for samples in self.part_samples.values():  # warm-up calls are not measured, in parts neither
            del samples[:]
        self.part_errors.clear()
        self.retried.clear()
        self.t0 = time.perf_counter_ns()
        self.go.set()
        try:
            count = sum(await asyncio.gather(*tasks))
        finally:
            ended = time.monotonic()
            gc.enable()
        return count, began, ended

    async def run(self, dsn, start_barrier):
        self.pool = pool = await asyncpg.create_pool(dsn, **self.settings)
        hold = len(self.mine) <= self.settings["max_size"]
        timeout = self.acquire_timeout
        held = [await pool.acquire(timeout=timeout) for _ in self.mine] if hold else [None] * len(self.mine)
        try:
            tasks = [asyncio.ensure_future(self.worker(i, held[i])) for i in range(len(self.mine))]
            count, began, ended = await self.timed(tasks, start_barrier)
        finally:
            for conn in held:
                if conn is not None:
                    await pool.release(conn)
            await pool.close()
        out = {
            "count": count,
            "failures": self.failures,
            "errors": self.errors,
            "histogram": self.hist.to_list(),
            "began": began,
            "ended": ended,
            "workers": len(self.mine),
            "retried": self.retried,
        }
        if "mix" in self.q:
            out["parts"] = {}
            for part in self.q["mix"]:
                hist, samples = Histogram(), self.part_samples.get(part, ())
                hist.extend(samples)
                errors = self.part_errors.get(part, {})
                out["parts"][part] = {
                    "count": len(samples),
                    "failures": sum(errors.values()),
                    "errors": errors,
                    "histogram": hist.to_list(),
                }
        return out


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
    elapsed = max(p["ended"] for p in parts) - min(p["began"] for p in parts)
    out = merged(parts, elapsed)
    out["processes"] = processes
    if "parts" in parts[0]:
        out["parts"] = {
            name: merged([p["parts"][name] for p in parts], elapsed) for name in parts[0]["parts"]
        }
    return out


def merged(parts, elapsed):
    """One result of the processes' shares: counts and errors added, histograms merged."""
    hist, errors, retried = Histogram(), {}, {}
    for part in parts:
        hist.merge_pairs(part["histogram"])
        for key, n in part["errors"].items():
            errors[key] = errors.get(key, 0) + n
        for key, n in part.get("retried", {}).items():
            retried[key] = retried.get(key, 0) + n
    count = sum(p["count"] for p in parts)
    out = {
        "count": count,
        "failures": sum(p["failures"] for p in parts),
        "errors": errors,
        "histogram": hist.to_list(),
        "elapsed": round(elapsed, 6),
        "throughput": round(count / elapsed, 3) if elapsed > 0 else 0.0,
    }
    if retried:
        out["retried"] = retried
    return out

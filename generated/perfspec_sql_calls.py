"""Support module of perfspec's SQL benchmarks: what one call of a workload does on asyncpg.

A statement is one prepared fetch. A transaction runs its steps in order inside one transaction
(its isolation level), each step's returned columns available to the later steps; a
serialization failure or deadlock is retried when the spec allows, each one counted by SQLSTATE.
A mix draws one of its parts by weight per call and times each part on its own besides the whole.
Written once per output folder beside perfspec_sql_level.py, which builds its workers' calls here.
"""

from __future__ import annotations

import array
import bisect
import functools
import random
import time

import asyncpg

RETRYABLE = ("40001", "40P01")  # serialization_failure, deadlock_detected: what pgbench retries


class NoRow(Exception):
    """A step that returns columns found no row (pgbench's \\gset fails the same way)."""


def is_transaction(q):
    return "steps" in q or bool(q.get("isolation")) or bool(q.get("retries"))


def steps_of(q):
    return q.get("steps") or [{"sql": q["sql"], "params": q.get("params", []), "returns": []}]


async def statement(level, q, make_args, conn):
    """A zero-argument call of one statement: prepared once per held connection."""
    sql = q["sql"]
    if conn is None:
        pool, timeout = level.pool, level.acquire_timeout

        async def pooled():
            async with pool.acquire(timeout=timeout) as c:
                return await c.fetch(sql, *make_args())

        return pooled
    fetch = (await conn.prepare(sql)).fetch if level.q["prepared"] else functools.partial(conn.fetch, sql)
    return lambda: fetch(*make_args())


async def transaction(level, qname, q, conn):
    """A zero-argument call running the query's steps in one transaction, retried as the spec says;
    on a held connection each step is prepared once."""
    steps, isolation, retries = steps_of(q), q.get("isolation"), q.get("retries", 0)
    draw, retried = level.gens.drawer(qname), level.retried
    held = None
    if conn is not None and level.q["prepared"]:
        held = [await conn.prepare(step["sql"]) for step in steps]
        # right after prepare(), asyncpg's `BEGIN ISOLATION LEVEL ...` fails with 25001 ("must be
        # called before any query") on PostgreSQL 16; one simple query first avoids it
        await conn.execute("SELECT 1")
    plan = [(i, step["sql"], step["params"], step["returns"]) for i, step in enumerate(steps)]

    async def attempt(c, values):
        async with c.transaction(isolation=isolation):
            for i, sql, params, returns in plan:
                args = [values[p] for p in params]
                if returns:
                    row = await (held[i].fetchrow(*args) if held else c.fetchrow(sql, *args))
                    if row is None:
                        raise NoRow(f"step {i + 1} of {qname!r} returned no row for its columns")
                    values.update(row.items())
                elif held:
                    await held[i].fetch(*args)
                else:
                    await c.execute(sql, *args)

    async def once(values):
        if conn is not None:
            return await attempt(conn, values)
        async with level.pool.acquire(timeout=level.acquire_timeout) as c:
            return await attempt(c, values)

    async def call():
        values = draw()
        for tried in range(retries + 1):
            try:
                return await once(dict(values) if retries else values)
            except asyncpg.PostgresError as exc:
                if tried < retries and exc.sqlstate in RETRYABLE:
                    retried[exc.sqlstate] = retried.get(exc.sqlstate, 0) + 1
                    continue
                raise

    return call


class Mix:
    """One worker's mix: a part drawn by weight per call, its latency and failures kept per part."""

    def __init__(self, level, q):
        self.level, self.parts = level, list(q["mix"])
        weights = [q["mix"][p] for p in self.parts]
        self.cumulative = [sum(weights[: i + 1]) for i in range(len(weights))]
        self.rng = random.Random()

    async def build(self, queries, conn):
        calls = []
        for part in self.parts:
            q = queries[part]
            if is_transaction(q):
                calls.append(await transaction(self.level, part, q, conn))
            else:
                calls.append(await statement(self.level, q, self.level.gens.maker(part), conn))
        samples = [self.level.part_samples.setdefault(p, array.array("q")) for p in self.parts]
        failed, parts, clock = self.level.part_failed, self.parts, time.perf_counter_ns
        pick, draw, total = bisect.bisect_right, self.rng.random, self.cumulative[-1]
        cumulative = self.cumulative

        async def call():
            i = pick(cumulative, draw() * total)
            started = clock()
            try:
                await calls[i]()
            except Exception as exc:
                samples[i].append(clock() - started)
                failed(parts[i], exc)
                raise
            samples[i].append(clock() - started)

        return call

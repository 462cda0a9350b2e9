"""The SQL part of the plan: every query's workload (statement, transaction or mix), its load, its
engine and the generators it draws, as the SQL backend and the pgbench scripts read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from perfspec.runtime.support import perfspec_sql_values as sqlexpr

from . import select, templates
from .errors import SourceRef
from .units import Quantity

if TYPE_CHECKING:
    from .validate import CheckedSpec


@dataclass(frozen=True)
class QueryPlan:
    name: str
    sql: str | None  # one statement; else `steps` (a transaction) or `mix`
    params: list[str]
    klass: str | None
    tags: list[str]
    warmup: int
    iterations: int | None  # per level, across all workers
    per_worker: int | None
    duration: float | None
    levels: list[int]
    prepared: bool
    expect_plan: dict[str, Any] | None
    source: SourceRef
    steps: list[dict[str, Any]] | None = None  # {sql, params, returns} per statement
    isolation: str | None = None
    retries: int = 0
    mix: dict[str, int] | None = None  # part query -> weight
    engine: str = "asyncpg"  # asyncpg | pgbench | both
    rate: float | None = None  # open model: calls per second, all workers
    in_mix: list[str] = field(default_factory=list)  # the mixes that run it
    standalone: bool = True  # False: it runs only inside its mixes
    draws: list[str] = field(default_factory=list)  # generators drawn per call, dependencies first


@dataclass(frozen=True)
class SqlPlan:
    database: str
    dsn: list
    pool: dict[str, Any]
    setup: list[str]  # paths relative to the working folder
    teardown: list[str]
    generators: dict[str, dict[str, Any]]
    queries: dict[str, QueryPlan]
    source: SourceRef
    database_source: SourceRef
    scale: int | None = None


def sql_plan(checked: CheckedSpec, file: str, ref) -> SqlPlan | None:
    spec = checked.spec
    if spec.sql is None:
        return None
    sql, db = spec.sql, spec.databases[spec.sql.database]
    folder = PurePosixPath(file).parent
    rel = lambda p: str(folder / p) if str(folder) != "." else p  # noqa: E731
    pool = {
        k: (v.value if isinstance(v, Quantity) else v)
        for k in type(db.pool).model_fields
        if (v := getattr(db.pool, k)) is not None
    }
    generators: dict[str, dict[str, Any]] = {}
    for name, g in sorted(sql.params.items()):
        if g.int_ is not None:
            generators[name] = {"int": list(g.int_)}
            if g.dist != "uniform":
                generators[name].update(dist=g.dist, param=g.param)
        elif g.expr is not None:
            generators[name] = {"expr": g.expr}
        elif g.choice is not None:
            generators[name] = {"choice": list(g.choice)}
        elif g.csv is not None:
            generators[name] = {"csv": rel(g.csv), "column": g.column}
        elif g.uuid:
            generators[name] = {"uuid": True}
        elif g.sequence is not None:
            generators[name] = {"sequence": g.sequence}
        else:
            generators[name] = {"text": [list(p) for p in templates.parse(g.text or "")]}
    d = sql.defaults
    queries = {}
    for name, q in sorted(sql.queries.items()):
        per_worker = q.iterations_per_worker
        duration = q.duration or (d.duration if q.iterations is None and per_worker is None else None)
        iterations = None if per_worker or duration else (q.iterations or d.iterations or 1000)
        steps = (
            [{"sql": st.sql, "params": list(st.params), "returns": list(st.returns)} for st in q.steps]
            if q.steps is not None
            else None
        )
        queries[name] = QueryPlan(
            steps=steps,
            isolation=q.isolation,
            retries=q.retries,
            mix=dict(q.mix) if q.mix else None,
            engine=q.engine or d.engine,
            rate=q.rate.value if q.rate is not None else None,
            in_mix=sorted(m for m, other in sql.queries.items() if other.mix and name in other.mix),
            standalone=q.standalone,
            draws=_draws(sql, [*q.params, *(p for st in q.steps or [] for p in st.params)]),
            name=name,
            sql=q.sql,
            params=list(q.params),
            klass=q.class_,
            tags=list(q.tags),
            warmup=q.warmup if q.warmup is not None else d.warmup,
            iterations=iterations,
            per_worker=per_worker,
            duration=duration.value if duration else None,
            levels=select.query_levels(spec, name),
            prepared=q.prepared if q.prepared is not None else d.prepared,
            expect_plan=q.expect_plan.model_dump(exclude_defaults=True) if q.expect_plan else None,
            source=ref(("sql", "queries", name)),
        )
    return SqlPlan(
        database=sql.database,
        dsn=[list(p) for p in templates.parse(db.dsn)],
        pool=pool,
        setup=[rel(p) for p in db.setup],
        teardown=[rel(p) for p in db.teardown],
        generators=generators,
        queries=queries,
        source=ref(("sql",)),
        database_source=ref(("databases", sql.database)),
        scale=sql.scale,
    )


def _draws(sql, used: list[str]) -> list[str]:
    """The generators a call draws: those its statements name and those their expressions read,
    each after the ones it reads (names that are not generators are returned columns)."""
    out: list[str] = []

    def visit(name: str) -> None:
        if name in out or name not in sql.params:
            return
        gen = sql.params[name]
        if gen.expr is not None:
            for dep in sorted(sqlexpr.names(sqlexpr.parse(gen.expr)) & set(sql.params)):
                visit(dep)
        out.append(name)

    for name in used:
        visit(name)
    return out

"""SQL backend: a standalone asyncpg benchmark per spec (sql_bench.py: the spec's data) and its
support module perfspec_sql.py (the benchmark), once per output folder."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ...plan import Plan
from ..base import Artifact, environment, header
from ..code import PY, allow_long, literal, py_str, statement
from ..http import provenance, support_source
from .pgbench import script, script_path

_ENV = environment(Path(__file__).parent)
SUPPORT = PurePosixPath("perfspec_sql.py")
LEVEL = PurePosixPath("perfspec_sql_level.py")  # one concurrency level; perfspec_sql.py imports it
VALUES = PurePosixPath("perfspec_sql_values.py")  # generators and expressions; imported by both
CALLS = PurePosixPath("perfspec_sql_calls.py")  # what one call of a workload does on asyncpg
PGBENCH = PurePosixPath("perfspec_sql_pgbench.py")  # the pgbench engine; perfspec_sql.py imports it
HISTOGRAM = PurePosixPath("perfspec_histogram.py")  # the 3-digit histogram, shared with Locust's
MODULES = (SUPPORT, LEVEL, VALUES, CALLS, PGBENCH, HISTOGRAM)


class SqlBackend:
    name = "sql"

    def emit(self, plan: Plan) -> list[Artifact]:
        sql = plan.sql
        if sql is None:
            return []
        # provenance names the element's place in the spec, never a line: edits elsewhere keep
        # this file unchanged
        database = {
            "name": sql.database,
            "dsn": sql.dsn,
            "pool": sql.pool,
            "setup": sql.setup,
            "teardown": sql.teardown,
            "source": f"{plan.file}: databases.{sql.database}",
            "scale": sql.scale,
        }
        blocks, scripts = [], []
        for name, q in sql.queries.items():
            query = {
                **_workload(q),
                "class": q.klass,
                "warmup": q.warmup,
                "iterations": q.iterations,
                "per_worker": q.per_worker,
                "duration": q.duration,
                "levels": q.levels,
                "prepared": q.prepared,
                "expect_plan": q.expect_plan,
                "source": f"{plan.file}: sql.queries.{name}",
                **_extras(q),
            }
            if q.engine != "asyncpg":
                parts = list(q.mix) if q.mix else [name]
                query["pgbench"] = [[script_path(p), q.mix[p] if q.mix else 1] for p in parts]
                if not q.mix:
                    scripts.append(Artifact(plan.folder / script_path(name), script(plan, sql, q), q.source))
            blocks.append(
                f"    # {provenance('sql.queries', name)}\n"
                + allow_long(statement(f"{py_str(name)}: ", literal(query, PY), ",", 4))
            )
        text = _ENV.get_template("sql_bench.py.j2").render(
            header=header(plan, "#"),
            plan=plan,
            py_str=py_str,
            database=allow_long(statement("DATABASE = ", literal(database, PY))),
            generators=allow_long(statement("GENERATORS = ", literal(sql.generators, PY))),
            queries=blocks,
        )
        # a mix's parts run on pgbench from their own scripts, whatever their own engine
        for name, q in sql.queries.items():
            if q.engine == "asyncpg" and any(sql.queries[m].engine != "asyncpg" for m in q.in_mix):
                scripts.append(Artifact(plan.folder / script_path(name), script(plan, sql, q), q.source))
        return [
            Artifact(plan.folder / "sql_bench.py", text, sql.source),
            *scripts,
            *(Artifact(m, support_source(str(m)), sql.source, shared=True) for m in MODULES),
        ]


def _workload(q) -> dict:
    """What the query runs: one statement, a transaction's steps, or a mix of other queries."""
    if q.steps is not None:
        return {"steps": q.steps}
    if q.mix is not None:
        return {"mix": q.mix}
    return {"sql": q.sql, "params": q.params}


def _extras(q) -> dict:
    """Settings beyond a plain statement's, only where the spec sets them (quiet diffs)."""
    out = {}
    if q.draws != q.params:
        out["draws"] = q.draws
    for key, default in (("isolation", None), ("retries", 0), ("engine", "asyncpg"), ("rate", None)):
        if getattr(q, key) != default:
            out[key] = getattr(q, key)
    if not q.standalone:
        out["standalone"] = False
    return out

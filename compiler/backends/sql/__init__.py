"""SQL backend: a standalone asyncpg benchmark per spec (sql_bench.py: the spec's data) and its
support module perfspec_sql.py (the benchmark), once per output folder."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ...plan import Plan
from ..base import Artifact, environment, header
from ..code import PY, allow_long, literal, py_str, statement
from ..http import provenance, support_source

_ENV = environment(Path(__file__).parent)
SUPPORT = PurePosixPath("perfspec_sql.py")
LEVEL = PurePosixPath("perfspec_sql_level.py")  # one concurrency level; perfspec_sql.py imports it


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
        }
        blocks = []
        for name, q in sql.queries.items():
            query = {
                "sql": q.sql,
                "params": q.params,
                "class": q.klass,
                "warmup": q.warmup,
                "iterations": q.iterations,
                "per_worker": q.per_worker,
                "duration": q.duration,
                "levels": q.levels,
                "prepared": q.prepared,
                "expect_plan": q.expect_plan,
                "source": f"{plan.file}: sql.queries.{name}",
            }
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
        return [
            Artifact(plan.folder / "sql_bench.py", text, sql.source),
            Artifact(SUPPORT, support_source("perfspec_sql.py"), sql.source, shared=True),
            Artifact(LEVEL, support_source("perfspec_sql_level.py"), sql.source, shared=True),
        ]

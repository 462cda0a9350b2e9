"""SQL backend: one standalone asyncpg benchmark per spec (sql_bench.py)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ...plan import Plan
from .. import Artifact, environment, header

_ENV = environment(Path(__file__).parent)


class SqlBackend:
    name = "sql"

    def emit(self, plan: Plan) -> list[Artifact]:
        sql = plan.sql
        if sql is None:
            return []
        database = {"name": sql.database, "dsn": sql.dsn, "pool": sql.pool, "setup": sql.setup,
                    "teardown": sql.teardown, "source": str(sql.database_source)}
        queries = {name: {
            "sql": q.sql, "params": q.params, "class": q.klass, "warmup": q.warmup,
            "iterations": q.iterations, "per_worker": q.per_worker, "duration": q.duration,
            "levels": q.levels, "prepared": q.prepared, "expect_plan": q.expect_plan,
            "source": str(q.source)} for name, q in sql.queries.items()}
        text = _ENV.get_template("sql_bench.py.j2").render(
            header=header(plan, "#"), plan=plan, database=database,
            generators=sql.generators, queries=queries)
        return [Artifact(plan.folder / PurePosixPath("sql_bench.py"), text, sql.source)]

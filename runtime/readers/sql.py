"""The SQL benchmark's JSON result: one series per query and concurrency level."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..histogram import Histogram
from ..results import ResultError, Series
from .values import UNITS, count, seconds


def read_sql(path: Path, data: dict[str, Any]) -> list[Series]:
    where = str(path)
    scale = UNITS.get(data.get("unit", ""))
    queries = data.get("queries")
    if scale is None or not isinstance(queries, dict):
        raise ResultError(where, "a SQL result needs `unit` (ns/us/ms) and a `queries` object")
    shard = path.stem
    tool = "pgbench" if data.get("tool") == "pgbench" else "asyncpg"  # the engine that measured
    out: list[Series] = []
    for name, q in sorted(queries.items()):
        try:
            extra = {
                k: q[k]
                for k in ("sql", "steps", "mix", "source", "error", "problems", "nodes", "expect_plan")
                if q.get(k) is not None
            }
            extra["server_version"] = data.get("server_version")
            if isinstance(data.get("host"), str) and isinstance(data.get("pid"), int):
                extra["process"] = (data["host"], data["pid"])  # one shard per process
            levels = q["levels"]
            if not levels:  # failed before measuring: a series with no samples and its error
                out.append(
                    Series(
                        tool,
                        "query",
                        name,
                        where,
                        shard,
                        extra=extra,
                        errors={q["error"]: 1} if q.get("error") else {},
                    )
                )
                continue
            for workers, level in sorted(levels.items(), key=lambda kv: int(kv[0])):
                out.append(
                    Series(
                        tool,
                        "query",
                        name,
                        where,
                        shard,
                        workers=int(workers),
                        count=count(level["count"], "count"),
                        failures=count(level["failures"], "failures"),
                        errors=dict(level.get("errors", {})),
                        histogram=Histogram.from_pairs(level["histogram"], scale),
                        elapsed=seconds(level["elapsed"], "elapsed"),
                        extra={
                            **extra,
                            "throughput": level.get("throughput"),
                            "retried": level.get("retried"),
                            "processes": level.get("processes"),
                            "fatal": level.get("fatal"),
                        },
                    )
                )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultError(
                where, f"query {name!r}: malformed entry ({type(exc).__name__}: {exc})"
            ) from None
    return out

"""Readers: result files of Locust, k6 and the SQL benchmark -> Series."""

from __future__ import annotations

from pathlib import Path

from ..results import ResultError, Series
from .k6 import is_ndjson, read_k6_ndjson
from .locust import read_locust
from .sql import read_sql
from .values import UNITS, count, load_json, seconds

__all__ = ["UNITS", "count", "load_json", "read_file", "seconds"]


def read_file(path: Path, lossy: bool = False) -> list[Series]:
    """A result file's series; `lossy` (--allow-partial): a k6 line cut off or garbled is skipped
    and counted instead of failing the file."""
    if is_ndjson(path):
        return read_k6_ndjson(path, lossy=lossy)
    data = load_json(path)
    if data.get("format") == "perfspec-results/1":
        tool = data.get("tool")
        if tool in ("sql", "pgbench"):  # the SQL benchmark's engines: asyncpg, pgbench
            return read_sql(path, data)
        if tool in ("locust", "k6"):  # k6: its remote-written histograms (runtime/k6_remote.py)
            return read_locust(path, data)
        raise ResultError(str(path), f"unknown tool {tool!r} in a perfspec result file")
    raise ResultError(str(path), "not a result file perfspec knows (expected perfspec-results/1)")

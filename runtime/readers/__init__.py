"""Readers: result files of Locust, k6 and the SQL benchmark -> Series."""

from __future__ import annotations

import json
from pathlib import Path

from ..results import ResultError, Series

UNITS = {"ns": 1, "us": 1000, "ms": 1_000_000}


def load_json(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ResultError(str(path), f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ResultError(str(path), "not a UTF-8 text file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) or not text.rstrip().endswith(("}", "]"))
        hint = " (the file ends early: was the run interrupted?)" if cut else ""
        raise ResultError(str(path), f"not valid JSON at line {exc.lineno} column {exc.colno}: "
                          f"{exc.msg}{hint}") from None
    if not isinstance(data, dict):
        raise ResultError(str(path), "expected a JSON object")
    return data


def read_file(path: Path) -> list[Series]:
    from .k6 import is_ndjson, read_k6_ndjson

    if is_ndjson(path):
        return read_k6_ndjson(path)
    data = load_json(path)
    if data.get("format") == "perfspec-results/1":
        tool = data.get("tool")
        if tool == "sql":
            from .sql import read_sql

            return read_sql(path, data)
        if tool == "locust":
            from .locust import read_locust

            return read_locust(path, data)
        raise ResultError(str(path), f"unknown tool {tool!r} in a perfspec result file")
    raise ResultError(str(path), "not a result file perfspec knows (expected perfspec-results/1)")

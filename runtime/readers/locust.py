"""Per-second histogram results, one series per endpoint: the generated locustfile's per-process
file, and k6's histograms read back from Prometheus (runtime/k6_remote.py)."""

from __future__ import annotations

from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from ..histogram import Histogram
from ..results import ResultError, Series
from ..timeline import Timeline
from .values import UNITS, count, seconds


def timeline(entries: list, scale: int) -> Timeline:
    """A series' timeline, one entry per second: [t, count, failures, [[value, n], ...]], or flat
    as the k6 stream writes it, [t, count, failures, value, n, value, n, ...] (a list per second
    instead of one per bucket: a 30-minute file reads in a third of the time). The flat form in
    the file's own unit is taken in whole columns, checked in C-speed passes."""
    if not isinstance(entries, list):
        raise ValueError("the timeline is not a list of seconds")
    if scale == 1 and (whole := _flat_columns(entries)) is not None:
        return whole
    if (whole := _nested_columns(entries, scale)) is not None:
        return whole
    return _checked(entries, scale)


def _flat_columns(entries: list) -> Timeline | None:
    """Flat seconds in the file's own unit, every number a whole one in range, read as one
    column and split by position; None for anything else (read second by second, which names
    what is wrong)."""
    try:
        lengths = np.fromiter(map(len, entries), np.int64, len(entries))
        column = np.asarray(list(chain.from_iterable(entries)))
    except (TypeError, ValueError, OverflowError):  # a second that is no list, a nested pair
        return None
    if not len(entries) or column.ndim != 1 or column.dtype.kind not in "iu":
        return None
    if bool(np.any(lengths < 3)) or bool(np.any((lengths - 3) % 2)):
        return None
    if column.min() < 0 or column.max() >= 10**15:
        return None
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    heads = [entry[i] for entry in entries for i in (0, 1, 2)]
    if bool in set(map(type, heads)):  # true/false is no count (the checked reading says so)
        return None
    body = np.ones(len(column), bool)
    for i in (0, 1, 2):
        body[starts + i] = False
    pairs = column[body]
    secs = column[starts]
    at = np.repeat(secs, (lengths - 3) // 2)
    return Timeline.build(secs, column[starts + 1], column[starts + 2], at, pairs[0::2], pairs[1::2])


def _nested_columns(entries: list, scale: int) -> Timeline | None:
    """Seconds as the Locust support module writes them, [t, count, failures, [[value, n], ...]],
    every number a whole one in range (values in the file's unit, scaled): read as columns; None
    for anything else."""
    try:
        if set(map(len, entries)) != {4}:
            return None
        heads = np.asarray([entry[:3] for entry in entries])
        lengths = np.fromiter((len(entry[3]) for entry in entries), np.int64, len(entries))
        pairs = [pair for entry in entries for pair in entry[3]]
        if pairs and set(map(len, pairs)) != {2}:
            return None
        column = np.asarray(list(chain.from_iterable(pairs)))
    except (TypeError, ValueError, OverflowError):
        return None
    if heads.ndim != 2 or heads.dtype.kind not in "iu" or bool(np.any(heads < 0)) or heads.max() >= 10**15:
        return None
    values, counts = column[0::2], column[1::2]
    if column.size and (column.dtype.kind not in "iu" or column.min() < 0):
        return None
    if column.size and (int(values.max()) * scale >= 10**15 or int(counts.max()) >= 10**15):
        return None  # (compared as Python integers: a scaled numpy one could wrap around)
    if bool in set(map(type, chain.from_iterable(entry[:3] for entry in entries))):
        return None
    secs = heads[:, 0]
    at = np.repeat(secs, lengths)
    return Timeline.build(secs, heads[:, 1], heads[:, 2], at, values * scale, counts)


def _checked(entries: list, scale: int) -> Timeline:
    """Second by second, each histogram through Histogram.from_pairs, which converts a fraction
    of the file's unit or names what is wrong (a ValueError)."""
    secs, calls, fails, lengths, values, ns = [], [], [], [], [], []
    for entry in entries:
        t, c, f = count(entry[0], "second"), count(entry[1], "count"), count(entry[2], "failures")
        secs.append(t)
        calls.append(c)
        fails.append(f)
        if len(entry) == 4 and isinstance(entry[3], list):
            h = Histogram.from_pairs(entry[3], scale)
            keys, counts = list(h.counts), list(h.counts.values())
        else:
            keys, counts = entry[3::2], entry[4::2]
            if len(keys) != len(counts):
                raise ValueError(f"second {t}: a latency without its count")
            h = Histogram.from_pairs(list(map(list, zip(keys, counts, strict=True))), scale)
            keys, counts = list(h.counts), list(h.counts.values())
        lengths.append(len(keys))
        values.extend(keys)
        ns.extend(counts)
    value_column, count_column = _whole(values), _whole(ns)
    if value_column is None or count_column is None:  # a value in range in the file's unit, not in ns
        raise ValueError("a latency or its count is not a whole number from 0 to 10^15 ns")
    return Timeline.build(secs, calls, fails, np.repeat(secs, lengths), value_column, count_column)


def _whole(numbers: list) -> np.ndarray | None:
    """The numbers as a column when every one is a whole number from 0 to 10^15 (one pass in
    C), else None."""
    try:
        column = np.asarray(numbers)
    except (ValueError, OverflowError, TypeError):  # ragged, too large, not numbers
        return None
    if column.size == 0:
        return column.astype(np.int64)
    if column.ndim != 1 or column.dtype.kind not in "iu" or column.min() < 0 or column.max() >= 10**15:
        return None
    return column.astype(np.int64, copy=False)


def read_locust(path: Path, data: dict[str, Any]) -> list[Series]:
    where = str(path)
    scale = UNITS.get(data.get("unit", ""))
    series = data.get("series")
    if scale is None or not isinstance(series, dict):
        raise ResultError(where, "a Locust result needs `unit` (ns/us/ms) and a `series` object")
    elapsed = None
    if data.get("started") is not None or data.get("ended") is not None:
        try:
            elapsed = seconds(data.get("ended"), "ended") - seconds(data.get("started"), "started")
        except ValueError as exc:
            raise ResultError(where, str(exc)) from None
        if elapsed < 0:
            raise ResultError(where, "ended before it started: the times are not in order")
    tool = "k6" if data.get("tool") == "k6" else "locust"
    extra: dict[str, Any] = {"started": data.get("started")}
    if isinstance(data.get("host"), str) and isinstance(data.get("pid"), int):
        extra["process"] = (data["host"], data["pid"])  # one shard per process (evidence.py)
    if tool == "k6":
        extra["dropped_iterations"] = count(data.get("dropped_iterations", 0), "dropped iterations")
        if data.get("missing_requests"):
            extra["missing_requests"] = count(data["missing_requests"], "missing requests")
            extra["k6_counted"] = count(data.get("k6_counted", 0), "k6's request count")
        resolution = data.get("resolution")
        if isinstance(resolution, int | float) and 0 < resolution < 1:
            extra["resolution"] = float(resolution)
    out = []
    for name, s in sorted(series.items()):
        if isinstance(s, dict) and "columns" in s and "timeline" in s:
            raise ResultError(where, f"series {name!r} holds both `columns` and `timeline`: one only")
        try:
            out.append(
                Series(
                    tool,
                    "http",
                    name,
                    where,
                    path.stem,
                    profile=data.get("profile"),
                    count=count(s["count"], "count"),
                    failures=count(s["failures"], "failures"),
                    statuses={str(k): count(v, "status count") for k, v in s.get("statuses", {}).items()},
                    errors={str(k): count(v, "error count") for k, v in s.get("errors", {}).items()},
                    histogram=Histogram.from_pairs(s["histogram"], scale),
                    ttfb=Histogram.from_pairs(s.get("ttfb_histogram", []), scale),
                    timeline=(
                        Timeline.from_columns(s["columns"], scale)
                        if "columns" in s
                        else timeline(s.get("timeline", []), scale)
                    ),
                    elapsed=elapsed,
                    extra={
                        **extra,
                        **({"aborted": data["aborted"]} if data.get("aborted") else {}),
                        **(
                            {
                                "stopped_users": {
                                    str(k): count(v, "stopped users")
                                    for k, v in data["stopped_users"].items()
                                }
                            }
                            if data.get("stopped_users")
                            else {}
                        ),
                    },
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultError(
                where, f"series {name!r}: malformed entry ({type(exc).__name__}: {exc})"
            ) from None
    return out

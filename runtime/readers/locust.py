"""Per-second histogram results, one series per endpoint: the generated locustfile's per-process
file, and k6's histograms read back from Prometheus (runtime/k6_remote.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..histogram import Histogram
from ..results import ResultError, Series
from .values import UNITS, count, seconds


def second(entry: list, scale: int) -> tuple[int, int, int, Histogram]:
    """One second of a timeline: [t, count, failures, [[value, n], ...]], or flat as the k6
    stream writes it, [t, count, failures, value, n, value, n, ...] (a list per second instead of
    one per bucket: a 30-minute file reads in a third of the time)."""
    t, c, f = count(entry[0], "second"), count(entry[1], "count"), count(entry[2], "failures")
    if len(entry) == 4 and isinstance(entry[3], list):
        return t, c, f, Histogram.from_pairs(entry[3], scale)
    values, counts = entry[3::2], entry[4::2]
    if len(values) != len(counts):
        raise ValueError(f"second {t}: a latency without its count")
    if scale == 1 and values and _whole(values) and _whole(counts) and len(set(values)) == len(values):
        return t, c, f, Histogram(dict(zip(values, counts, strict=True)))  # checked in C-speed passes
    return t, c, f, Histogram.from_pairs(list(map(list, zip(values, counts, strict=True))), scale)


def _whole(numbers: list) -> bool:
    """Every number a whole one from 0 to 10^15 (bool is not int here)."""
    return set(map(type, numbers)) == {int} and min(numbers) >= 0 and max(numbers) < 10**15


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
                    timeline=[second(entry, scale) for entry in s.get("timeline", [])],
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

"""Per-second histogram results, one series per endpoint: the generated locustfile's per-process
file, and k6's histograms read back from Prometheus (runtime/k6_remote.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..histogram import Histogram
from ..results import ResultError, Series
from .values import UNITS, count, seconds


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
                    timeline=[
                        (
                            count(t, "second"),
                            count(c, "count"),
                            count(f, "failures"),
                            Histogram.from_pairs(h, scale),
                        )
                        for t, c, f, h in s.get("timeline", [])
                    ],
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

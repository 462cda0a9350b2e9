"""k6 results: the streamed NDJSON of `k6 run --out json=FILE` (exact samples, read line by line
with flat memory) and the generated script's summary file (profile, dropped iterations)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from ..histogram import Histogram
from ..results import ResultError, Series

WANTED = ('"perfspec_latency"', '"perfspec_ok"', '"perfspec_ttfb"')


def _seconds(stamp: str) -> float:
    # k6 writes RFC 3339 with nanoseconds and an offset: 2026-11-23T08:01:02.123456789Z
    if "." not in stamp:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    head, _, rest = stamp.partition(".")
    frac = "".join(c for c in rest if c.isdigit())[:6]
    tz = rest[len("".join(c for c in rest if c.isdigit())):] or "Z"
    return datetime.fromisoformat(f"{head}.{frac or '0'}{'+00:00' if tz == 'Z' else tz}").timestamp()


def read_k6_ndjson(path: Path, profile: str | None = None) -> list[Series]:
    where = str(path)
    series: dict[str, Series] = {}
    slots: dict[str, dict[int, list]] = {}
    start: float | None = None
    last_second: dict[str, float] = {}
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise ResultError(where, f"cannot read: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if '"Point"' not in line or not any(w in line for w in WANTED):
                continue
            try:
                point = json.loads(line)
                metric, data = point["metric"], point["data"]
                tags, value = data.get("tags") or {}, float(data["value"])
                name = tags["endpoint"]
                stamp = data["time"]
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                if not line.endswith("\n"):
                    raise ResultError(where, f"line {number} is cut off: the run was interrupted, "
                                      "the file is incomplete") from None
                raise ResultError(where, f"line {number}: not a k6 JSON point "
                                  f"({type(exc).__name__})") from None
            s = series.get(name)
            if s is None:
                s = series[name] = Series("k6", "http", name, where, path.stem, profile=profile)
            if metric == "perfspec_latency":
                ns = int(value * 1e6)
                s.histogram.add(ns)
                s.count += 1
                status = tags.get("status", "0")
                s.statuses[status] = s.statuses.get(status, 0) + 1
                second = stamp[:19]  # the timeline groups by the second
                key = last_second.get(second)
                if key is None:
                    key = last_second[second] = _seconds(stamp)
                    if start is None or key < start:
                        start = key
                slot = slots.setdefault(name, {}).setdefault(int(key), [0, 0, Histogram()])
                slot[0] += 1
                slot[2].add(ns)
            elif metric == "perfspec_ok":
                if value == 0:
                    s.failures += 1
                    err = f"status {tags.get('status', '?')}"
                    s.errors[err] = s.errors.get(err, 0) + 1
                    second = int(last_second.get(stamp[:19]) or _seconds(stamp))
                    slots.setdefault(name, {}).setdefault(second, [0, 0, Histogram()])[1] += 1
            elif metric == "perfspec_ttfb":
                s.ttfb.add(int(value * 1e6))
    if start is not None:
        end = max((max(v) for v in slots.values() if v), default=int(start))
        for name, s in series.items():
            s.timeline = [(t - int(start), c, f, h) for t, (c, f, h) in sorted(slots.get(name, {}).items())]
            s.elapsed = end - int(start) + 1
    return list(series.values())


def read_k6_summary(path: Path, data: dict) -> dict:
    """What the checker needs from the summary: profile, model, dropped iterations."""
    return {"profile": data.get("profile"), "model": data.get("model"),
            "dropped_iterations": int(data.get("dropped_iterations") or 0)}


def is_ndjson(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError):
        return False
    return first.startswith("{") and '"type"' in first and ('"Metric"' in first or '"Point"' in first)

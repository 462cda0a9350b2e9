"""k6 results: the streamed NDJSON of `k6 run --out json=FILE` (exact samples, read line by line
with flat memory) and the generated script's summary file (profile, dropped iterations)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from ..histogram import Histogram, round3
from ..results import ResultError, Series

WANTED = ('"perfspec_latency"', '"perfspec_ok"', '"perfspec_ttfb"')


def stamp_seconds(stamp: str) -> float:
    # k6 writes RFC 3339 with nanoseconds and an offset: 2026-11-23T08:01:02.123456789Z
    if "." not in stamp:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    head, _, rest = stamp.partition(".")
    frac = "".join(c for c in rest if c.isdigit())[:6]
    tz = rest[len("".join(c for c in rest if c.isdigit())):] or "Z"
    return datetime.fromisoformat(f"{head}.{frac or '0'}{'+00:00' if tz == 'Z' else tz}").timestamp()


# k6's own line layout (metric, type, data{time, value, tags}); anything else takes json.loads
FAST = re.compile(r'\{"metric":"(perfspec_latency|perfspec_ok|perfspec_ttfb)","type":"Point",'
                  r'"data":\{"time":"([^"]+)","value":([-+0-9.eE]+),"tags":(\{.*\})\}\}\n?$')


def _tags(raw: str, where: str, number: int) -> tuple[str, str]:
    try:
        tags = json.loads(raw)
        return str(tags["endpoint"]), str(tags.get("status", "0"))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ResultError(where, f"line {number}: a perfspec point without an endpoint tag "
                          f"({type(exc).__name__})") from None


def _slow(line: str, where: str, number: int) -> tuple[str, str, str, str] | None:
    """A line in another layout: parsed as JSON; None when it is not a perfspec point."""
    if '"Point"' not in line or not any(w in line for w in WANTED):
        return None
    try:
        point = json.loads(line)
        data = point["data"]
        return point["metric"], data["time"], repr(float(data["value"])), json.dumps(data.get("tags") or {})
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        if not line.endswith("\n"):
            raise ResultError(where, f"line {number} is cut off: the run was interrupted, "
                              "the file is incomplete") from None
        raise ResultError(where, f"line {number}: not a k6 JSON point "
                          f"({type(exc).__name__})") from None


def read_k6_ndjson(path: Path, profile: str | None = None) -> list[Series]:
    """One series per endpoint tag; one pass, line by line, memory bounded by the number of
    endpoints x seconds x distinct 3-digit latency keys (not by the number of points)."""
    where = str(path)
    series: dict[str, Series] = {}
    # per endpoint: second -> [count, failures, {3-digit ns key: count}]; the whole-run
    # histogram is the sum of its seconds, built once at the end
    slots: dict[str, dict[int, list]] = {}
    seconds: dict[str, int] = {}  # "2026-11-23T08:00:01" -> epoch second
    tag_cache: dict[str, tuple[str, str]] = {}  # raw tags JSON -> (endpoint, status)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise ResultError(where, f"cannot read: {exc.strerror}") from None
    with handle:
        match = FAST.match
        ok_prefix = '{"metric":"perfspec_ok","type":"Point","data":{"time":"'
        for number, line in enumerate(handle, 1):
            if line.startswith(ok_prefix) and '"value":1,"tags":' in line:
                continue  # a success: counted with its latency sample (the common case, in C)
            m = match(line)
            if m is not None:
                metric, stamp, value, raw = m.groups()
            else:
                parsed = _slow(line, where, number)
                if parsed is None:
                    continue
                metric, stamp, value, raw = parsed
            if metric == "perfspec_ok" and (value == "1" or float(value) != 0):
                continue  # a success: counted with its latency sample
            tagged = tag_cache.get(raw)
            if tagged is None:
                tagged = tag_cache[raw] = _tags(raw, where, number)
            name, status = tagged
            s = series.get(name)
            if s is None:
                s = series[name] = Series("k6", "http", name, where, path.stem, profile=profile)
                slots[name] = {}
            second = seconds.get(stamp[:19])
            if second is None:
                second = seconds[stamp[:19]] = int(stamp_seconds(stamp))
            if metric == "perfspec_latency":
                s.count += 1
                s.statuses[status] = s.statuses.get(status, 0) + 1
                slot = slots[name].get(second)
                if slot is None:
                    slot = slots[name][second] = [0, 0, {}]
                slot[0] += 1
                key = round3(int(float(value) * 1e6))
                counts = slot[2]
                counts[key] = counts.get(key, 0) + 1
            elif metric == "perfspec_ok":
                s.failures += 1
                err = f"HTTP {status}" if status not in ("0", "") else "no response (status 0)"
                s.errors[err] = s.errors.get(err, 0) + 1
                slot = slots[name].get(second)
                if slot is None:
                    slot = slots[name][second] = [0, 0, {}]
                slot[1] += 1
            else:
                s.ttfb.add(int(float(value) * 1e6))
    if seconds:
        start = min(seconds.values())
        end = max(seconds.values())
        for name, s in series.items():
            timeline = []
            for t, (c, f, counts) in sorted(slots[name].items()):
                h = Histogram(counts)
                s.histogram.merge(h)
                timeline.append((t - start, c, f, h))
            s.timeline = timeline
            s.elapsed = end - start + 1
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

"""k6 results: the streamed NDJSON of `k6 run --out json=FILE` (exact samples, read line by line
with flat memory) and the generated script's summary file (profile, dropped iterations)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from ..histogram import round3
from ..results import ResultError, Series
from ..timeline import Timeline

# the points perfspec reads: latencies are k6's http_req_duration (WebSocket messages:
# perfspec_ws_latency), time to first byte http_req_waiting of streamed endpoints; failures are
# k6's http_req_failed (an unexpected status, no response: cause in its `error` tag) and the
# script's perfspec_failed (a failed check, or a call never sent: tag `unsent`), each with a
# reason; dropped_iterations counts what an open model could not start
LATENCY = {"http_req_duration", "perfspec_ws_latency"}
WANTED = (
    '"perfspec_failed"',
    '"http_req_failed"',
    '"http_req_duration"',
    '"perfspec_ws_latency"',
    '"http_req_waiting"',
    '"dropped_iterations"',
    '"perfspec_aborted"',
    '"perfspec_stopped_users"',
)


def stamp_seconds(stamp: str) -> float:
    # k6 writes RFC 3339 with nanoseconds and an offset: 2026-11-23T08:01:02.123456789Z
    if "." not in stamp:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    head, _, rest = stamp.partition(".")
    frac = "".join(c for c in rest if c.isdigit())[:6]
    tz = rest[len("".join(c for c in rest if c.isdigit())) :] or "Z"
    return datetime.fromisoformat(f"{head}.{frac or '0'}{'+00:00' if tz == 'Z' else tz}").timestamp()


READ = {w.strip('"') for w in WANTED}  # the metrics' names, for the loop's first look at a line
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,79}$")  # spec names (compiler/spec.py NAME_PATTERN)

# k6's own line layout (metric, type, data{time, value, tags}); anything else takes json.loads
FAST = re.compile(
    r'\{"metric":"(perfspec_failed|http_req_failed|http_req_duration|perfspec_ws_latency|http_req_waiting|'
    r'dropped_iterations|perfspec_aborted|perfspec_stopped_users)","type":"Point",'
    r'"data":\{"time":"([^"]+)","value":([-+0-9.eE]+),"tags":(\{.*\})\}\}\n?$'
)


def _tags(raw: str, where: str, number: int) -> tuple[str | None, str, str, str | None, bool, bool]:
    """(endpoint, status, reason, scenario, ttfb, unsent) of a point's tags."""
    try:
        tags = json.loads(raw)
        # the endpoint: k6's `name` tag when it is a spec name (the generated script sets it; a
        # request it did not make has its URL there), or an `endpoint` tag (older scripts)
        endpoint = tags.get("endpoint")
        if endpoint is None and isinstance(tags.get("name"), str) and NAME.match(tags["name"]):
            endpoint = tags["name"]
        status = str(tags.get("status", "0"))
        reason = str(tags.get("reason") or tags.get("error") or (f"HTTP {status}" if status != "0" else ""))
        return (
            None if endpoint is None else str(endpoint),
            status,
            reason,
            tags.get("profile") or tags.get("scenario"),  # a profile's scenarios carry its name
            tags.get("ttfb") == "yes",
            tags.get("unsent") == "yes",
        )
    except (json.JSONDecodeError, TypeError, AttributeError) as exc:
        raise ResultError(where, f"line {number}: malformed tags ({type(exc).__name__})") from None


def whole(line: str) -> bool:
    """A line k6 wrote to the end: a JSON object and its newline (a cut-off or garbled line is not)."""
    return line.startswith("{") and line.endswith("}\n")


def _slow(line: str, where: str, number: int) -> tuple[str, str, str, str] | None:
    """A line in another layout: parsed as JSON; None when it is not a point perfspec reads."""
    if '"Point"' not in line or not any(w in line for w in WANTED):
        if not whole(line):
            raise ResultError(
                where,
                f"line {number} is cut off"
                if not line.endswith("\n")
                else f"line {number} is not a k6 JSON line: the file is garbled",
            )
        return None
    try:
        point = json.loads(line)
        data = point["data"]
        return point["metric"], data["time"], repr(float(data["value"])), json.dumps(data.get("tags") or {})
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        if not line.endswith("\n"):
            raise ResultError(
                where, f"line {number} is cut off: the run was interrupted, the file is incomplete"
            ) from None
        raise ResultError(where, f"line {number}: not a k6 JSON point ({type(exc).__name__})") from None


class Reading:
    """The state of one NDJSON pass: series, per-second slots, caches."""

    def __init__(self, where: str, stem: str, profile: str | None) -> None:
        self.where, self.stem, self.profile = where, stem, profile
        self.series: dict[str, Series] = {}
        # per endpoint: second -> [count, failures, {3-digit ns key: count}]
        self.slots: dict[str, dict[int, list]] = {}
        self.seconds: dict[str, int] = {}  # "2026-11-23T08:00:01" -> epoch second
        self.dropped = 0
        self.aborted: str | None = None  # why the script stopped the test (its abort rule)
        self.stopped: dict[str, int] = {}  # users stopped after a failed on_start call, per cause
        self.scenarios: set[str] = set()
        self.first, self.last, self.points = "", "", 0  # the first and last latency point's time
        self.lost: list[int] = []  # numbers of the lines skipped as cut off or garbled (lossy)

    def slot(self, name: str, stamp: str) -> list:
        if name not in self.series:
            self.series[name] = Series("k6", "http", name, self.where, self.stem, profile=self.profile)
            self.slots[name] = {}
        second = self.seconds.get(stamp[:19])
        if second is None:
            second = self.seconds[stamp[:19]] = int(stamp_seconds(stamp))
        slot = self.slots[name].get(second)
        if slot is None:
            slot = self.slots[name][second] = [0, 0, {}]
        return slot

    def elapsed(self, whole_seconds: float) -> float:
        """The run's length from its first to its last response, stretched by one mean interval
        (n responses evenly spread over T are T * n / (n - 1) long): 50/s reads 50/s, not the
        count over whole seconds."""
        if self.points < 2:
            return whole_seconds
        try:
            span = stamp_seconds(self.last) - stamp_seconds(self.first)
        except ValueError:
            return whole_seconds
        return span * self.points / (self.points - 1) if span > 0 else whole_seconds

    def add(
        self,
        name: str,
        metric: str,
        stamp: str,
        value: float,
        status: str,
        reason: str,
        ttfb: bool,
        unsent: bool,
        number: int,
    ) -> None:
        """One point of an endpoint: a failure (with its cause), a latency, or a time to first byte."""
        try:
            slot = self.slot(name, stamp)
        except ValueError:
            raise ResultError(
                self.where, f"line {number}: time {stamp[:40]!r} is not an ISO 8601 time"
            ) from None
        s = self.series[name]
        if metric in ("perfspec_failed", "http_req_failed"):
            if value == 0:
                return
            if unsent:  # never sent: no latency sample counts it
                s.count += 1
                slot[0] += 1
            s.failures += 1
            slot[1] += 1
            cause = reason or "failed"
            s.errors[cause] = s.errors.get(cause, 0) + 1
        elif metric in LATENCY:
            self.points += 1
            if not self.first or stamp < self.first:
                self.first = stamp
            if stamp > self.last:
                self.last = stamp
            s.count += 1
            slot[0] += 1
            s.statuses[status] = s.statuses.get(status, 0) + 1
            key = round3(int(value * 1e6))
            counts = slot[2]
            counts[key] = counts.get(key, 0) + 1
        elif ttfb:
            s.ttfb.add(int(value * 1e6))

    def finish(self) -> list[Series]:
        if self.seconds:
            start, end = min(self.seconds.values()), max(self.seconds.values())
            for name, s in self.series.items():
                s.timeline = Timeline.from_slots(
                    (t - start, c, f, counts) for t, (c, f, counts) in sorted(self.slots[name].items())
                )
                s.histogram = s.timeline.histogram()
                s.elapsed = self.elapsed(end - start + 1)
        profile = self.profile or (next(iter(self.scenarios)) if len(self.scenarios) == 1 else None)
        for s in self.series.values():
            s.profile = profile
            s.extra["dropped_iterations"] = self.dropped
            if self.aborted:
                s.extra["aborted"] = self.aborted
            if self.stopped:
                s.extra["stopped_users"] = dict(self.stopped)
            if self.lost:
                s.extra["lost_lines"] = list(self.lost)
        return list(self.series.values())


def read_k6_ndjson(path: Path, profile: str | None = None, lossy: bool = False) -> list[Series]:
    """One series per endpoint tag; one pass, line by line, memory bounded by the number of
    endpoints x seconds x distinct 3-digit latency keys (not by the number of points). A cut-off or
    garbled line fails the file; with `lossy` (--allow-partial) it is skipped and counted."""
    where = str(path)
    r = Reading(where, path.stem, profile)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise ResultError(where, f"cannot read: {exc.strerror}") from None
    with handle:
        consume(r, handle, lossy)
    return r.finish()


def consume(r: Reading, lines, lossy: bool = False) -> None:
    """Every line of k6's JSON output into `r`: a file read after the run, or the pipe k6 writes
    while it runs (runtime/k6_stream.py). The loop is the reader's hot path: kept inline."""
    where = r.where
    tag_cache: dict[str, tuple] = {}
    match = FAST.match
    skip = ('{"metric":"http_req_failed","type":"Point"', '{"metric":"perfspec_failed","type":"Point"')
    waiting = '{"metric":"http_req_waiting","type":"Point"'
    read = READ
    for number, line in enumerate(lines, 1):
        if line.startswith(skip) and '"value":0,' in line and line.endswith("}\n"):
            continue  # a request that did not fail (the common case, in C)
        if (
            line[11 : line.find('"', 11)] not in read
            and line.startswith('{"metric":"')
            and line.endswith("}\n")
        ):
            continue  # a whole line of a metric perfspec does not read (10 of k6's 13 a request)
        if line.startswith(waiting) and '"ttfb":"yes"' not in line and line.endswith("}\n"):
            continue  # a time to first byte of an endpoint that does not stream: no target reads it
        m = match(line)
        if m is not None:
            metric, stamp, value, raw = m.groups()
        else:
            try:
                parsed = _slow(line, where, number)
            except ResultError:
                if not lossy:
                    raise
                r.lost.append(number)
                continue
            if parsed is None:
                continue
            metric, stamp, value, raw = parsed
        tagged = tag_cache.get(raw)
        if tagged is None:
            tagged = tag_cache[raw] = _tags(raw, where, number)
        name, status, reason, scenario, ttfb, unsent = tagged
        if scenario:
            r.scenarios.add(scenario)
        if metric == "perfspec_aborted":
            r.aborted = reason or "aborted"
            continue
        if metric == "perfspec_stopped_users":
            r.stopped[reason or "on_start failed"] = r.stopped.get(reason or "on_start failed", 0) + 1
            continue
        number_value = float(value)
        if not 0 <= number_value < 1e12:  # NaN fails this too; 1e12 ms is 30 years
            raise ResultError(
                where, f"line {number}: {metric} value {value} is not a finite, non-negative number"
            )
        if metric == "dropped_iterations":
            r.dropped += int(number_value)
            continue
        if name is not None:  # else a request perfspec did not make (setup, a hand-added call)
            r.add(name, metric, stamp, number_value, status, reason, ttfb, unsent, number)


def is_ndjson(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError):
        return False
    return first.startswith("{") and '"type"' in first and ('"Metric"' in first or '"Point"' in first)

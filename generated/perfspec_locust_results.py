"""Support module of perfspec's generated locustfiles: recording and result files.

Every request Locust reports (its `events.request`) is recorded with its exact latency into a
histogram of 3 significant digits (each value within 0.5 %), per endpoint name and per second;
at exit each process writes `locust-<host>-<pid>.json` to $PERFSPEC_RESULTS_DIR (default: the
working folder), so results of distributed workers merge. With $PERFSPEC_PROGRESS each second
appends one progress line. The abort rule stops a run whose every request fails; a target's
`abort: {after}` (abort_when) stops it once a fail bound is lost. Written once
per output folder beside perfspec_locust.py, which imports it.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from typing import Any

from locust import events

if __package__:  # perfspec.runtime.support in perfspec's own tests
    from .perfspec_histogram import Histogram, columns, round3
else:  # beside the generated locustfiles, whose folder's parent is on sys.path
    from perfspec_histogram import Histogram, columns, round3

__all__ = ["Histogram", "round3"]  # re-exported: perfspec_locust.py names them for the locustfiles

FORMAT = "perfspec-results/1"
STARTED = time.time()


class Series:
    """One endpoint's results: statuses, failure causes, TTFB, and per second a latency histogram
    (counts by microseconds, 3 significant digits) and the failed calls."""

    __slots__ = ("statuses", "errors", "ttfb", "timeline", "failed", "second", "counts")

    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}
        self.errors: dict[str, int] = {}
        self.ttfb = Histogram()
        self.timeline: dict[int, dict[int, int]] = {}  # second -> latency counts
        self.failed: dict[int, int] = {}  # second -> failed calls
        self.second, self.counts = -1, {}  # the second most calls land in, and its counts

    def at(self, second: int) -> dict[int, int]:
        """A second's latency counts, kept at hand for the calls that follow."""
        counts = self.timeline.get(second)
        if counts is None:
            counts = self.timeline[second] = {}
        self.second, self.counts = second, counts
        return counts

    def record(self, seconds: float, status: int, error: str | None, ttfb: float | None) -> None:
        second = int(time.time() - STARTED)
        counts = self.counts if second == self.second else self.at(second)
        key = round3(int(seconds * 1e6 + 0.5))  # microseconds
        counts[key] = counts.get(key, 0) + 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if error is not None:
            self.failed[second] = self.failed.get(second, 0) + 1
            self.errors[error] = self.errors.get(error, 0) + 1
        if ttfb is not None:
            self.ttfb.add(int(ttfb * 1e6 + 0.5))

    def latency(self) -> Histogram:
        """The whole run's histogram: the sum of its seconds'."""
        whole = Histogram()
        for counts in self.timeline.values():
            whole.merge_counts(counts)
        return whole

    def to_dict(self) -> dict[str, Any]:
        seconds = [(t, sum(c.values()), self.failed.get(t, 0), c) for t, c in sorted(self.timeline.items())]
        packed = columns(seconds)  # a 30-minute file reads in a tenth of a second
        return {
            "count": sum(self.statuses.values()),
            "failures": sum(self.failed.values()),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": self.errors,
            "histogram": self.latency().to_list(),
            "ttfb_histogram": self.ttfb.to_list(),
            **(
                {"columns": packed}
                if packed is not None
                else {"timeline": [[t, n, f, [[k, c[k]] for k in sorted(c)]] for t, n, f, c in seconds]}
            ),
        }


RESULTS: dict[str, Series] = {}
RUN: dict[str, Any] = {"spec": None, "profile": None, "aborted": None, "stopped": {}}
# the abort rule: no answer (no response, a 5xx, or a 4xx the call does not expect) to every request
# for this long stops the run; 0: never
ABORT_AFTER = float(os.environ.get("PERFSPEC_ABORT_AFTER", "10") or 0)
HEALTH: dict[str, Any] = {"failing_since": None, "cause": ""}


def cause(exception: BaseException | str | None, url: str | None = None) -> str:
    """A failure's cause in words: 'connection refused (127.0.0.1:9002)', 'HTTP 500', ..."""
    if exception is None:
        return ""
    if isinstance(exception, OSError) and exception.errno is not None:
        where = url.split("/")[2] if url and url.count("/") >= 2 else ""
        text = os.strerror(exception.errno).lower()
        return f"{text} ({where})" if where else text
    if isinstance(exception, socket.timeout | TimeoutError):
        return "timeout"
    text = str(exception) or type(exception).__name__
    return text.removeprefix("CatchResponseError(").removesuffix(")")


def record(name: str, seconds: float, status: int, error: str | None, ttfb: float | None = None) -> None:
    series = RESULTS.get(name)
    if series is None:
        series = RESULTS[name] = Series()
    series.record(seconds, status, error, ttfb)
    if 0 < status < 400 or (400 <= status < 500 and error is None):
        HEALTH["failing_since"] = None  # an answer: a success, or a 4xx the call expects
    else:  # no response, a 5xx, or a 4xx the spec does not expect (404 everywhere: a wrong base URL)
        unhealthy(error or f"HTTP {status}")


def unhealthy(why: str) -> None:
    """A call without an answer (no response, a 5xx, a 4xx it does not expect): the abort rule's
    clock runs from the first."""
    if HEALTH["failing_since"] is None:
        HEALTH["failing_since"] = time.monotonic()
    HEALTH["cause"] = why


@events.request.add_listener
def _on_request(
    request_type: str = "",
    name: str = "",
    context: dict | None = None,
    response: Any = None,
    exception: Any = None,
    start_time: float | None = None,
    url: str | None = None,
    response_length: int = 0,
    response_time: float = 0.0,
    **_kwargs: Any,
) -> None:
    """Every request Locust reports: exact latency (FastHttpUser measures it in float ms). Every
    argument Locust passes is named: it runs once per request, and binding them costs half what
    collecting them in **kwargs does.

    A request made with `context={"expect": (200, ...)}` (a plain call, no `catch_response`) is
    judged here as `expect()` judges a caught one: an unexpected status fails it, and one Locust
    took for a success (a 2xx or 3xx) is counted failed in Locust's statistics too, so its
    console agrees with the verdict."""
    if context and "perfspec_recorded" in context:
        return  # streaming and WebSocket calls record themselves (with their TTFB)
    status = getattr(response, "status_code", None) or 0
    expected = context.get("expect") if context else None
    if expected is not None and status and status not in expected:
        error: str | None = f"HTTP {status}"
        if exception is None:
            unexpected(context, request_type, name, error)
    else:
        error = None if exception is None else (cause(exception, url) or f"HTTP {status}")
    record(name, response_time / 1000.0, status, error)
    if error is not None and context:
        failed(context, name, error)


def unexpected(context: dict, request_type: str, name: str, error: str) -> None:
    """A status Locust counts a success and the spec does not expect: a failure in Locust's
    statistics as well (what `resp.failure()` in a caught request would have made it)."""
    user = context.get("perfspec_user")
    if user is not None:
        user.environment.stats.log_error(request_type, name, error)


def failed(context: dict, name: str, error: str) -> None:
    """A user's failed call, kept on the user until its on_start is over (see `stopped`)."""
    user = context.get("perfspec_user")
    if user is not None:
        user.failures += 1
        if user.first_failure is None:
            user.first_failure = (name, error)


def stopped(flow: str, name: str, error: str) -> None:
    """A user stops because a call of its on_start failed: counted per cause in the result file,
    printed once per cause."""
    reason = f"flow {flow}: on_start call {name} failed ({error})"
    if reason not in RUN["stopped"]:
        print(f"perfspec: a user stops: {reason}", file=sys.stderr, flush=True)
    RUN["stopped"][reason] = RUN["stopped"].get(reason, 0) + 1


@events.init.add_listener
def _abort_watch(environment: Any, **_kwargs: Any) -> None:
    """Stops a hopeless run (every request without a response, or 5xx, for ABORT_AFTER seconds);
    the result file says why. A master measures nothing: its workers watch themselves."""
    if ABORT_AFTER <= 0 or environment.runner is None or type(environment.runner).__name__ == "MasterRunner":
        return
    import gevent

    def loop() -> None:
        while RUN["aborted"] is None:
            gevent.sleep(0.5)
            since = HEALTH["failing_since"]
            if since is not None and time.monotonic() - since >= ABORT_AFTER:
                RUN["aborted"] = f"every request failed for {ABORT_AFTER:g}s ({HEALTH['cause']})"
                print(f"perfspec: aborting: {RUN['aborted']}", file=sys.stderr, flush=True)
                environment.runner.quit()

    gevent.spawn(loop)


# the targets' `abort: {after}` rules, added by the locustfile (abort_when)
ABORTS: list[dict[str, Any]] = []
QUANTILES = {"p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p99.9": 0.999}


def abort_when(
    target: str,
    after: float,
    endpoints: list[str],
    bounds: list[tuple[str, str, float, str]],
    profile: str | None = None,
) -> None:
    """A target's `abort: {after}`: from `after` seconds into the run, the first second at which
    everything its endpoints measured so far breaks a fail bound (statistic, operator, value in
    seconds or as a fraction, the spec's text) stops the run, as k6's abortOnFail with
    delayAbortEval does. A target of one `profile` watches only while that profile runs."""
    ABORTS.append(
        {"target": target, "after": after, "endpoints": endpoints, "bounds": bounds, "profile": profile}
    )


def lost(rule: dict[str, Any], seen: Histogram, count: int, failed: int) -> str | None:
    """The first fail bound of `rule` that the samples so far break, in words; None: none."""
    ops = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}
    for stat, op, bound, text in rule["bounds"]:
        if stat == "error_rate":
            value, shown = (failed / count if count else None), "{:.2f}%"
            scale = 100.0
        else:
            raw = (
                seen.quantile(QUANTILES[stat])
                if stat in QUANTILES
                else seen.mean()
                if stat == "avg"
                else seen.max()
            )
            value, shown, scale = (None if raw is None else raw / 1e6), "{:.1f}ms", 1000.0
        if value is not None and not ops[op](float(value), float(bound)):
            return f"{stat} {shown.format(value * scale)} broke {text}"
    return None


@events.init.add_listener
def _target_aborts(environment: Any, **_kwargs: Any) -> None:
    """Watches ABORTS once a second over the full seconds measured so far (each process its own
    samples: distributed workers each watch their share)."""
    if not ABORTS or environment.runner is None or type(environment.runner).__name__ == "MasterRunner":
        return
    import gevent

    def loop() -> None:
        state = [[Histogram(), 0, 0] for _ in ABORTS]  # per rule: histogram, calls, failed calls
        done = 0  # the full seconds merged so far: [0, done)
        while RUN["aborted"] is None:
            gevent.sleep(1.0)
            now = int(time.time() - STARTED)
            for rule, slot in zip(ABORTS, state, strict=True):
                for series in (RESULTS[n] for n in rule["endpoints"] if n in RESULTS):
                    for second in range(done, now):
                        counts = series.timeline.get(second, {})
                        slot[0].merge_counts(counts)
                        slot[1] += sum(counts.values())
                        slot[2] += series.failed.get(second, 0)
            done = now
            for rule, (seen, count, failed) in zip(ABORTS, state, strict=True):
                mine = rule["profile"] in (None, RUN["profile"])
                why = lost(rule, seen, count, failed) if mine and now >= rule["after"] and count else None
                if why:
                    RUN["aborted"] = (
                        f"stopped after {now}s by the abort rule of target {rule['target']} "
                        f"(after {rule['after']:g}s): {why} over the {count} calls so far"
                    )
                    print(f"perfspec: aborting: {RUN['aborted']}", file=sys.stderr, flush=True)
                    environment.runner.quit()
                    return

    gevent.spawn(loop)


@events.init.add_listener
def _progress(environment: Any, **_kwargs: Any) -> None:
    """With PERFSPEC_PROGRESS=FILE: one JSON line a second (users, requests, failures, p95 of
    the last full second) for `perfspec run`'s live display."""
    path = os.environ.get("PERFSPEC_PROGRESS")
    if not path or environment.runner is None or type(environment.runner).__name__ == "WorkerRunner":
        return
    import gevent

    def loop() -> None:
        with open(path, "a", encoding="utf-8") as out:
            while True:
                gevent.sleep(1.0)
                out.write(json.dumps(_progress_line(environment)) + "\n")
                out.flush()

    gevent.spawn(loop)


def _progress_line(environment: Any) -> dict[str, Any]:
    last = int(time.time() - STARTED) - 1
    if RESULTS or not environment.stats.total.num_requests:
        window = Histogram()
        for s in RESULTS.values():
            window.merge_counts(s.timeline.get(last, {}))
        line = {
            "requests": sum(sum(s.statuses.values()) for s in RESULTS.values()),
            "failures": sum(sum(s.failed.values()) for s in RESULTS.values()),
            "rps": sum(window.counts.values()),
            "p95_ms": (window.quantile(0.95) or 0) / 1000 if window.counts else None,
        }
    else:  # a master: the workers measure; Locust's aggregated stats, for display only
        total = environment.stats.total
        line = {
            "requests": total.num_requests,
            "failures": total.num_failures,
            "rps": round(total.current_rps, 1),
            "p95_ms": total.get_current_response_time_percentile(0.95),
        }
    return {"t": last + 1, "users": environment.runner.user_count, **line}


def identity() -> dict[str, Any]:
    """What a result file says of itself: the run that made it and its spec's SHA-256 (set by
    `perfspec run`; absent when Locust is run by hand), and the process (one shard each)."""
    found: dict[str, Any] = {"host": socket.gethostname(), "pid": os.getpid()}
    for key, name in (("run", "PERFSPEC_RUN_ID"), ("spec_sha256", "PERFSPEC_SPEC_SHA256")):
        if os.environ.get(name):
            found[key] = os.environ[name]
    return found


@events.quitting.add_listener
def _write_results(environment: Any, **_kwargs: Any) -> None:
    if not RESULTS:
        return  # a master or an idle worker measured nothing
    folder = os.environ.get("PERFSPEC_RESULTS_DIR", ".")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"locust-{socket.gethostname()}-{os.getpid()}.json")
    document = {
        "format": FORMAT,
        "tool": "locust",
        "spec": RUN["spec"],
        **identity(),
        "profile": RUN["profile"],
        "model": "closed",
        "aborted": RUN["aborted"],
        "stopped_users": RUN["stopped"],
        "started": STARTED,
        "ended": time.time(),
        "unit": "us",
        "series": {name: s.to_dict() for name, s in sorted(RESULTS.items())},
    }
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(document, handle)
    os.replace(path + ".tmp", path)

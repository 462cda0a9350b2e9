"""Support module of perfspec's generated locustfiles: recording, result files, the load shape.

`perfspec build` writes this file once per output folder as `perfspec_locust.py`; a generated
locustfile imports it and needs nothing but Locust. Every request Locust reports (its
`events.request`) is recorded with its exact latency into a histogram of 3 significant digits
(off by at most 0.5 %), per endpoint name and per second; at exit each process writes
`locust-<host>-<pid>.json` to $PERFSPEC_RESULTS_DIR (default: the working folder), so results of
distributed workers merge. With $PERFSPEC_PROGRESS each second appends one progress line.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import sys
import time
import uuid as _uuid
from typing import Any

from locust import FastHttpUser, LoadTestShape, events

FORMAT = "perfspec-results/1"
STARTED = time.time()


def env(name: str, default: str | None = None) -> str | None:
    """An environment variable read at run time (`${NAME:-default}` in the spec)."""
    return os.environ.get(name) or default


def env_text(*parts: str | tuple[str, ...]) -> str | None:
    """A host written as text and ${VAR}s, e.g. `env_text("https://", ("API_HOST",), ":8443")`:
    the text when every variable is set (or has a default), else None, so Locust asks for --host
    instead of the import failing."""
    out = []
    for part in parts:
        value = env(*part) if isinstance(part, tuple) else part
        if value is None:
            return None
        out.append(value)
    return "".join(out)


def need_env(name: str, default: str | None = None) -> str:
    """`${NAME}` inside a request: an unset variable fails the call with its name."""
    value = os.environ.get(name) or default
    if value is None:
        raise MissingValue(f"${name}")
    return value


def uuid() -> str:
    """`{uuid}` in a spec string: a new random UUID each time."""
    return str(_uuid.uuid4())


def basic_auth(user: str, password: str) -> str:
    """The value of an `Authorization: Basic ...` header."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class MissingValue(RuntimeError):
    """A variable used before any response provided it (e.g. a token before login)."""

    def __str__(self) -> str:
        return f"variable {{{self.args[0]}}} has no value yet"


def round3(us: int) -> int:
    """Round to 3 significant digits; values under 1000 stay exact (no string work: it runs
    once per request)."""
    if us < 1000:
        return max(0, us)
    scale = 10
    while us >= scale * 1000:
        scale *= 10
    return (us + scale // 2) // scale * scale


class Histogram:
    """Latencies in microseconds, 3 significant digits: mergeable across processes."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}

    def add(self, seconds: float) -> None:
        key = round3(int(seconds * 1e6 + 0.5))
        self.counts[key] = self.counts.get(key, 0) + 1

    def merge(self, other: Histogram) -> None:
        for key, count in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + count

    def to_list(self) -> list[list[int]]:
        return [[k, self.counts[k]] for k in sorted(self.counts)]

    def quantile_us(self, q: float) -> int:
        """Nearest rank over the counts (for the live display)."""
        total = sum(self.counts.values())
        rank, seen = max(1, -int(-q * total // 1)), 0
        for key in sorted(self.counts):
            seen += self.counts[key]
            if seen >= rank:
                return key
        return 0


class Series:
    """One endpoint's results: counts, statuses, failure causes, histograms, per-second slots."""

    __slots__ = ("count", "failures", "statuses", "errors", "ttfb", "timeline")

    def __init__(self) -> None:
        self.count = 0
        self.failures = 0
        self.statuses: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.ttfb = Histogram()
        self.timeline: dict[int, list] = {}  # second -> [count, failures, Histogram]

    def record(self, seconds: float, status: int, error: str | None, ttfb: float | None) -> None:
        self.count += 1  # the whole run's histogram is the sum of the seconds' (made at exit)
        key = str(status)
        self.statuses[key] = self.statuses.get(key, 0) + 1
        second = int(time.time() - STARTED)
        slot = self.timeline.get(second)
        if slot is None:
            slot = self.timeline[second] = [0, 0, Histogram()]
        slot[0] += 1
        slot[2].add(seconds)
        if error is not None:
            self.failures += 1
            slot[1] += 1
            self.errors[error] = self.errors.get(error, 0) + 1
        if ttfb is not None:
            self.ttfb.add(ttfb)

    def latency(self) -> Histogram:
        whole = Histogram()
        for slot in self.timeline.values():
            whole.merge(slot[2])
        return whole

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "failures": self.failures,
            "statuses": self.statuses,
            "errors": self.errors,
            "histogram": self.latency().to_list(),
            "ttfb_histogram": self.ttfb.to_list(),
            "timeline": [[t, c, f, h.to_list()] for t, (c, f, h) in sorted(self.timeline.items())],
        }


RESULTS: dict[str, Series] = {}
RUN: dict[str, Any] = {"spec": None, "profile": None, "aborted": None}
# the abort rule: no response (or only 5xx) to every request for this long stops the run; 0: never
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
    if status != 0 and status < 500:
        HEALTH["failing_since"] = None
    elif HEALTH["failing_since"] is None:
        HEALTH["failing_since"], HEALTH["cause"] = time.monotonic(), error or f"HTTP {status}"
    else:
        HEALTH["cause"] = error or f"HTTP {status}"


@events.request.add_listener
def _on_request(
    name: str,
    response_time: float,
    exception: Any = None,
    response: Any = None,
    context: dict | None = None,
    url: str | None = None,
    **_kwargs: Any,
) -> None:
    """Every request Locust reports: exact latency (FastHttpUser measures it in float ms)."""
    if context and context.get("perfspec_recorded"):
        return  # streaming and WebSocket calls record themselves (with their TTFB)
    status = getattr(response, "status_code", None) or 0
    error = None if exception is None else (cause(exception, url) or f"HTTP {status}")
    record(name, response_time / 1000.0, status, error)


def expect(resp: Any, *statuses: int) -> bool:
    """Mark a `catch_response=True` response: success exactly when its status is expected."""
    status = resp.status_code or 0
    if status in statuses:
        resp.success()
        return True
    if status == 0:
        resp.failure(
            cause(resp.error, getattr(resp, "url", None)) if getattr(resp, "error", None) else "no response"
        )
    else:
        resp.failure(f"HTTP {status}")
    return False


def expect_text(resp: Any, text: str) -> bool:
    """`expect: {body_contains: ...}`: fail the response when the text is missing."""
    if text in (resp.text or ""):
        return True
    resp.failure("body does not contain the expected text")
    return False


_MISSING = object()


def json_value(resp: Any, what: str, *keys: str | int) -> Any:
    """The value at a JSON path (its keys), or None after marking the response failed."""
    try:
        node: Any = resp.json()
    except ValueError:
        node = _MISSING
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = _MISSING
            break
    if node is _MISSING or node is None:
        resp.failure(f"cannot extract {what}")
        return None
    return node


def header(resp: Any, name: str, what: str = "") -> str | None:
    """A response header by name, case-insensitive (servers canonicalise names: `Etag`)."""
    lowered = name.lower()
    for key, value in (resp.headers or {}).items():
        if key.lower() == lowered:
            return value
    if what:
        resp.failure(f"cannot extract {what}")
    return None


class PerfspecUser(FastHttpUser):
    """A flow's user: its own variables, and failures recorded with their cause."""

    abstract = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vars: dict[str, Any] = {}

    def var(self, name: str) -> str:
        """A per-user value as text; MissingValue before any response provided it."""
        value = self.vars.get(name)
        if value is None:
            raise MissingValue(name)
        return str(value)

    def has(self, *names: str) -> bool:
        return all(self.vars.get(n) is not None for n in names)

    def seq(self) -> str:
        """`{seq}`: a per-user counter 1, 2, 3, ..."""
        self.vars["seq"] = int(self.vars.get("seq") or 0) + 1
        return str(self.vars["seq"])

    def missing(self, name: str, method: str, exc: MissingValue) -> None:
        """A request that could not be built: reported like any failed request, except during
        on_stop, where it means there is nothing to clean up (on_start never got that far)."""
        if getattr(self, "stopping", False):
            return
        self.environment.events.request.fire(
            request_type=method,
            name=name,
            response_time=0.0,
            response_length=0,
            exception=exc,
            context={},
            url=None,
            response=None,
        )

    def stream(self, name: str, method: str, url: str, **kwargs: Any) -> bool:
        """A streamed response: time to first byte and the whole body, both recorded."""
        started = time.perf_counter()
        expected = kwargs.pop("expect")
        contains = kwargs.pop("contains", None)
        with self.client.request(
            method,
            url,
            name=name,
            stream=True,
            catch_response=True,
            context={"perfspec_recorded": True},
            **kwargs,
        ) as resp:
            ttfb = time.perf_counter() - started
            body = resp.stream.read() if resp.stream is not None else b""
            elapsed = time.perf_counter() - started
            ok = expect(resp, *expected)
            if ok and contains is not None and contains not in body.decode("utf-8", "replace"):
                resp.failure("body does not contain the expected text")
                ok = False
            record(
                name, elapsed, resp.status_code or 0, None if ok else f"HTTP {resp.status_code or 0}", ttfb
            )
            return ok

    def websocket(
        self, name: str, url: str, messages: list[str], headers: dict | None = None, timeout: float = 30.0
    ) -> None:
        """A WebSocket: connect, then each message's round trip is one recorded call."""
        import websocket as wsclient  # websocket-client, installed with locust

        ws_url = "ws" + url[4:] if url.startswith("http") else url
        fire = self.environment.events.request.fire
        meta = {"request_type": "WS", "name": name, "context": {"perfspec_recorded": True}}
        try:
            conn = wsclient.create_connection(ws_url, header=headers or {}, timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - refused, handshake failed: recorded with its cause
            record(name, 0.0, 0, "connect: " + cause(exc, url))
            fire(response_time=0, response_length=0, exception=exc, **meta)
            return
        try:
            for payload in messages:
                started = time.perf_counter()
                error, reply = None, ""
                try:
                    conn.send(payload)
                    reply = conn.recv()
                except Exception as exc:  # noqa: BLE001 - a dropped connection is a failed call
                    error = exc
                elapsed = time.perf_counter() - started
                record(name, elapsed, 101 if error is None else 0, None if error is None else cause(error))
                fire(response_time=elapsed * 1000, response_length=len(reply or ""), exception=error, **meta)
                if error is not None:
                    break
        finally:
            # not conn.close(): it waits for the server's close frame inside a bare `except:`,
            # which would swallow Locust's GreenletExit and keep a stopped user running
            try:
                conn.send_close()
            except Exception:  # noqa: BLE001 - the connection may be gone already
                pass
            conn.shutdown()


class ProfileShape(LoadTestShape):
    """A spec profile's stages: ramps at their exact rate, holds for their full time.

    $PERFSPEC_PROFILE picks the profile, $PERFSPEC_DURATION (seconds) cuts it short. Locust's own
    `-u/-r/-t` override the profile: with `-u N` the shape runs N users (spawned at `-r`, default
    N/s) for `-t` (default: the profile's length).
    """

    abstract = True
    use_common_options = True
    spec = ""
    default = ""
    profiles: dict[str, list[tuple[str, float, float, float]]] = {}  # kind, start, end, seconds
    flows: dict[str, list[type]] = {}  # profile -> the user classes of its flows

    def __init__(self) -> None:
        super().__init__()
        self.profile = os.environ.get("PERFSPEC_PROFILE") or self.default
        if self.profile not in self.profiles:
            raise SystemExit(
                f"PERFSPEC_PROFILE={self.profile!r} is not a Locust profile of "
                f"{self.spec}: {', '.join(sorted(self.profiles))}"
            )
        self.stages = self.profiles[self.profile]
        self.users = self.flows.get(self.profile) or None  # only the profile's flows run
        self.cap = float(os.environ.get("PERFSPEC_DURATION") or 0)
        RUN.update(spec=self.spec, profile=self.profile)

    def _override(self) -> tuple[int, float, float] | None:
        """-u/-r/-t as given on the command line (or LOCUST_USERS): Locust fills in -u 1 itself
        when it is absent, so only an explicit one replaces the profile."""
        if not _users_given():
            return None
        options = getattr(self.runner.environment, "parsed_options", None) if self.runner else None
        users = int(getattr(options, "num_users", None) or 1)
        length = getattr(options, "run_time", None) or sum(s[3] for s in self.stages)
        return users, float(getattr(options, "spawn_rate", None) or users), float(length)

    def tick(self) -> tuple | None:
        level = self._level(self.get_run_time())
        if level is None or self.users is None:
            return level
        return (*level, self.users)

    def _level(self, elapsed: float) -> tuple[int, float] | None:
        if self.cap and elapsed >= self.cap:
            return None  # PERFSPEC_DURATION (perfspec run --duration) cut the profile short
        override = self._override()
        if override is not None:
            users, rate, length = override
            return (users, rate) if elapsed < length else None
        for kind, start, end, seconds in self.stages:
            if elapsed < seconds:
                if kind == "ramp" and end != start:
                    return int(end), abs(end - start) / seconds  # users per second
                return int(end), max(end, 1.0)  # hold or spike: reach the level at once
            elapsed -= seconds
        return None


def _users_given() -> bool:
    argv = sys.argv[1:]
    return bool(os.environ.get("LOCUST_USERS")) or any(
        a in ("-u", "--users") or a.startswith("--users=") or (a.startswith("-u") and a[2:3].isdigit())
        for a in argv
    )


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
            slot = s.timeline.get(last)
            if slot:
                window.merge(slot[2])
        line = {
            "requests": sum(s.count for s in RESULTS.values()),
            "failures": sum(s.failures for s in RESULTS.values()),
            "rps": sum(s.timeline.get(last, [0])[0] for s in RESULTS.values()),
            "p95_ms": window.quantile_us(0.95) / 1000 if window.counts else None,
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
        "profile": RUN["profile"],
        "model": "closed",
        "aborted": RUN["aborted"],
        "started": STARTED,
        "ended": time.time(),
        "unit": "us",
        "series": {name: s.to_dict() for name, s in sorted(RESULTS.items())},
    }
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(document, handle)
    os.replace(path + ".tmp", path)

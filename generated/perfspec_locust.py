"""Support module of perfspec's generated locustfiles: the user class, response checks, the load
shape.

`perfspec build` writes this file once per output folder as `perfspec_locust.py`, with
perfspec_locust_results.py (recording, result files, progress, the abort rule) beside it; a
generated locustfile imports it and needs nothing but Locust.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import uuid as _uuid
from typing import Any

from locust import FastHttpUser, LoadTestShape
from locust.exception import StopUser

if __package__:  # perfspec.runtime.support in perfspec's own tests
    from . import perfspec_locust_results as results
else:  # beside the generated locustfile, whose folder's parent is on sys.path
    import perfspec_locust_results as results

# the recording side, under the names the locustfiles and tests know
Histogram, Series, cause, record, round3 = (
    results.Histogram,
    results.Series,
    results.cause,
    results.record,
    results.round3,
)
RUN = results.RUN


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
        tries = getattr(resp, "perfspec_attempts", None)
        resp.failure(f"HTTP {status}" + (f" after {tries} attempts" if tries else ""))
    return False


def expect_text(resp: Any, text: str) -> bool:
    """`expect: {body_contains: ...}`: fail the response when the text is missing."""
    if text in (resp.text or ""):
        return True
    resp.failure("body does not contain the expected text")
    return False


_MISSING = object()


def retry_wait(
    resp: Any, attempt: int, attempts: int, on: tuple, backoff: float, max_wait: float
) -> float | None:
    """`retry:` after one attempt: None when this answer is final (its checks judge it), else the
    seconds to wait before the next attempt: the server's Retry-After, else `backoff` doubled per
    attempt, at most `max_wait`. A retried answer is no failure (its status is still recorded)."""
    if (resp.status_code or 0) not in on:
        return None
    if attempt >= attempts:
        resp.perfspec_attempts = attempts  # expect() names them: "HTTP 429 after 3 attempts"
        return None
    resp.success()
    after = retry_after(header(resp, "Retry-After"))
    return min(max_wait, after if after is not None else backoff * 2 ** (attempt - 1))


def retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: a number of seconds, or an HTTP date from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def expect_json(resp: Any, path: str, expected: Any, *keys: str | int) -> bool:
    """`expect: {json: {PATH: value}}`: fail the response unless the field equals the value (JSON
    equality: true is not 1, 1 is 1.0)."""
    try:
        node: Any = resp.json()
    except ValueError:
        resp.failure(f"{path}: the body is not JSON")
        return False
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            resp.failure(f"{path} is missing (expected {_shown(expected)})")
            return False
    if json_equal(node, expected):
        return True
    resp.failure(f"{path} is {_shown(node)}, expected {_shown(expected)}")
    return False


def json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


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
        self.first_failure: tuple[str, str] | None = None  # (call, cause) since the user started

    def context(self) -> dict:
        """Every request's context (Locust merges it in): failures are traced to their user."""
        return {"perfspec_user": self}

    def started(self, flow: str) -> None:
        """The end of on_start: when one of its calls failed the user stops (Locust's StopUser)
        instead of failing every later call for a value it never got; the run reports it."""
        if self.first_failure is not None:
            results.stopped(flow, *self.first_failure)
            raise StopUser()

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
            context=self.context(),
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
            error = None if ok else f"HTTP {resp.status_code or 0}"
            record(name, elapsed, resp.status_code or 0, error, ttfb)
            if error is not None and self.first_failure is None:
                self.first_failure = (name, error)
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
            self.first_failure = self.first_failure or (name, "connect: " + cause(exc, url))
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

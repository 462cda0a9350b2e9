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

from locust import FastHttpUser
from locust.exception import StopUser

if __package__:  # perfspec.runtime.support in perfspec's own tests
    from . import perfspec_locust_results as results
    from .perfspec_locust_checks import (
        Upload,
        expect,
        expect_json,
        expect_text,
        header,
        json_equal,
        json_value,
        match_json,
        multipart,
        next_page,
        query_string,
        retry_after,
        retry_wait,
        text_of,
    )
    from .perfspec_locust_shape import ProfileShape
else:  # beside the generated locustfile, whose folder's parent is on sys.path
    import perfspec_locust_results as results
    from perfspec_locust_checks import (
        Upload,
        expect,
        expect_json,
        expect_text,
        header,
        json_equal,
        json_value,
        match_json,
        multipart,
        next_page,
        query_string,
        retry_after,
        retry_wait,
        text_of,
    )
    from perfspec_locust_shape import ProfileShape

__all__ = [  # what the generated locustfiles may import (the Locust backend reads this list)
    "MissingValue",
    "PerfspecUser",
    "ProfileShape",
    "Rows",
    "Upload",
    "abort_when",
    "basic_auth",
    "env",
    "env_text",
    "expect",
    "expect_json",
    "expect_text",
    "header",
    "json_equal",
    "json_value",
    "match_json",
    "multipart",
    "need_env",
    "next_page",
    "query_string",
    "test_user",
    "retry_after",
    "retry_wait",
    "uuid",
]

# the recording side, under the names the locustfiles and tests know
Histogram, Series, cause, record, round3 = (
    results.Histogram,
    results.Series,
    results.cause,
    results.record,
    results.round3,
)
RUN = results.RUN
abort_when = results.abort_when


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


class Rows:
    """A data set's rows for the users (`http.data`): a CSV file with a header line or a JSON
    array of objects, read once per process; `PerfspecUser.feed` hands each user one row. With
    several worker processes each reads the file and starts at its first row."""

    def __init__(self, path: str, random: bool = False) -> None:
        import csv
        import itertools

        try:
            with open(path, encoding="utf-8", newline="") as handle:
                rows = list(csv.DictReader(handle)) if path.endswith(".csv") else json.load(handle)
        except (OSError, ValueError, csv.Error) as exc:
            raise SystemExit(
                f"perfspec: cannot read data file {path}: {exc} (paths are relative to the "
                "folder perfspec build ran in)"
            ) from None
        if not rows:
            raise SystemExit(f"perfspec: data file {path} has no rows")
        self.path, self.rows, self.random = path, rows, random
        self.users, self.iterations = itertools.count(), itertools.count()

    def take(self, iteration: bool = False) -> dict[str, Any]:
        """The next user's row (user N takes row N), or with `iteration` the next task run's
        (the test's run N takes row N), as k6 numbers its VUs and iterations."""
        if self.random:
            import random

            return random.choice(self.rows)
        return self.rows[next(self.iterations if iteration else self.users) % len(self.rows)]


class MissingValue(RuntimeError):
    """A variable used before any response provided it (e.g. a token before login)."""

    def __str__(self) -> str:
        return f"variable {{{self.args[0]}}} has no value yet"


SHARED: dict[str, Any] = {}  # the values http.setup's calls extracted, copied into every user


def test_user(endpoints: type, environment: Any) -> Any:
    """A user of its own for http.setup / http.teardown (run once per process: with distributed
    workers, once per worker)."""
    host = environment.host or endpoints.host
    user = type("TestLevel", (endpoints,), {"abstract": True, "host": host})(environment)
    user.test_level = True
    return user


class PerfspecUser(FastHttpUser):
    """A flow's user: its own variables, and failures recorded with their cause."""

    abstract = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vars: dict[str, Any] = dict(SHARED)  # what http.setup extracted, for every user
        self.first_failure: tuple[str, str] | None = None  # (call, cause) since the user started
        self.failures = 0  # this user's failed calls (a sequence stops at its first)
        self._context = {"perfspec_user": self}

    def context(self) -> dict:
        """Every request's context (Locust copies it into the request's): failures are traced to
        their user."""
        return self._context

    def finished(self, key: str) -> None:
        """The end of http.setup (key "setup") or http.teardown: its values go to every user; a
        failed setup call stops the test, which then reports why (its result file says aborted)."""
        if key == "setup":
            SHARED.update(self.vars)
        if self.first_failure is None:
            return
        name, error = self.first_failure
        reason = f"http.{key} call {name} failed ({error})"
        print(f"perfspec: {reason}", file=sys.stderr, flush=True)
        if key == "setup" and RUN["aborted"] is None:
            import gevent

            RUN["aborted"] = reason + ": the users never started"
            gevent.spawn_later(0, self.environment.runner.quit)

    def on_start_calls(self, flow: str, *steps: Any) -> None:
        """on_start's calls in order, up to the first that fails: then the user stops (Locust's
        StopUser) instead of making calls for values it never got; the run reports it once."""
        for step in steps:
            step()
            if self.first_failure is not None:
                break
        self.started(flow)

    def started(self, flow: str) -> None:
        """The end of on_start: when one of its calls failed the user stops (Locust's StopUser)
        instead of failing every later call for a value it never got; the run reports it."""
        if self.first_failure is not None:
            results.stopped(flow, *self.first_failure)
            raise StopUser()

    def sequence(self, *steps: Any) -> None:
        """An ordered sequence, one task: each call in turn; the first that fails ends it (the
        calls after it would lack what it should have returned)."""
        for step in steps:
            before = self.failures
            step()
            if self.failures > before:
                return

    def feed(self, rows: Rows, iteration: bool = False) -> None:
        """This user's row of a data set (with `iteration`: this task run's): each column becomes
        {user.COLUMN}."""
        for key, value in rows.take(iteration).items():
            self.vars[f"user.{key}"] = value

    def var(self, name: str) -> str:
        """A per-user value as text; MissingValue before any response provided it."""
        value = self.vars.get(name)
        if value is None:
            raise MissingValue(name)
        return value if isinstance(value, str) else text_of(value)

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

"""`retry:` in the generated Locust and k6 files against a server that rate-limits like real ones:
429 with Retry-After (seconds and HTTP dates) and 409 conflicts. Retried answers are no failures,
the waits follow Retry-After, and a server that never relents fails the call after the attempts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate
from pathlib import Path

import pytest

from perfspec.runtime.checker import read_results

from .servers.json_api import json_server, run_tool
from .test_real_servers import build

pytestmark = pytest.mark.tools

SPEC = """\
version: 1
name: limited
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    create: {post: /records, json: {name: "r-{uuid}"}, expect: {status: [201]}, extract: {rid: $.id},
             retry: {on: [409, 429], attempts: 4, backoff: 50ms}}
    read: {get: "/records/{rid}", retry: {on: [429], attempts: 3, backoff: 20ms}}
  flows:
    writer: {on_start: [create], tasks: {read: 3, create: 1}, think_time: 20ms..40ms}
profiles:
  short: {users: 1, for: 4s}
targets:
  - {name: all, select: {class: null}, error_rate: < 1%}
"""


@contextmanager
def limited_server(relent: bool) -> Iterator[tuple[str, dict]]:
    """POSTs: the first answers 429 with Retry-After 1 (seconds, the header name canonicalised as
    Go's net/http writes it), every 4th 429 with Retry-After 0, every 5th 409; GETs: every 4th
    answers 429 with Retry-After as an HTTP date (now: no wait). With relent=False every GET
    answers 429."""
    seen: dict = {"posts": 0, "gets": 0, "limited": [], "retried_after": []}
    lock = threading.Lock()

    def answer(method: str, _path: str, _body: bytes) -> tuple[int, object, dict]:
        with lock:
            now = time.monotonic()
            if method == "GET":
                seen["gets"] += 1
                if not relent or seen["gets"] % 4 == 0:
                    return 429, {"error": "slow down"}, {"Retry-After": formatdate(usegmt=True)}
                return 200, {"ok": True}, {}
            seen["posts"] += 1
            if seen["posts"] == 2:  # the call after the first 429
                seen["retried_after"].append(now - seen["limited"][0])
            if seen["posts"] == 1:  # on_start's: wait a second, says the server
                seen["limited"].append(now)
                return 429, {"error": "slow down"}, {"Retry-after": "1"}
            if seen["posts"] % 4 == 0:
                return 429, {"error": "slow down"}, {"Retry-After": "0"}
            if seen["posts"] % 5 == 0:
                return 409, {"error": "conflict"}, {}
            return 201, {"id": f"r{seen['posts']}"}, {}

    with json_server(answer) as url:
        yield url, seen


@pytest.mark.parametrize("tool", ["locust", "k6"])
def test_retry_honours_retry_after_and_fails_only_when_the_server_never_relents(
    tool: str, tmp_path: Path
) -> None:
    spec = tmp_path / "limited.yaml"
    spec.write_text(SPEC.replace("select: {class: null}", "select: {endpoint: [create, read]}"))
    folder = build(spec, tmp_path / "gen")
    with limited_server(relent=True) as (url, seen):
        proc = run_tool(tool, folder, url, tmp_path / "ok")
        waits = list(seen["retried_after"])
    series, _ = read_results([tmp_path / "ok"])
    by_name = {s.name: s for s in series}
    assert by_name["read"].count > 5, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert sum(s.failures for s in series) == 0, {s.name: s.errors for s in series}
    assert by_name["read"].statuses.get("429", 0) > 0 and by_name["create"].statuses.get("429", 0) > 0
    # the POST after the first 429 came after its Retry-After (1 s), not after the 50 ms backoff
    assert len(waits) == 1 and waits[0] >= 0.9, waits

    with limited_server(relent=False) as (url, seen):
        run_tool(tool, folder, url, tmp_path / "never")
        gets = seen["gets"]
    series, _ = read_results([tmp_path / "never"])
    read = next(s for s in series if s.name == "read")
    assert read.failures > 0 and set(read.errors) == {"HTTP 429 after 3 attempts"}, read.errors
    # every call tried three times, no more (Locust may stop its user between a call's attempts)
    assert 0 <= gets - 3 * read.failures <= 2, (gets, read.failures)

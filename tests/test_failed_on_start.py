"""A user whose on_start fails stops, and the run says so once with its cause, in Locust and k6:
no flood of "variable {session} has no value yet" for every later call, and a verdict that warns
that the profile's load was not the load measured."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from perfspec.runtime.checker import read_results

from .conftest import ROOT
from .servers.json_api import json_server, run_tool
from .test_real_servers import build

pytestmark = pytest.mark.tools

SPEC = """\
version: 1
name: sessions
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    open_session: {post: /sessions, expect: {status: [201]}, extract: {session: $.id}}
    read: {get: "/sessions/{session}/data"}
  flows:
    reader:
      on_start: [open_session]
      tasks: [read]
      think_time: 10ms..20ms
profiles:
  short: {users: 3, for: 3s}
targets:
  - {name: reads, select: {endpoint: read}, error_rate: < 1%}
"""


@contextmanager
def sessions_server(open_status: int) -> Iterator[tuple[str, Counter]]:
    seen: Counter = Counter()

    def answer(method: str, _path: str, _body: bytes) -> tuple[int, object, dict]:
        if method == "POST":
            seen["open"] += 1
            return open_status, {"id": "s1"} if open_status == 201 else {"error": "unavailable"}, {}
        seen["read"] += 1
        return 200, {"ok": True}, {}

    with json_server(answer) as url:
        yield url, seen


@pytest.mark.parametrize("tool", ["locust", "k6"])
def test_a_user_whose_on_start_fails_stops_and_the_verdict_says_why(tool: str, tmp_path: Path) -> None:
    spec = tmp_path / "sessions.yaml"
    spec.write_text(SPEC)
    folder = build(spec, tmp_path / "gen")
    with sessions_server(503) as (url, seen):
        proc = run_tool(tool, folder, url, tmp_path / "bad")
        opened, reads = seen["open"], seen["read"]
    assert opened == 3 and reads == 0, (seen, proc.stderr[-2000:])  # each user tried once, then stopped
    series, meta = read_results([tmp_path / "bad"])
    errors = {e for s in series for e in s.errors}
    assert not any("has no value yet" in e for e in errors), errors
    assert meta["stopped"][tool] == {"flow reader: on_start call open_session failed (HTTP 503)": 3}
    if tool == "locust":  # printed once, not once per user
        assert proc.stderr.count("perfspec: a user stops: flow reader") == 1, proc.stderr[-2000:]
    check = subprocess.run(
        [*_perfspec(), "check", str(spec), str(tmp_path / "bad"), "--report", str(tmp_path / "report")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    verdicts = json.loads((tmp_path / "report" / "verdicts.json").read_text())
    reasons = " ".join(r for v in verdicts for r in v["reasons"])
    assert f"{tool}: 3 users stopped: flow reader: on_start call open_session failed (HTTP 503)" in reasons
    assert check.returncode != 0

    with sessions_server(201) as (url, seen):  # the same files against a server that works
        run_tool(tool, folder, url, tmp_path / "good")
        reads = seen["read"]
    series, meta = read_results([tmp_path / "good"])
    assert reads > 20 and sum(s.failures for s in series) == 0 and not meta["stopped"]


def _perfspec() -> list[str]:
    import sys

    return [sys.executable, "-m", "perfspec.compiler.cli"]

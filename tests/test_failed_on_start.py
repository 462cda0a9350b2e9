"""A user whose on_start fails stops, and the run says so once with its cause, in Locust and k6:
no flood of "variable {session} has no value yet" for every later call, and a verdict that warns
that the profile's load was not the load measured."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from perfspec.runtime.checker import read_results

from .conftest import ROOT, require_tool
from .test_real_servers import build

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

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args) -> None:
            pass

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen["open"] += 1
            self._send(open_status, {"id": "s1"} if open_status == 201 else {"error": "unavailable"})

        def do_GET(self) -> None:  # noqa: N802
            seen["read"] += 1
            self._send(200, {"ok": True})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def run(tool: str, folder: Path, url: str, results: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "API_URL": url, "PERFSPEC_RESULTS_DIR": str(results), "K6_NO_USAGE_REPORT": "true"}
    results.mkdir(parents=True)
    if tool == "locust":
        cmd = [require_tool("locust"), "-f", str(folder / "locustfile.py"), "--headless", "--only-summary"]
    else:
        cmd = [require_tool("k6"), "run", "--out", f"json={results / 'k6.ndjson'}", str(folder / "k6.js")]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("tool", ["locust", "k6"])
def test_a_user_whose_on_start_fails_stops_and_the_verdict_says_why(tool: str, tmp_path: Path) -> None:
    spec = tmp_path / "sessions.yaml"
    spec.write_text(SPEC)
    folder = build(spec, tmp_path / "gen")
    with sessions_server(503) as (url, seen):
        proc = run(tool, folder, url, tmp_path / "bad")
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
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    verdicts = json.loads((tmp_path / "report" / "verdicts.json").read_text())
    reasons = " ".join(r for v in verdicts for r in v["reasons"])
    assert f"{tool}: 3 users stopped: flow reader: on_start call open_session failed (HTTP 503)" in reasons
    assert check.returncode != 0

    with sessions_server(201) as (url, seen):  # the same files against a server that works
        run(tool, folder, url, tmp_path / "good")
        reads = seen["read"]
    series, meta = read_results([tmp_path / "good"])
    assert reads > 20 and sum(s.failures for s in series) == 0 and not meta["stopped"]


def _perfspec() -> list[str]:
    import sys

    return [sys.executable, "-m", "perfspec.compiler.cli"]

"""A run against a missing or dying server stops in seconds and says why (preflight, abort rule)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import ROOT, require_tool
from .servers.records import records_server

pytestmark = pytest.mark.tools

SPEC = """\
version: 1
name: records-long
hosts:
  api: {url: "${API_URL:-http://127.0.0.1:9}", health: /records/none}
http:
  defaults: {host: api, expect: {status: [200, 201, 404]}}
  endpoints:
    create_record: {post: /records, json: {name: "r-{uuid}"}, class: write, expect: {status: [201]}}
    missing_record: {get: /records/none, class: read}
  flows:
    writer:
      tasks: {create_record: 1, missing_record: 1}
      think_time: 20ms..40ms
profiles:
  long: {users: 3, for: 60s}
targets:
  - {name: writes, select: {class: write}, p95: < 500ms, error_rate: < 1%}
"""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def perfspec_run(
    tmp_path: Path, url: str, *args: str, abort_after: str = "3", text: str = SPEC
) -> tuple[subprocess.CompletedProcess, float]:
    """`perfspec run` of the spec `text` against `url`; its process and how long it took."""
    spec = tmp_path / "records_long.yaml"
    spec.write_text(text)
    env = {**os.environ, "API_URL": url, "PERFSPEC_ABORT_AFTER": abort_after}
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "perfspec.compiler.cli",
            "run",
            str(spec),
            "--out",
            str(tmp_path / "results"),
            *args,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return proc, time.monotonic() - started


def verdicts(tmp_path: Path) -> dict:
    [run] = list((tmp_path / "results").iterdir())
    return {v["target"]: v for v in json.loads((run / "verdicts.json").read_text())}


def test_a_closed_port_stops_the_run_in_seconds_naming_the_host_line(tmp_path: Path) -> None:
    proc, elapsed = perfspec_run(tmp_path, f"http://127.0.0.1:{closed_port()}", "--only", "locust,k6")
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert elapsed < 5, elapsed
    line = next(ln for ln in proc.stderr.splitlines() if "error: host 'api'" in ln)
    assert line.startswith(f"{tmp_path / 'records_long.yaml'}:4:") or "records_long.yaml:4:" in line, line
    assert "connection refused" in line and "--demo" in proc.stderr
    assert "running locust" not in proc.stdout  # no load was sent


def test_a_failing_health_request_stops_the_run(tmp_path: Path) -> None:
    with records_server() as (url, _seen):  # GET /records/none answers 404: not healthy
        proc, _ = perfspec_run(tmp_path, url, "--only", "k6")
    assert proc.returncode == 2
    assert "HTTP 404 from the health request GET /records/none" in proc.stderr


def test_without_preflight_a_dead_target_aborts_within_the_window(tmp_path: Path) -> None:
    require_tool("locust")
    require_tool("k6")
    proc, elapsed = perfspec_run(
        tmp_path, f"http://127.0.0.1:{closed_port()}", "--no-preflight", "--only", "locust,k6"
    )
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert elapsed < 60, elapsed  # two 60 s profiles, each stopped ~3 s in
    v = verdicts(tmp_path)["writes"]
    reasons = " ".join(v["reasons"])
    assert "locust run aborted: every request failed for 3s" in reasons, reasons
    assert "k6 run aborted: every request failed for 3s" in reasons, reasons
    assert "connection refused" in reasons


def test_a_target_killed_mid_run_aborts_and_the_verdict_names_the_cause(tmp_path: Path) -> None:
    require_tool("k6")
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.servers.records"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        url = server.stdout.readline().strip() if server.stdout else ""
        killer = threading.Timer(3.0, server.kill)  # 3 s in, SIGKILL: every connection drops at once
        killer.start()
        proc, elapsed = perfspec_run(tmp_path, url, "--only", "k6", "--no-preflight")
        killer.cancel()
    finally:
        server.kill()
        server.wait(timeout=10)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert elapsed < 40, elapsed  # a 60 s profile, stopped ~3 s after the target died
    v = verdicts(tmp_path)["writes"]
    reasons = " ".join(v["reasons"])
    assert "k6 run aborted: every request failed for 3s" in reasons, reasons
    assert "commonest causes:" in reasons and "connection refused" in reasons, reasons
    assert v["samples"] > 0  # the partial results before the abort are kept and judged


def test_an_unreachable_database_stops_the_run_naming_its_spec_line(tmp_path: Path) -> None:
    env = {**os.environ, "PERFSPEC_DSN": f"postgresql://u:canary-pw@127.0.0.1:{closed_port()}/x"}
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "perfspec.compiler.cli",
            "run",
            "specs/quickstart.yaml",
            "--only",
            "sql",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and time.monotonic() - started < 10, proc.stdout + proc.stderr
    line = next(ln for ln in proc.stderr.splitlines() if "error: database" in ln)
    assert line.startswith("specs/quickstart.yaml:12:") and "connection refused" in line, line
    assert "canary-pw" not in proc.stdout + proc.stderr  # the password is masked


def _kill_tool_after(seconds: float, marker: str) -> threading.Timer:
    """SIGKILL the process whose command line holds `marker` (a tool perfspec run started)."""

    def kill() -> None:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmdline = (Path("/proc") / pid / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmdline and "perfspec.compiler.cli" not in cmdline:
                os.kill(int(pid), 9)

    timer = threading.Timer(seconds, kill)
    timer.start()
    return timer


def test_a_tool_killed_mid_run_exits_1_and_allow_partial_judges_it_as_warn(tmp_path: Path) -> None:
    """k6 SIGKILLed 4 s into a 60 s profile: the run fails (exit 1, naming the signal) instead of
    passing on 4 s of data; `check --allow-partial` of the same folder judges what it measured as
    warn at best (exit 0)."""
    require_tool("k6")
    with records_server() as (url, _seen):
        timer = _kill_tool_after(4.0, "records_long/k6.js")
        proc, elapsed = perfspec_run(tmp_path, url, "--only", "k6", "--no-preflight")
        timer.cancel()
    assert elapsed < 40, proc.stdout[-2000:] + proc.stderr[-2000:]  # a 60 s profile: k6 died at 4 s
    [run] = list((tmp_path / "results").iterdir())
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["partial"] is True and manifest["partial_tools"] == {"k6": "killed by SIGKILL"}
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "k6: killed by SIGKILL after" in proc.stdout, proc.stdout[-3000:]
    v = verdicts(tmp_path)["writes"]
    assert v["status"] == "fail" and v["samples"] > 0, v  # it would pass on 4 s of data
    why = "k6 did not finish (killed by SIGKILL): a partial run fails"
    assert any(r.startswith(why) for r in v["reasons"]), v["reasons"]
    # `perfspec check --allow-partial` on the same folder: the run's manifest says it was partial
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "perfspec.compiler.cli",
            "check",
            str(tmp_path / "records_long.yaml"),
            str(run / "results"),
            "--report",
            str(tmp_path / "report"),
            "--allow-partial",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-2000:]
    reasons = [
        r for v in json.loads((tmp_path / "report" / "verdicts.json").read_text()) for r in v["reasons"]
    ]
    assert any("judged on partial results (--allow-partial)" in r for r in reasons), reasons


WRONG_BASE = """\
version: 1
name: wrong-base
hosts:
  api: {url: "${API_URL}"}
http:
  defaults: {host: api}
  endpoints:
    list: {get: /items, expect: {status: [200]}}
    limited: {get: /limited, expect: {status: [200, 429]}}
  flows:
    reader: {tasks: {list: 1, limited: 1}, think_time: 20ms..40ms}
profiles:
  long: {users: 2, for: 60s}
targets:
  - {name: reads, select: {flow: reader}, p95: < 500ms, error_rate: < 1%}
"""


def test_every_call_answered_with_an_unexpected_4xx_aborts_both_tools(tmp_path: Path) -> None:
    """A wrong base URL (every call 404) stops the run in seconds, as a dead target does: in
    Locust and in k6 alike, the verdict naming the status. (A 4xx a call expects is an answer:
    SPEC's missing_record expects its 404, and the runs above go on until their fault.)"""
    from .servers.json_api import json_server

    require_tool("locust")
    require_tool("k6")
    with json_server(lambda method, path, body: (404, {"error": "no route"}, {})) as url:
        proc, elapsed = perfspec_run(tmp_path, url, text=WRONG_BASE)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert elapsed < 60, elapsed  # two 60 s profiles, each stopped ~3 s in
    reasons = " ".join(verdicts(tmp_path)["reads"]["reasons"])
    assert "locust run aborted: every request failed for 3s (HTTP 404)" in reasons, reasons
    assert "k6 run aborted: every request failed for 3s (HTTP 404)" in reasons, reasons


MOSTLY_FAILING = """\
version: 1
name: mostly-failing
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    item: {get: /item, expect: {status: [200]}}
profiles:
  short: {users: 1, for: 4s}
"""


def test_a_target_that_still_answers_now_and_then_is_never_aborted(tmp_path: Path) -> None:
    """Seven requests in eight fail, the eighth is answered (a pattern k6's abort rule could miss
    if it judged by the one status in 8 it reads while the target answers): with a 1 s window,
    neither tool stops the 4 s run, since every user keeps getting answers. k6 reads each status
    from a failure to the next answer, so its clock never starts before a failure."""
    from .servers.json_api import json_server

    require_tool("locust")
    require_tool("k6")
    calls = iter(range(10**9))
    lock = threading.Lock()

    def answer(method, path, body):
        with lock:
            n = next(calls)
        return (200, {"n": n}, {}) if n % 8 == 7 else (500, {"error": "busy"}, {})

    with json_server(answer) as url:
        proc, elapsed = perfspec_run(tmp_path, url, abort_after="1", text=MOSTLY_FAILING)
    assert "aborted" not in proc.stdout + proc.stderr, proc.stdout[-3000:]
    assert elapsed > 8, elapsed  # both 4 s runs went their whole length
    [run] = list((tmp_path / "results").iterdir())
    manifest = json.loads((run / "manifest.json").read_text())
    assert not manifest.get("aborted"), manifest
    assert {tool: e["seconds"] >= 4 for tool, e in manifest["exit"].items()} == {"locust": True, "k6": True}

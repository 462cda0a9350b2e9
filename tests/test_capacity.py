"""`perfspec capacity` on a server whose capacity is known: a single worker with a fixed 10 ms
service time serves exactly 100 requests/s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perfspec.runtime import capacity

from .conftest import require_tool
from .servers.behaviour import behaviour_server

SPEC = """\
version: 1
name: cap
hosts:
  app: {url: "${TARGET_URL}"}
http:
  defaults: {host: app}
  endpoints:
    work: {get: /work}
  flows:
    main: {tasks: [work]}
profiles:
  steady: {rate: 50/s, for: 10s, max_users: 50}
targets:
  - {name: work, select: {endpoint: work}, p95: < 50ms, error_rate: < 1%}
capacity: {profile: steady, start: 25/s, max: 400/s, step: 8s, warmup: 2s, budget: 3m}
"""


def fake(limit: float, seconds: float = 10.0):
    def run_step(rate: float) -> capacity.Step:
        return capacity.Step(rate, rate <= limit, seconds)

    return run_step


def test_the_search_doubles_then_bisects_to_the_resolution() -> None:
    steps, held, failed, stopped = capacity.search(fake(300), 20, 5000, budget=1e9, log=lambda _: None)
    assert [s.rate for s in steps][:5] == [20, 40, 80, 160, 320]  # doubling until 320 fails
    assert held is not None and failed is not None
    assert held <= 300 < failed and (failed - held) / held <= capacity.RESOLUTION
    assert stopped == "resolution reached"


def test_the_search_reports_the_edges_and_stops_on_its_budget() -> None:
    _, held, failed, stopped = capacity.search(fake(1e9), 20, 100, budget=1e9, log=lambda _: None)
    assert (held, failed) == (100, None) and "--max 100/s reached" in stopped
    _, held, failed, _ = capacity.search(fake(3), 20, 100, budget=1e9, log=lambda _: None)
    # halving from 20 until 2.5/s holds, then bisecting up to the resolution
    assert held is not None and failed is not None and held <= 3 < failed and (failed - held) / held <= 0.1
    now = [0.0]

    def slow(rate: float) -> capacity.Step:
        now[0] += 60
        return capacity.Step(rate, rate <= 300, 60)

    steps, held, _, stopped = capacity.search(
        slow, 20, 5000, budget=200, log=lambda _: None, clock=lambda: now[0]
    )
    assert len(steps) == 3 and held == 80 and stopped == "time budget spent"


def test_ctrl_c_reports_the_best_rate_known() -> None:
    def interrupted(rate: float) -> capacity.Step:
        if rate > 100:
            raise KeyboardInterrupt
        return capacity.Step(rate, True, 1)

    _, held, _, stopped = capacity.search(interrupted, 25, 1000, budget=1e9, log=lambda _: None)
    assert held == 100 and stopped.startswith("interrupted")


@pytest.mark.slow
@pytest.mark.alone
@pytest.mark.tools
def test_capacity_of_a_known_server_within_15_percent_in_bounded_time(tmp_path: Path) -> None:
    require_tool("k6")
    (tmp_path / "pyproject.toml").write_text("")
    spec = tmp_path / "cap.yaml"
    spec.write_text(SPEC)
    began = time.monotonic()
    with behaviour_server(service=0.010) as url:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "perfspec.compiler.cli",
                "capacity",
                str(spec),
                "--out",
                str(tmp_path / "runs"),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**os.environ, "TARGET_URL": url},
            timeout=300,
        )
    took = time.monotonic() - began
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    [run] = [p for p in (tmp_path / "runs").iterdir()]
    data = json.loads((run / "capacity.json").read_text())
    assert 85 <= data["capacity"] <= 115, data["summary"]  # the truth is 100/s
    assert data["above"] is not None and data["above"] > data["capacity"]
    assert took < 180, took
    page = (run / "capacity.html").read_text()
    assert "<svg" in page and f"capacity {data['capacity']:g}/s" in page and "p95 bound 50ms" in page
    # every step's evidence is kept, and the search is in the history
    assert len(list(run.glob("step-*/k6.ndjson"))) == len(data["steps"])
    history = subprocess.run(
        [
            sys.executable,
            "-m",
            "perfspec.compiler.cli",
            "history",
            "--results",
            str(tmp_path / "runs"),
            "--markdown",
            str(tmp_path / "h.md"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert history.returncode == 0, history.stderr
    assert f"{data['capacity']:.2f}/s" in (tmp_path / "h.md").read_text()

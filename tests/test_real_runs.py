"""The generated locustfile and k6 script, run by the real tools against the real demo target."""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from perfspec.compiler.backends.k6 import K6Backend
from perfspec.compiler.backends.locust import LocustBackend
from perfspec.compiler.plan import build_plan
from perfspec.compiler.validate import check_file
from perfspec.runtime.checker import read_results

from .conftest import require_tool
from .demo import demo_target

pytestmark = pytest.mark.tools

MIX = Path(__file__).parent / "specs" / "mix.yaml"


def generate(tmp_path: Path) -> Path:
    plan = build_plan(check_file(MIX))
    for art in LocustBackend().emit(plan) + K6Backend().emit(plan):
        target = tmp_path / art.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(art.content)
    return tmp_path / "mix"


def test_locust_runs_weighted_mix_with_token_and_expected_429(tmp_path: Path) -> None:
    locust = require_tool("locust")
    folder = generate(tmp_path)
    with demo_target("--login-rate", "2") as url:
        env = {**os.environ, "API_URL": url, "PERFSPEC_RESULTS_DIR": str(tmp_path / "res")}
        proc = subprocess.run(
            [locust, "-f", str(folder / "locustfile.py"), "--headless", "--only-summary"],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
    files = glob.glob(str(tmp_path / "res" / "locust-*.json"))
    assert files, proc.stderr[-2000:]
    series = json.loads(Path(files[0]).read_text())["series"]
    for name in ("register", "login", "create_agent", "list_agents", "get_agent", "verify"):
        assert series[name]["count"] > 0, name
    # 3:2:1:1 weighted tasks (create_agent also runs once per user in on_start)
    lists, gets = series["list_agents"]["count"], series["get_agent"]["count"]
    assert 1.2 < lists / gets < 1.9, (lists, gets)
    # the rate limit answered 429, and the spec expects it: success, not failure
    assert series["login"]["statuses"].get("429", 0) > 0
    assert series["login"]["failures"] == 0
    # the token extracted at login is sent on later requests: verify accepts it
    assert series["verify"]["statuses"].get("200", 0) > 0
    assert sum(h[1] for h in series["list_agents"]["histogram"]) == lists


def run_k6(folder: Path, url: str, results: Path) -> subprocess.CompletedProcess:
    k6 = require_tool("k6")
    env = {**os.environ, "API_URL": url, "PERFSPEC_RESULTS_DIR": str(results), "K6_NO_USAGE_REPORT": "true"}
    results.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [k6, "run", "--out", f"json={results / 'k6.ndjson'}", str(folder / "k6.js")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_k6_runs_mix_and_passes_thresholds(tmp_path: Path) -> None:
    folder = generate(tmp_path)
    with demo_target() as url:
        proc = run_k6(folder, url, tmp_path / "res")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    # k6's own end-of-test summary is kept, with one threshold per target bound; a target that
    # selects one class is keyed by that class (a tag every sample has), under the target's name
    assert "THRESHOLDS" in proc.stdout and "http_req_duration{class:crud}" in proc.stdout
    assert 'crud_fast: { "http_req_duration{class:crud}": ["p(95)<50"]' in (folder / "k6.js").read_text()
    # and before it a line per target, as k6 judged it, with what k6 measured
    assert re.search(
        r"✓ target crud_fast: http_req_duration\{class:crud\} p\(95\)<50 ✓ \(p\(95\)=[0-9.]+(ms|µs)\)",
        proc.stderr,
    )
    series, meta = read_results([tmp_path / "res"])
    counts = {s.name: s.count for s in series}
    assert counts["list_agents"] > 20 and sum(s.failures for s in series) == 0
    assert meta["k6"][0]["dropped_iterations"] == 0 and meta["k6"][0]["profile"] is not None


def test_k6_threshold_fails_when_demo_injects_latency(tmp_path: Path) -> None:
    folder = generate(tmp_path)
    with demo_target("--latency", "80ms") as url:
        proc = run_k6(folder, url, tmp_path / "res")
    assert proc.returncode == 99, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "thresholds on metrics 'http_req_duration{class:crud}'" in proc.stderr
    # the target by name, the bound it lost and by how much (the demo adds 80 ms to every call)
    lost = re.search(
        r"✗ target crud_fast: http_req_duration\{class:crud\} p\(95\)<50 ✗ \(p\(95\)=([0-9.]+)ms\)",
        proc.stderr,
    )
    assert lost and float(lost[1]) >= 80, proc.stderr[-2000:]
    assert "rate<0.01 ✓ (rate=0.00%)" in proc.stderr


@pytest.mark.parametrize("script", ["locustfile.py", "k6.js"])
def test_shipped_specs_generate_scripts_their_tools_accept(script: str) -> None:
    root = Path(__file__).resolve().parent.parent
    for path in sorted((root / "generated").glob(f"*/{script}")):
        if script.endswith(".py"):
            subprocess.run(["python3", "-m", "py_compile", str(path)], check=True)
        else:
            k6 = require_tool("k6")
            proc = subprocess.run(
                [k6, "inspect", str(path)],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "API_URL": "http://127.0.0.1:1"},
            )
            assert proc.returncode == 0, (path, proc.stderr[-1000:])

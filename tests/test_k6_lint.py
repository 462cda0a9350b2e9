"""Generated k6 scripts pass what a k6 engineer's CI runs on their own (#33): `node --check` as an
ES module, ESLint's recommended rules (.ci/setup.sh installs ESLint into .ci/npm) and `k6
inspect`; and no spec bound is silently dropped from k6's thresholds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import IN_CI, ROOT, require_tool

pytestmark = pytest.mark.tools

ESLINT = ROOT / ".ci" / "npm" / "node_modules" / ".bin" / "eslint"
CONFIG = ROOT / "tests" / "tools" / "eslint.config.mjs"


def k6_files() -> list[Path]:
    """Every generated k6 script: the shipped specs' and the golden cases' (every construct)."""
    files = sorted((ROOT / "generated").glob("*/k6.js")) + sorted(
        (ROOT / "tests" / "golden").glob("*/expected/k6.js")
    )
    assert len(files) >= 20
    return files


def test_generated_k6_scripts_and_the_support_module_pass_eslint_recommended() -> None:
    require_tool("node")
    if not ESLINT.exists():
        message = "npm package eslint missing (bash .ci/setup.sh installs it into .ci/npm)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    files = [*k6_files(), ROOT / "runtime" / "support" / "perfspec_k6.js"]
    proc = subprocess.run(
        [str(ESLINT), "--no-config-lookup", "-c", str(CONFIG), "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    found = [
        f"{Path(r['filePath']).relative_to(ROOT)}:{m.get('line')}: {m.get('ruleId')}: {m['message']}"
        for r in json.loads(proc.stdout or "[]")
        for m in r["messages"]
    ]
    assert found == [] and proc.returncode == 0, "\n".join(found) or proc.stderr


def test_generated_k6_scripts_parse_as_es_modules_and_k6_inspects_them(tmp_path: Path) -> None:
    node, k6 = require_tool("node"), require_tool("k6")
    for path in k6_files():
        module = tmp_path / "check.mjs"  # node reads a .js file as CommonJS; k6 scripts are modules
        shutil.copy(path, module)
        proc = subprocess.run([node, "--check", str(module)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"{path}: {proc.stderr}"
    for path in sorted((ROOT / "generated").glob("*/k6.js")):
        proc = subprocess.run([k6, "inspect", str(path)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"{path}: {proc.stderr[-2000:]}"


def test_two_targets_on_the_same_samples_keep_both_bounds_in_k6() -> None:
    """load_phases_analysis has targets `peak` (p95 < 120ms) and `peak_capacity` (p95 < 500ms)
    on the same samples: one threshold key holds both (a JS object keeps only the last of two
    equal keys: k6 silently ran without the stricter bound)."""
    k6 = require_tool("k6")
    path = ROOT / "generated" / "load_phases_analysis" / "k6.js"
    proc = subprocess.run(
        [k6, "inspect", "-e", "PERFSPEC_PROFILE=peak", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    thresholds = json.loads(proc.stdout)["thresholds"]
    assert thresholds["http_req_duration{profile:peak}"] == [
        "p(50)<21",
        "p(95)<120",
        "p(99)<330",
        "p(95)<500",
    ]


def test_each_flow_of_the_profile_is_a_scenario_of_its_own_with_its_share_of_the_users() -> None:
    """temponest_locust_mix: flows agent_runner (weight 1) and platform_user (3); `quick` holds 10
    users, `report` 100. k6 runs each flow's function in a scenario of its own, the users split
    3:7 and 25:75, every scenario tagged with the profile its thresholds select."""
    k6 = require_tool("k6")
    path = ROOT / "generated" / "temponest_locust_mix" / "k6.js"
    for profile, shares in (
        ("quick", {"agent_runner": 3, "platform_user": 7}),
        ("report", {"agent_runner": 25, "platform_user": 75}),
    ):
        proc = subprocess.run(
            [k6, "inspect", "-e", f"PERFSPEC_PROFILE={profile}", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        scenarios = json.loads(proc.stdout)["scenarios"]
        assert set(scenarios) == set(shares)
        for flow, users in shares.items():
            s = scenarios[flow]
            assert s["exec"] == flow and s["tags"] == {"profile": profile}
            assert [st["target"] for st in s["stages"]] == [users, users]


def test_a_call_never_sent_by_a_vu_carrying_its_endpoint_is_counted_failed(tmp_path: Path) -> None:
    """A flow of one task: its VU carries the endpoint's tags and the endpoint's PARAMS entry is
    gone, so the script reads its tags as `PARAMS.item?.tags` there (`PARAMS.x.tags` elsewhere).
    A path whose ${ENV} is unset sends nothing (no traffic) and counts a failed call, tagged."""
    from perfspec.runtime.checker import read_results

    from .inprocess import perfspec

    k6 = require_tool("k6")
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "s.yaml").write_text("""version: 1
name: solo
hosts:
  api: {url: "http://127.0.0.1:9"}
http:
  endpoints:
    item: {get: "/items/${ITEM_ID}"}
profiles:
  smoke: {users: 1, for: 1s}
""")
    assert perfspec("build", "s.yaml", "--out", "gen", cwd=tmp_path).code == 0
    script = tmp_path / "gen" / "s" / "k6.js"
    assert "user.missing(PARAMS.item?.tags, e)" in script.read_text()
    proc = subprocess.run(
        [k6, "run", "--quiet", "--iterations", "1", "--vus", "1", "--out", "json=out.ndjson", "s/k6.js"],
        cwd=tmp_path / "gen",
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "ITEM_ID"} | {"K6_NO_USAGE_REPORT": "true"},
    )
    assert proc.returncode == 0 and "TypeError" not in proc.stderr + proc.stdout, proc.stderr
    [series], _ = read_results([tmp_path / "gen" / "out.ndjson"])
    assert (series.name, series.count, series.failures) == ("item", 1, 1)
    assert series.errors == {"environment variable ITEM_ID is not set": 1}

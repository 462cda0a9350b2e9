"""Every seed spec in specs/ runs end to end on the embedded demo target (`perfspec run --demo`): a
target may fail only by its bound, never by a missing route, a refused connection or no data;
targets the spec marks `demo: false` are reported as not judged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, require_tool

pytestmark = [pytest.mark.tools, pytest.mark.slow]

# quickstart.yaml runs whole in test_check.py (every target passes), so it is not run twice
SPECS = sorted(p for p in (ROOT / "specs").glob("*.yaml") if p.name != "quickstart.yaml")
NOT_A_BOUND = (
    "no samples",
    "connection refused",
    "HTTP 404",
    "HTTP 405",
    "every one of",
    "aborted",
    "has no value yet",
    "cannot extract",
)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_spec_runs_on_the_demo_target_failing_only_by_its_bounds(spec: Path, tmp_path: Path) -> None:
    require_tool("locust")
    require_tool("k6")
    env = {k: v for k, v in os.environ.items() if k not in ("API_URL", "PERFSPEC_DSN")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "perfspec.compiler.cli",
            "run",
            str(spec),
            "--demo",
            "--duration",
            "4s",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    [run] = list(tmp_path.iterdir())
    verdicts = json.loads((run / "verdicts.json").read_text())
    targets = {
        t["name"]: t
        for t in json.loads((run / "artifacts" / spec.stem / "targets.json").read_text())["targets"]
    }
    for v in verdicts:
        t = targets[v["target"]]
        reasons = " ".join(v["reasons"])
        if t.get("demo") is False:
            assert v["status"] == "warn" and "not judged" in reasons, v
            continue
        if t["kind"] == "scaling" or t.get("regression"):
            continue  # cross-run targets: judged against another run (a baseline, another profile)
        assert not [r for r in NOT_A_BOUND if r in reasons], (v["target"], reasons)
        if v["status"] == "fail":  # then by a measured value beyond its bound
            assert any(s["measured"] is not None and not s["ok"] for s in v["stats"]), v

"""`perfspec history` over run folders as `perfspec run` writes them (manifest + verdicts.json)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from perfspec.runtime import reports
from perfspec.runtime.checker import StatVerdict, Verdict

from .conftest import ROOT

pytestmark = pytest.mark.tools


def write_run(
    root: Path,
    run_id: str,
    started: float,
    p95_ms: float | None,
    spec: str = "specs/quickstart.yaml",
    note: str | None = None,
) -> None:
    folder = root / run_id
    folder.mkdir(parents=True)
    ok = p95_ms is not None and p95_ms < 200
    api = Verdict(
        "api",
        "pass" if ok else "fail",
        12,
        spec,
        100 if p95_ms else 0,
        stats=[
            StatVerdict("p95", "< 100ms", "warn", p95_ms / 1000 if p95_ms else None, "s", ok, 12),
            StatVerdict("p95", "< 200ms", "fail", p95_ms / 1000 if p95_ms else None, "s", ok, 12),
        ],
    )
    health = Verdict(
        "health",
        "pass",
        10,
        spec,
        50,
        stats=[StatVerdict("error_rate", "< 1%", "fail", 0.0, "ratio", True, 10)],
    )
    (folder / "verdicts.json").write_text(reports.as_json([health, api]))
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "spec": spec,
                "profile": "smoke",
                "started": started,
                "commit": "abc1234",
                "note": note,
                "partial": False,
            }
        )
    )


def history(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", "history", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_history_lists_runs_oldest_first_with_headline_values_and_trend(tmp_path: Path) -> None:
    root = tmp_path / "results"
    write_run(root, "b-run", 1_800_000_100, 150.0, note="after the index")
    write_run(root, "a-run", 1_800_000_000, 100.0)
    write_run(root, "c-run", 1_800_000_200, None)  # no samples: a failing run without a value
    write_run(root, "other", 1_800_000_300, 50.0, spec="specs/other.yaml")
    (root / "interrupted").mkdir()
    (root / "interrupted" / "manifest.json").write_text("{}")  # never judged: skipped
    proc = history(
        "specs/quickstart.yaml", "--results", str(root), "--markdown", str(tmp_path / "h.md"), cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    lines = (tmp_path / "h.md").read_text().splitlines()
    assert lines[0] == "| date (UTC) | run | profile | verdicts | health error_rate | api p95 | notes |"
    rows = [line.split(" | ") for line in lines[2:]]
    assert [r[1] for r in rows] == ["a-run", "b-run", "c-run", ""]  # oldest first, then the trend
    assert rows[0][0] == "| 2027-01-15 08:00"
    assert rows[0][5] == "100.0ms ✓" and rows[1][5] == "150.0ms ✓" and rows[2][5] == "no data ✗"
    assert rows[1][3] == "2 pass, 0 warn, 0 fail" and rows[2][3] == "1 pass, 0 warn, 1 fail"
    assert rows[1][6] == "after the index; commit abc1234 |"
    assert rows[3][5] == "▁█  +50.0%"  # 100 -> 150 ms, then no value; change of the last two known
    assert "other" not in "\n".join(lines)  # another spec's run


def test_history_without_results_is_a_clear_error(tmp_path: Path) -> None:
    proc = history("--results", str(tmp_path / "nope"), cwd=tmp_path)
    assert proc.returncode == 2 and "no such folder" in proc.stderr and "Traceback" not in proc.stderr
    (tmp_path / "empty").mkdir()
    proc = history("--results", str(tmp_path / "empty"), cwd=tmp_path)
    assert proc.returncode == 0 and "no judged runs" in proc.stdout

"""Project settings (perfspec.toml, or [tool.perfspec] in pyproject.toml): the defaults of
specs, generated/ and report folders; the command line still wins; a mistake is named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.tools

SPEC = """\
version: 1
name: tiny
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    health: {get: /health}
profiles:
  smoke: {users: 1, for: 5s}
targets:
  - {name: health, select: {endpoint: health}, p95: < 1s}
"""


def perfspec(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pyproject_settings_change_the_defaults_and_options_win(tmp_path: Path) -> None:
    (tmp_path / "perf").mkdir()
    (tmp_path / "perf/tiny.yaml").write_text(SPEC)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.perfspec]\nspecs = ["perf/*.yaml"]\ngenerated = "out/gen"\n'
    )
    valid = perfspec(tmp_path, "validate")
    assert valid.returncode == 0 and "perf/tiny.yaml: ok" in valid.stdout, valid.stdout + valid.stderr
    assert perfspec(tmp_path, "build").returncode == 0
    assert (tmp_path / "out/gen/tiny/k6.js").is_file() and not (tmp_path / "generated").exists()
    assert perfspec(tmp_path, "build", "--out", "elsewhere").returncode == 0
    assert (tmp_path / "elsewhere/tiny/k6.js").is_file()  # the command line wins
    assert perfspec(tmp_path, "build", "--check").returncode == 0  # out/gen is fresh


def test_a_mistake_in_the_settings_is_named(tmp_path: Path) -> None:
    (tmp_path / "perfspec.toml").write_text('generate = "out"\n')
    proc = perfspec(tmp_path, "validate")
    assert proc.returncode == 2
    assert "perfspec.toml: error: unknown key 'generate' in perfspec.toml" in proc.stderr
    assert "hint: keys: generated, report, results, specs" in proc.stderr
    (tmp_path / "perfspec.toml").write_text("specs = [\n")
    proc = perfspec(tmp_path, "validate")
    assert proc.returncode == 2 and "invalid TOML" in proc.stderr and "Traceback" not in proc.stderr

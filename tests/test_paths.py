"""Files a spec names stay inside the project: nothing else is read, executed or echoed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.tools

SPEC = """\
version: 1
name: paths
databases:
  main: {{dsn: "${{PERFSPEC_DSN}}", setup: [{setup}]}}
sql:
  database: main
  params:
    who: {{csv: {csv}, column: name}}
  queries:
    one: {{sql: "SELECT $1::text", params: [who]}}
targets:
  - {{name: ext, metric: m, source: {{json: {json}, path: $.v}}, value: < 1}}
"""


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "specs").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (root / "specs" / "ok.sql").write_text("SELECT 1;\n")
    (root / "specs" / "ok.csv").write_text("name\na\n")
    return root


def validate(spec: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", "validate", str(spec)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_files_inside_the_project_validate(tmp_path: Path) -> None:
    root = project(tmp_path)
    spec = root / "specs" / "s.yaml"
    spec.write_text(SPEC.format(setup="ok.sql", csv="ok.csv", json="../out/m.json"))
    proc = validate(spec)
    assert proc.returncode == 0, proc.stderr


def test_files_outside_the_project_devices_and_fifos_are_refused_at_their_place(tmp_path: Path) -> None:
    root = project(tmp_path)
    outside = tmp_path / "secret.sql"
    outside.write_text("SELECT 'secret';\n")
    (root / "specs" / "link.sql").symlink_to(outside)
    os.mkfifo(root / "specs" / "fifo.csv")
    spec = root / "specs" / "s.yaml"
    cases = [
        ("/etc/passwd", "ok.csv", "m.json", "4:", "outside the project folder"),
        ("../../secret.sql", "ok.csv", "m.json", "4:", "outside the project folder"),
        ("link.sql", "ok.csv", "m.json", "4:", "outside the project folder"),
        ("/dev/zero", "ok.csv", "m.json", "4:", "outside the project folder"),
        ("ok.sql", "fifo.csv", "m.json", "8:", "is not a regular file"),
        ("ok.sql", "/proc/self/environ", "m.json", "8:", "outside the project folder"),
        ("ok.sql", "ok.csv", "/dev/zero", "12:", "outside the project folder"),
    ]
    for setup, csv, json_file, line, why in cases:
        spec.write_text(SPEC.format(setup=setup, csv=csv, json=json_file))
        proc = validate(spec)
        assert proc.returncode == 2, (setup, csv, json_file, proc.stderr)
        assert f"s.yaml:{line}" in proc.stderr and why in proc.stderr, proc.stderr
        assert "secret" not in proc.stderr.replace("secret.sql", "")
    # a folder the user allows explicitly
    spec.write_text(SPEC.format(setup=str(outside), csv="ok.csv", json="m.json"))
    assert validate(spec, PERFSPEC_ALLOW_PATHS=str(tmp_path)).returncode == 0


def test_a_spec_that_is_a_device_or_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "fifo.yaml")
    for name in ("zero.yaml", "fifo.yaml"):
        proc = validate(tmp_path / name)  # bounded by validate's timeout: a hang fails the test
        assert proc.returncode == 2 and "not a regular file" in proc.stderr, proc.stderr

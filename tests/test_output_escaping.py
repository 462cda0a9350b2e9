"""Spec text and result text on their way out: no forged workflow commands, no markup, no emoji,
well-formed XML."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from perfspec.runtime.checker import Verdict
from perfspec.runtime.reports import annotations, junit, terminal


def validate(spec: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", "validate", str(spec)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=spec.parent,
    )


@pytest.mark.tools
def test_an_error_on_line_100_reads_line_100_not_an_emoji(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("version: 1\nname: s\n" + "# filler\n" * 97 + 'bogus: "[bold]x[/] :smile:"\n')
    proc = validate(spec)
    assert proc.returncode == 2
    assert "s.yaml:100:1: error: unknown key 'bogus'" in proc.stderr, proc.stderr
    assert "💯" not in proc.stderr and "😄" not in proc.stderr


@pytest.mark.tools
def test_a_file_name_cannot_forge_a_workflow_command_or_a_line(tmp_path: Path) -> None:
    spec = tmp_path / "a\n::error file=x::forged\x1b[2K.yaml"
    spec.write_text("version: 1\nname: s\nbogus: 1\n")
    proc = validate(spec)
    assert proc.returncode == 2
    assert not [line for line in proc.stderr.splitlines() if line.startswith("::")], proc.stderr
    assert "\\n::error file=x::forged\\x1b[2K.yaml:3:1: error" in proc.stderr
    assert "\x1b" not in proc.stderr


def hostile_verdict() -> Verdict:
    return Verdict(
        name="t",
        status="fail",
        line=3,
        spec="s.yaml",
        samples=0,
        reasons=["no samples: [/] [bold]x :100: \x00\x1b[31m\n::error::forged\u2028"],
    )


def test_reports_keep_result_text_as_text() -> None:
    stream = io.StringIO()
    terminal([hostile_verdict()], stream)  # rich markup such as [/] would raise here
    shown = stream.getvalue()
    assert "[/] [bold]x :100:" in shown and "\x1b[31m" not in shown and "💯" not in shown
    tree = ET.fromstring(junit([hostile_verdict()]))  # well-formed despite NUL and ESC
    assert "[bold]x" in tree.find("testcase/failure").get("message")
    lines = annotations([hostile_verdict()]).splitlines()
    assert len(lines) == 1 and lines[0].startswith("::error file=s.yaml,line=3")


@pytest.mark.tools
def test_a_spec_file_name_with_line_separators_stays_inside_every_header_comment(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    spec = tmp_path / "q\u2028defaults:\u2029run: {shell: x}\u0085.yaml"
    spec.write_text((root / "specs" / "quickstart.yaml").read_text())
    shutil.copytree(root / "specs" / "sql", tmp_path / "sql")
    proc = subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", "build", str(spec), "--out", str(tmp_path / "gen")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr
    files = [p for p in (tmp_path / "gen").rglob("*") if p.is_file()]
    assert len(files) > 5
    name = spec.stem  # exactly, separators included
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".py", ".js", ".yml"):  # code and YAML: only escaped forms
            assert not any(c in text for c in "\u2028\u2029\u0085"), path
        if path.suffix in (".yml", ".json"):  # and the name comes back exactly where it is data
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
            found = [v for v in _strings(data) if "defaults:" in v]
            assert found and all(name in v for v in found), (path, found[:2])
    workflow = yaml.safe_load(next(p for p in files if p.name == "github-workflow.yml").read_text())
    assert "defaults" not in workflow and "defaults" not in workflow["jobs"]["perf"]


def _strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []

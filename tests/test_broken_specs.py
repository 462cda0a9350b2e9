"""The broken-spec corpus: one spec per error class, each with its exact file:line:col and hint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from perfspec.compiler.errors import SpecFailure
from perfspec.compiler.load import load_file
from perfspec.compiler.validate import check_file

BROKEN = Path(__file__).parent / "broken"
CASES = sorted(p.relative_to(BROKEN).as_posix() for p in BROKEN.rglob("*.yaml"))
SCHEMA = json.loads((Path(__file__).parent.parent / "schemas" / "perfspec.schema.json").read_text())
UPDATE = "pytest tests/test_broken_specs.py --update-golden"


def errors_of(case: str) -> str:
    try:
        checked = check_file(case)
    except SpecFailure as exc:
        return "\n".join(e.format() for e in exc.errors) + "\n"
    return "(no error)\n" + "\n".join(w.format() for w in checked.warnings)


def test_corpus_has_at_least_thirty_error_classes() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES)
def test_broken_spec_reports_exact_place_and_hint(case: str, monkeypatch, update_golden) -> None:
    monkeypatch.chdir(BROKEN)
    got = errors_of(case)
    expected_file = BROKEN / case.replace(".yaml", ".stderr")
    if update_golden:
        expected_file.write_text(got)
    assert expected_file.exists(), f"no expected output; run: {UPDATE}"
    assert got == expected_file.read_text(), f"output changed; if intended, run: {UPDATE}"
    assert got.startswith(case + ":"), "the first error names the file and its line:col"
    assert "  hint: " in got, "every error says how to fix it"


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith("structural/")])
def test_schema_rejects_structurally_broken_spec(case: str) -> None:
    data = load_file(BROKEN / case).data
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data))
    assert errors, f"the JSON schema accepted {case}"


@pytest.mark.tools
def test_cli_exits_2_without_traceback_on_bad_specs() -> None:
    files = [str(BROKEN / c) for c in CASES]
    proc = subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", "validate", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("error:") >= len(CASES)  # every file reported in one pass

"""Golden cases, one per construct of docs/spec.md (as sqlc's endtoend testdata): each
tests/golden/<case>/ holds spec.yaml and what `perfspec build` makes of it, file by file in
expected/ (the spec's own folder; the support modules are copied verbatim and tested on their
own), and stderr.txt with what validation says (warnings, or the errors of a refused spec).

A generator change shows up here as a readable diff before any slow real-tool test runs. After
an intended change, regenerate every case and review the diff:

    python3 -m pytest tests/test_golden.py --update-golden
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from .conftest import ROOT
from .inprocess import perfspec

GOLDEN = ROOT / "tests" / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "spec.yaml").is_file())
REGENERATE = "python3 -m pytest tests/test_golden.py --update-golden"


def test_there_is_a_golden_case_per_construct() -> None:
    assert len(CASES) >= 15
    refused = [c for c in CASES if c.startswith("refused_")]
    assert refused and all(not (GOLDEN / c / "expected").exists() for c in refused)


def built(case: str, out: Path) -> tuple[int, dict[str, str], str]:
    """Exit code, {path under the spec's folder: text}, stderr of building one case."""
    spec = f"tests/golden/{case}/spec.yaml"
    result = perfspec("build", spec, "--out", str(out), cwd=ROOT)
    files = {}
    for folder in [p for p in out.iterdir() if p.is_dir()] if out.exists() else []:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                files[str(f.relative_to(folder))] = f.read_text(encoding="utf-8")
    return result.code, files, result.stderr


def differences(name: str, expected: str, actual: str) -> str:
    diff = difflib.unified_diff(
        expected.splitlines(keepends=True),
        actual.splitlines(keepends=True),
        f"{name} (golden)",
        f"{name} (now)",
    )
    return "".join(list(diff)[:60])


@pytest.mark.parametrize("case", CASES)
def test_golden_case(case: str, tmp_path: Path, update_golden: bool) -> None:
    folder = GOLDEN / case
    code, files, stderr = built(case, tmp_path / "out")
    refused = case.startswith("refused_")
    assert code == (2 if refused else 0), stderr
    assert "Traceback" not in stderr
    if update_golden:
        shutil.rmtree(folder / "expected", ignore_errors=True)
        for rel, text in files.items():
            (folder / "expected" / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / "expected" / rel).write_text(text, encoding="utf-8")
        (folder / "stderr.txt").unlink(missing_ok=True)
        if stderr:
            (folder / "stderr.txt").write_text(stderr, encoding="utf-8")
        return
    expected = {
        str(f.relative_to(folder / "expected")): f.read_text(encoding="utf-8")
        for f in sorted((folder / "expected").rglob("*"))
        if f.is_file()
    }
    problems = [f"{rel}: no longer generated" for rel in sorted(expected.keys() - files.keys())]
    problems += [f"{rel}: new, not in the golden case" for rel in sorted(files.keys() - expected.keys())]
    problems += [
        differences(f"tests/golden/{case}/expected/{rel}", expected[rel], files[rel])
        for rel in sorted(expected.keys() & files.keys())
        if expected[rel] != files[rel]
    ]
    golden_stderr = (
        (folder / "stderr.txt").read_text(encoding="utf-8") if (folder / "stderr.txt").exists() else ""
    )
    if golden_stderr != stderr:
        problems.append(differences(f"tests/golden/{case}/stderr.txt", golden_stderr, stderr))
    assert not problems, "\n".join(problems) + f"\nif the change is intended, regenerate: {REGENERATE}"

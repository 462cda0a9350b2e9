"""`perfspec init` in an empty folder: the starter validates and runs on the embedded demo as
written, the editor finds its schema where the modeline points, and nothing existing is touched."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from .conftest import require_tool
from .test_check import perfspec, verdicts_of

pytestmark = pytest.mark.tools


@pytest.mark.slow
def test_init_makes_a_project_that_validates_and_runs_on_the_demo(tmp_path: Path) -> None:
    require_tool("locust")
    require_tool("k6")
    proc = perfspec("init", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    spec = tmp_path / "specs" / "quickstart.yaml"
    for rel in (
        "specs/quickstart.yaml",
        "schemas/perfspec.schema.json",
        ".pre-commit-config.yaml",
        "PERFSPEC.md",
    ):
        assert f"wrote {rel}" in proc.stdout, proc.stdout
    # the modeline's schema path resolves, from the spec's folder, to the schema init wrote
    modeline = spec.read_text().splitlines()[0]
    target = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", modeline)
    assert target, modeline
    schema_path = (spec.parent / target.group(1)).resolve()
    assert schema_path == (tmp_path / "schemas" / "perfspec.schema.json").resolve()
    jsonschema.validate(yaml.safe_load(spec.read_text()), json.loads(schema_path.read_text()))
    assert yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]

    assert perfspec("validate", "specs/quickstart.yaml", cwd=tmp_path).returncode == 0
    # the default spec, cut short
    run = perfspec("run", "--out", str(tmp_path / "results"), "--duration", "5s", cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    verdicts = verdicts_of(tmp_path / "results")
    assert set(verdicts) == {"health", "api"} and {v["status"] for v in verdicts.values()} == {"pass"}

    spec.write_text(spec.read_text() + "# mine\n")
    again = perfspec("init", cwd=tmp_path)
    assert again.returncode == 0 and "kept specs/quickstart.yaml (it exists)" in again.stdout
    assert spec.read_text().endswith("# mine\n")  # never overwritten


def test_init_refuses_a_name_that_is_not_a_spec_name(tmp_path: Path) -> None:
    proc = perfspec("init", "--name", "../escape", cwd=tmp_path)
    assert proc.returncode == 2 and "is not a spec name" in proc.stderr
    assert not any(tmp_path.iterdir())

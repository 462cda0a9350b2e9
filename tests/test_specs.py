"""The shipped specs: each validates, matches the committed schema, and explains its seed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from perfspec.compiler.explain import target_rows
from perfspec.compiler.load import load_file
from perfspec.compiler.spec import json_schema
from perfspec.compiler.validate import check_file

from .inprocess import perfspec

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
SCHEMA_FILE = ROOT / "schemas" / "perfspec.schema.json"


def test_one_spec_per_seed_plus_quickstart() -> None:
    seeds = list((ROOT.parent / "shared" / "seeds").glob("0*.txt"))
    assert len(SPECS) >= max(len(seeds), 5) + 1
    assert (ROOT / "specs" / "quickstart.yaml") in SPECS


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_shipped_spec_validates_without_warnings(spec: Path) -> None:
    checked = check_file(spec)
    assert checked.warnings == []
    assert checked.spec.targets


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_shipped_spec_carries_schema_modeline(spec: Path) -> None:
    first = spec.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/perfspec.schema.json"


def test_committed_schema_is_fresh() -> None:
    committed = json.loads(SCHEMA_FILE.read_text())
    assert committed == json_schema(), (
        "schemas/perfspec.schema.json is stale; run: perfspec schema > schemas/perfspec.schema.json"
    )


def test_schema_cli_prints_the_committed_schema() -> None:
    proc = perfspec("schema")
    assert proc.code == 0 and json.loads(proc.stdout) == json.loads(SCHEMA_FILE.read_text())


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_jsonschema_accepts_shipped_spec(spec: Path) -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(load_file(spec).data))
    assert errors == []


def test_explain_lists_seed_000_api_classes_and_db_query_classes() -> None:
    checked = check_file(ROOT / "specs" / "temponest_validation.yaml")
    rows = {(r.selects, r.statistic): r.bound for r in target_rows(checked)}
    api = {  # seed 000, "API Performance Targets"
        "auth": ("< 100ms", "< 200ms", "> 99%", "> 50/s"),
        "crud": ("< 50ms", "< 100ms", "> 99%", "> 100/s"),
        "read_heavy": ("< 30ms", "< 50ms", "> 99.5%", "> 200/s"),
        "health": ("< 10ms", "< 20ms", ">= 100%", "> 500/s"),
    }
    for cls, (avg, p95, success, rps) in api.items():
        sel = f"class={cls}"
        assert rows[(sel, "avg")] == avg
        assert rows[(sel, "p95")] == p95
        assert rows[(sel, "success_rate")] == success
        assert rows[(sel, "throughput")] == rps
    db = {  # seed 000, "Database Performance Targets"
        "sql_class=simple": ("< 2ms", "< 5ms", "> 1000/s"),
        "sql_class=indexed": ("< 5ms", "< 10ms", "> 500/s"),
        "sql_class=join": ("< 10ms", "< 20ms", "> 200/s"),
        "sql_class=aggregation": ("< 20ms", "< 40ms", "> 100/s"),
        "sql_class=concurrent workers=100": ("< 30ms", "< 60ms", "> 300/s"),
    }
    for sel, (avg, p95, qps) in db.items():
        assert (rows[(sel, "avg")], rows[(sel, "p95")], rows[(sel, "throughput")]) == (avg, p95, qps)


def test_explain_cli_prints_every_target_with_its_spec_line() -> None:
    spec = ROOT / "specs" / "temponest_validation.yaml"
    proc = perfspec("explain", str(spec), cwd=ROOT, env={"COLUMNS": "250"})
    assert proc.code == 0, proc.stderr
    text = proc.stdout
    for cls in (
        "class=auth",
        "class=crud",
        "class=read_heavy",
        "class=health",
        "sql_class=simple",
        "sql_class=indexed",
        "sql_class=join",
        "sql_class=aggregation",
        "sql_class=concurrent",
    ):
        assert cls in text
    lines = spec.read_text().splitlines()
    auth_line = next(i for i, s in enumerate(lines, 1) if "{name: auth," in s)
    assert f"temponest_validation.yaml:{auth_line}" in text
    # the artifacts listed are exactly the files `perfspec build` wrote for this spec
    listed = set(re.findall(r"generated/temponest_validation/[\w.-]+", text))
    folder = ROOT / "generated" / "temponest_validation"
    built = {f"generated/temponest_validation/{p.name}" for p in folder.iterdir() if p.is_file()}
    assert listed == built
    assert "open_200" in text and "dropped fails latency targets" in text  # who measures the open model


def test_every_pattern_in_the_schema_says_what_to_write() -> None:
    """An editor shows "write a duration with its unit, e.g. 30s", never the regular expression."""
    found: list[tuple[str, str]] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            if "pattern" in node:
                found.append((path, str(node.get("patternErrorMessage", ""))))
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    schema = json_schema()
    walk(schema, "")
    assert len(found) > 50
    assert [p for p, message in found if not message or "^" in message or "\\" in message] == []
    timeout = schema["$defs"]["HttpDefaults"]["properties"]["timeout"]["anyOf"][0]
    assert timeout["patternErrorMessage"] == "write a duration with its unit, e.g. 30s"


def test_every_property_in_the_schema_is_described() -> None:
    """The editor says what every key means (the model's own words, or compiler/spec/descriptions.py)."""
    schema = json_schema()
    missing = [
        f"{model}.{key}"
        for model, node in [("Spec", schema), *schema["$defs"].items()]
        for key, prop in (node.get("properties") or {}).items()
        if not prop.get("description")
    ]
    assert missing == []

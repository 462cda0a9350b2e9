"""The house in order: no import cycles among perfspec's modules, modules and functions of a
readable size, and a literal password in a DSN never reaching an artifact or a result."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT
from .inprocess import perfspec

PACKAGES = {"perfspec.compiler": ROOT / "compiler", "perfspec.runtime": ROOT / "runtime"}
# Measured on the code as `ruff format` lays it out (one argument a line where a call does not fit):
# a module's lines, a function's body (its signature, a typer command's options, and its docstring
# are declarations, not logic).
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return (node.end_lineno or node.lineno) - body[0].lineno + 1


def modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for pkg, root in PACKAGES.items():
        for f in root.rglob("*.py"):
            parts = list(f.relative_to(root).with_suffix("").parts)
            is_pkg = parts[-1] == "__init__"
            parts = parts[:-1] if is_pkg else parts
            out[".".join([pkg, *parts])] = (f, is_pkg)
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the perfspec modules it imports (at the top, in a function, or for typing):
    `from pkg import sub` is an edge to pkg.sub when sub is a module, else to pkg."""
    mods = modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, (path, is_pkg) in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    graph[name].add(sub if sub in mods else target)
            elif isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names)
        graph[name] = {m for m in graph[name] if m in mods and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# What both packages may import: pure modules of the runtime with no perfspec import outside this
# list (docs/architecture.md, "The shared base"). The compiler's core imports nothing else of the
# runtime; only the command line (perfspec.compiler.cli), above both, imports the rest.
SHARED_BASE = {
    "perfspec.runtime.contracts",
    "perfspec.runtime.files",
    "perfspec.runtime.histogram",
    "perfspec.runtime.text",
    "perfspec.runtime.verdict",
    "perfspec.runtime.support.perfspec_histogram",
    "perfspec.runtime.support.perfspec_sql_values",
}


def imports(name: str, path: Path, is_pkg: bool) -> list[tuple[ast.ImportFrom, str]]:
    """Every `from X import ...` of a module with X resolved to an absolute name."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = name.split(".") if is_pkg else name.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)] if node.level else []
            target = (
                ".".join(base + ([node.module] if node.module else [])) if node.level else node.module or ""
            )
            out.append((node, target))
    return out


def test_the_compiler_core_imports_only_the_shared_base_of_the_runtime() -> None:
    graph = import_graph()
    outside = {
        m: sorted(t for t in targets if t.startswith("perfspec.runtime") and t not in SHARED_BASE)
        for m, targets in graph.items()
        if m.startswith("perfspec.compiler") and not m.startswith("perfspec.compiler.cli")
    }
    assert {m: t for m, t in outside.items() if t} == {}
    base_imports = {m: sorted(t - SHARED_BASE) for m, t in graph.items() if m in SHARED_BASE}
    assert {m: t for m, t in base_imports.items() if t} == {}


def test_cross_package_imports_are_absolute_and_no_private_name_crosses_a_module() -> None:
    relative, private = [], []
    for name, (path, is_pkg) in modules().items():
        package = ".".join(name.split(".")[:2])
        for node, target in imports(name, path, is_pkg):
            if node.level and not target.startswith(package):
                relative.append(f"{name}: from {'.' * node.level}{node.module or ''}")
            if target.startswith("perfspec."):
                private += [
                    f"{name}: {a.name} from {target}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert relative == [] and private == []


def test_the_runtime_never_imports_compiler_internals() -> None:
    graph = import_graph()
    leaks = {
        m: sorted(t for t in targets if t.startswith("perfspec.compiler"))
        for m, targets in graph.items()
        if m.startswith("perfspec.runtime")
    }
    assert {m: t for m, t in leaks.items() if t} == {}


def test_p99_9_bucket_warning_points_at_its_key(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    from .test_first_run import WARNED

    spec = tmp_path / "s.yaml"
    spec.write_text(WARNED)
    proc = perfspec("validate", str(spec), cwd=tmp_path)
    assert "s.yaml:12:13: warning: p99.9 < 120ms is not a bucket boundary" in proc.stderr + proc.stdout


@pytest.mark.tools
def test_a_password_in_a_dsn_query_reaches_no_artifact_or_result(
    tmp_path: Path, postgres_server: str
) -> None:
    """The DSN comes from the environment with `?password=canary123` in its query string: the
    SQL benchmark runs against it, and the word is nowhere in what the build and run wrote."""
    dsn = postgres_server + ("&" if "?" in postgres_server else "?") + "password=canary123"
    env = {**os.environ, "PERFSPEC_DSN": dsn}
    out = tmp_path / "gen"
    cli = [sys.executable, "-m", "perfspec.compiler.cli"]
    build = subprocess.run(
        [*cli, "build", "specs/quickstart.yaml", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    run = subprocess.run(
        [
            *cli,
            "run",
            "specs/quickstart.yaml",
            "--only",
            "sql",
            "--load-setup",
            "--out",
            str(tmp_path / "runs"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    [folder] = list((tmp_path / "runs").iterdir())
    verdicts = {v["target"]: v["status"] for v in json.loads((folder / "verdicts.json").read_text())}
    assert verdicts["db_indexed"] == "pass", run.stdout[-2000:] + run.stderr[-2000:]  # it ran on that DSN
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "password=***" in manifest["database"]
    seen = [
        str(p)
        for root in (out, tmp_path / "runs")
        for p in root.rglob("*")
        if p.is_file() and b"canary123" in p.read_bytes()
    ]
    assert seen == []
    assert "canary123" not in run.stdout + run.stderr


def test_modules_and_functions_have_a_readable_size() -> None:
    """No module of compiler/ or runtime/ over 500 formatted lines (the support modules the
    artifacts import included), no function body over 80."""
    big_modules, big_functions = [], []
    for root in PACKAGES.values():
        for f in root.rglob("*.py"):
            rel = str(f.relative_to(ROOT))
            text = f.read_text(encoding="utf-8")
            if text.count("\n") > MAX_MODULE_LINES:
                big_modules.append((rel, text.count("\n")))
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    length = body_lines(node)
                    if length > MAX_FUNCTION_LINES:
                        big_functions.append((rel, node.name, length))
    assert big_modules == [] and big_functions == []


def test_every_package_is_installed() -> None:
    """A folder with an __init__.py under compiler/ or runtime/ is listed in pyproject.toml's
    packages, or a non-editable install (pre-commit's) leaves it out."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {name for name, (_path, is_pkg) in modules().items() if is_pkg}
    assert found - listed == set()


def test_a_json_path_with_an_index_is_read_as_validation_reads_it(tmp_path: Path) -> None:
    """One JSON-path parser: `$.runs[0]["seconds"]` validates, and `check` reads that value."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "startup.json").write_text(json.dumps({"runs": [{"seconds": 42.5}]}))
    (tmp_path / "s.yaml").write_text("""version: 1
name: case
targets:
  - {name: startup, metric: startup_time, value: < 60s,
     source: {json: startup.json, path: '$.runs[0]["seconds"]'}}
""")
    (tmp_path / "results").mkdir()
    proc = perfspec("check", "s.yaml", "results", "--report", "r", cwd=tmp_path)
    [v] = json.loads((tmp_path / "r" / "verdicts.json").read_text())
    assert v["status"] == "pass" and v["stats"][0]["measured"] == 42.5, proc.stdout + proc.stderr


def test_the_unit_tier_refuses_processes_and_sockets() -> None:
    """`pytest -m unit` stays fast because a unit test cannot start a tool or a server."""
    import socket
    import subprocess

    from .conftest import NotAUnitTest

    with pytest.raises(NotAUnitTest, match="starts a process"):
        subprocess.run(["true"], check=False)
    with pytest.raises(NotAUnitTest, match="binds a port"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))

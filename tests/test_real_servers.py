"""Generated Locust and k6 files against a server that behaves like real ones (canonicalised
header names, 201/204/412), and the diffs one spec edit makes."""

from __future__ import annotations

import csv
import difflib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from perfspec.compiler.backends import all_backends
from perfspec.compiler.plan import build_plan
from perfspec.compiler.validate import check_file
from perfspec.runtime.checker import read_results

from .conftest import ROOT, require_tool
from .servers.records import records_server

pytestmark = pytest.mark.tools

RECORDS = Path(__file__).parent / "specs" / "records.yaml"


def build(spec: Path, out: Path, only: tuple[str, ...] = ("locust", "k6")) -> Path:
    plan = build_plan(check_file(spec))
    backends = all_backends()
    for name in only:
        for art in backends[name].emit(plan):
            target = out / art.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(art.content)
    return out / plan.folder


def run_k6(k6: str, folder: Path, out: Path, url: str, **env: str) -> subprocess.CompletedProcess:
    """The generated k6 script against `url`, its samples streamed to `out` (NDJSON)."""
    return subprocess.run(
        [k6, "run", "--out", f"json={out}", str(folder / "k6.js")],
        env={**os.environ, "API_URL": url, "K6_NO_USAGE_REPORT": "true", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_locust_extracts_a_canonicalised_etag_and_runs_on_stop(tmp_path: Path) -> None:
    locust = require_tool("locust")
    folder = build(RECORDS, tmp_path / "gen")
    with records_server() as (url, seen):
        env = {**os.environ, "PERFSPEC_RESULTS_DIR": str(tmp_path / "res")}
        proc = subprocess.run(
            [
                locust,
                "-f",
                str(folder / "locustfile.py"),
                "--headless",
                "--only-summary",
                "--host",
                url,
            ],  # --host names the server (the spec's ${API_URL} is unset)
            env={k: v for k, v in env.items() if k != "API_URL"},
            capture_output=True,
            text=True,
            timeout=90,
        )
        deletes = seen["delete"]
        stale = seen["stale"]
    series, _ = read_results([tmp_path / "res"])
    by_name = {s.name: s for s in series}
    assert by_name["get_record"].count > 20, proc.stderr[-2000:]
    assert sum(s.failures for s in series) == 0, {s.name: s.errors for s in series}
    assert stale == 0  # every If-Match carried the ETag the server sent as `Etag`
    assert deletes == 4  # on_stop ran once per user


def test_k6_extracts_a_canonicalised_etag_and_tags_class(tmp_path: Path) -> None:
    k6 = require_tool("k6")
    folder = build(RECORDS, tmp_path / "gen")
    out = tmp_path / "res" / "k6.ndjson"
    out.parent.mkdir()
    with records_server() as (url, seen):
        proc = run_k6(k6, folder, out, url)
        stale = seen["stale"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "http_req_duration{name:get_record}" in proc.stdout  # reads: its one endpoint
    series, _ = read_results([out])
    assert sum(s.failures for s in series) == 0, {s.name: s.errors for s in series}
    assert {s.name for s in series} >= {"create_record", "get_record"} and stale == 0
    with out.open() as handle:
        point = next(
            json.loads(line)
            for line in handle
            if '"http_req_duration"' in line and '"name":"get_record"' in line and '"type":"Point"' in line
        )
    assert point["data"]["tags"]["class"] == "read"


STATUS_ONLY = """\
version: 1
name: status_only
hosts:
  api: {url: "${API_URL}"}
http:
  defaults: {host: api}
  endpoints:
    create_expecting_200: {post: /records, json: {name: r}, expect: {status: [200]}}
    missing_record: {get: /records/none, expect: {status: [200]}}
    create_record: {post: /records, json: {name: r}, expect: {status: [201]}}
  flows:
    user: {tasks: [create_expecting_200, missing_record, create_record], think_time: 5ms..10ms}
profiles:
  short: {users: 2, for: 3s}
targets:
  - {name: all, select: {endpoint: create_record}, p95: < 500ms}
"""


def test_locust_plain_calls_judge_statuses_exactly_and_locust_agrees(tmp_path: Path) -> None:
    """An endpoint judged by its status alone is a plain call (no catch_response: cheaper for
    Locust); perfspec's listener judges it exactly: a 201 where 200 is expected fails, in the
    result file and in Locust's own statistics, as does a 404; an expected 201 passes."""
    locust = require_tool("locust")
    spec = tmp_path / "status_only.yaml"
    spec.write_text(STATUS_ONLY)
    folder = build(spec, tmp_path / "gen")
    assert "catch_response" not in (folder / "locustfile.py").read_text()
    with records_server() as (url, _seen):
        env = {**os.environ, "API_URL": url, "PERFSPEC_RESULTS_DIR": str(tmp_path / "res")}
        proc = subprocess.run(
            [
                locust,
                "-f",
                str(folder / "locustfile.py"),
                "--headless",
                "--only-summary",
                "--csv",
                str(tmp_path / "locust"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
    assert proc.returncode == 1, proc.stderr[-2000:]  # Locust exits 1 when requests failed
    by_name = {s.name: s for s in read_results([tmp_path / "res"])[0]}
    with open(tmp_path / "locust_stats.csv") as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    for name, cause in (("create_expecting_200", "HTTP 201"), ("missing_record", "HTTP 404")):
        series = by_name[name]
        assert series.count > 10 and series.errors == {cause: series.failures}, series.errors
        # Locust's console agrees: in flight at the stop, a request may reach one side only
        assert abs(series.failures - series.count) <= 2
        assert int(stats[name]["Failure Count"]) == int(stats[name]["Request Count"]) > 10
    assert by_name["create_record"].failures == 0 and int(stats["create_record"]["Failure Count"]) == 0


ONE_TASK_FLOWS = """\
version: 1
name: one_task
hosts:
  api: {url: "${API_URL}"}
http:
  defaults: {host: api}
  endpoints:
    create_record: {post: /records, json: {name: r}, class: write, expect: {status: [201]},
                    extract: {record_id: $.id, etag: "header:ETag"}}
    get_record: {get: "/records/{record_id}", headers: {If-Match: "{etag}"}, class: read,
                 expect: {status: [200], json: {$.status: stale}}}
  flows:
    reader: {on_start: [create_record], tasks: {get_record: 1}, think_time: 5ms..10ms}
    writer: {tasks: {create_record: 1}, think_time: 5ms..10ms}
profiles:
  short: {users: 4, for: 3s}
targets:
  - {name: reads, select: {class: read}, p95: < 500ms}
"""


def test_k6_one_task_flows_attribute_every_sample(tmp_path: Path) -> None:
    """A VU of a one-task flow carries its endpoint's tags as its own (cheaper for k6): its
    requests, and the failed checks of its endpoint, still name that endpoint and its class,
    its on_start call keeps its own name, and the other flow's VUs keep theirs."""
    k6 = require_tool("k6")
    spec = tmp_path / "one_task.yaml"
    spec.write_text(ONE_TASK_FLOWS)
    folder = build(spec, tmp_path / "gen")
    out = tmp_path / "k6.ndjson"
    with records_server() as (url, seen):
        proc = run_k6(k6, folder, out, url)
        creates = seen["create"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    classes = {"create_record": "write", "get_record": "read"}
    points: dict[tuple[str, str], int] = {}
    with out.open() as handle:
        for line in handle:
            point = json.loads(line)
            if point["type"] == "Point" and point["metric"] in ("http_req_duration", "perfspec_failed"):
                tags = point["data"]["tags"]
                assert classes[tags["name"]] == tags["class"], tags
                points[point["metric"], tags["name"]] = points.get((point["metric"], tags["name"]), 0) + 1
    gets = points["http_req_duration", "get_record"]
    assert gets > 20 and points["perfspec_failed", "get_record"] == gets  # every check failed
    assert points["http_req_duration", "create_record"] == creates > 2  # on_start and writers
    assert ("perfspec_failed", "create_record") not in points
    by_name = {s.name: s for s in read_results([out])[0]}
    assert by_name["get_record"].failures == by_name["get_record"].count == gets
    assert by_name["create_record"].failures == 0


def test_k6_reports_the_cause_of_failed_calls(tmp_path: Path) -> None:
    k6 = require_tool("k6")
    folder = build(RECORDS, tmp_path / "gen")
    out = tmp_path / "k6.ndjson"
    with records_server() as (url, _seen):
        dead = url.rsplit(":", 1)[0] + ":1"  # nothing listens on port 1
    proc = run_k6(k6, folder, out, dead, PERFSPEC_DURATION="2")
    assert proc.returncode == 99  # the thresholds failed
    series, _ = read_results([out])
    errors = {e for s in series for e in s.errors}
    assert any("connection refused" in e for e in errors), errors
    assert not any(e == "HTTP 0" for e in errors)


def _changed_lines(a: Path, b: Path) -> dict[str, int]:
    """Per file, the lines a pull request's diff shows as changed (git's own diff)."""
    proc = subprocess.run(
        ["git", "diff", "--no-index", "--numstat", str(a), str(b)], capture_output=True, text=True, timeout=60
    )
    out = {}
    for line in proc.stdout.splitlines():
        added, removed, name = line.split("\t", 2)
        out[name.split(" => ")[-1].split("/gen-", 1)[-1].split("/", 1)[-1].rstrip("}")] = max(
            int(added), int(removed)
        )
    return out


def test_one_spec_edit_changes_few_generated_lines(tmp_path: Path) -> None:
    text = (ROOT / "specs" / "quickstart.yaml").read_text()
    shutil.copytree(ROOT / "specs" / "sql", tmp_path / "sql")
    spec = tmp_path / "quickstart.yaml"
    only = ("locust", "k6", "prometheus", "targets")
    edits = {
        "a": text,
        "b": text.replace("p95: < 200ms", "p95: < 500ms"),  # one bound
        # one endpoint more, at the top of the endpoints block: every later line moves down
        "c": text.replace(
            "  endpoints:\n", "  endpoints:\n    version: {get: /version, class: health}\n"
        ).replace(
            "tasks: [list_agents, get_agent, create_agent, health]",
            "tasks: [list_agents, get_agent, create_agent, health, version]",
        ),
    }
    for name, content in edits.items():
        spec.write_text(content)
        build(spec, tmp_path / f"gen-{name}", only)
    bound = _changed_lines(tmp_path / "gen-a", tmp_path / "gen-b")
    assert all(n <= 6 for n in bound.values()), sorted(bound.items(), key=lambda kv: -kv[1])[:3]
    assert bound["quickstart/k6.js"] == 1 and bound["quickstart/targets.json"] == 2
    for script in ("quickstart/locustfile.py", "quickstart/k6.js"):
        before = (tmp_path / "gen-a" / script).read_text().splitlines()
        after = (tmp_path / "gen-c" / script).read_text().splitlines()
        removed = [line for line in difflib.ndiff(before, after) if line.startswith("- ")]
        # no line of an existing endpoint's code changed; the flow's task list gained one (in k6
        # the weights' total that picks a task), and in k6 the health target (class health, now
        # two endpoints) is keyed by its class instead of its one endpoint's name
        changed = [
            line
            for line in removed
            if "tasks" not in line and "{name:health}" not in line and "Math.random()" not in line
        ]
        assert changed == [], (script, removed)
        assert len(removed) <= 3, (script, removed)
    added = _changed_lines(tmp_path / "gen-a", tmp_path / "gen-c")
    print("lines changed by one bound:", bound, "by one endpoint:", added)

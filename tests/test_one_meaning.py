"""One meaning per construct: what the spec says is what Locust, k6 and the judge do (issue #30's
cases that are not the cross-tool request equivalence of tests/test_equivalence.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from perfspec.compiler import templates
from perfspec.runtime.support.perfspec_locust_checks import query_string

from .conftest import require_tool
from .servers.json_api import json_server
from .test_real_servers import build

TWO_PROFILES = """\
version: 1
name: scoped
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    ping: {get: /ping}
    pong: {get: /pong}
profiles:
  light: {users: 1, for: 2s}
  heavy: {users: 2, for: 2s}
targets:
  - {name: any_ping, select: {endpoint: ping}, p95: < 5s}
  - {name: heavy_only, select: {profile: heavy}, p95: < 0.001ms, throughput: "> 100000/s"}
  - {name: heavy_pong, select: {profile: heavy, endpoint: pong}, error_rate: < 0.0001%}
"""


def test_query_text_is_encoded_alike_by_the_compiler_and_the_locust_support_module() -> None:
    params = {"q": "{x} a+b é/?&=", "k[]": "!*'()~-_.", "n": "5"}
    assert templates.query_string(params) == query_string(params)
    assert templates.query_string({"a b": "c d"}) == "?a%20b=c%20d"  # encodeURIComponent's %20, never +


@pytest.mark.tools
def test_k6_thresholds_of_a_profile_judge_only_that_profile(tmp_path: Path) -> None:
    """A target of profile `heavy` is no threshold of a `light` run (it exited 99 naming it)."""
    k6 = require_tool("k6")
    spec = tmp_path / "scoped.yaml"
    spec.write_text(TWO_PROFILES)
    folder = build(spec, tmp_path / "gen", only=("k6",))
    script = (folder / "k6.js").read_text()
    assert '"http_req_duration{profile:heavy}": ["p(95)<0.001"]' in script
    assert '"http_req_failed{name:pong,profile:heavy}"' in script
    assert "target_heavy_only" not in script  # the profile tag selects it: no flag tag per request
    runs = {}
    with json_server(lambda *_a: (200, {"ok": True}, {})) as url:
        for profile in ("light", "heavy"):
            runs[profile] = subprocess.run(
                [k6, "run", str(folder / "k6.js")],
                env={**os.environ, "API_URL": url, "PERFSPEC_PROFILE": profile, "K6_NO_USAGE_REPORT": "true"},
                capture_output=True,
                text=True,
                timeout=60,
            )
    light, heavy = runs["light"], runs["heavy"]
    assert light.returncode == 0, light.stdout[-3000:] + light.stderr[-2000:]
    assert "profile:heavy" not in light.stdout
    assert heavy.returncode == 99, heavy.stdout[-3000:] + heavy.stderr[-2000:]
    assert "http_req_duration{profile:heavy}" in heavy.stderr + heavy.stdout


def test_no_endpoint_method_can_shadow_a_method_of_the_locust_user_class() -> None:
    """An endpoint called `sequence` or `started` would have replaced PerfspecUser's own method."""
    from perfspec.compiler.backends.locust.names import RESERVED
    from perfspec.runtime.support.perfspec_locust import PerfspecUser

    assert {n for n in dir(PerfspecUser) if not n.startswith("_")} <= RESERVED


ON_START = """\
version: 1
name: joins
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    open: {post: /sessions, expect: {status: [201]}, extract: {session: $.id}}
    join: {post: "/sessions/{session}/join", expect: {status: [200]}}
    fetch: {get: /profile}
    read: {get: /data}
    close: {delete: "/sessions/{session}", expect: {status: [204]}}
    forget: {delete: /cache, expect: {status: [204]}}
  flows:
    member:
      on_start: [open, fetch, join]
      tasks: [read]
      on_stop: [close, forget]
profiles:
  short: {users: 2, for: 2s}
targets:
  - {name: cleanup, select: {endpoint: [close, forget]}, error_rate: < 1%}
"""


@pytest.mark.tools
def test_on_start_stops_at_its_first_failed_call_and_on_stop_runs_what_has_its_values(tmp_path: Path) -> None:
    """A 409 on `open` was followed by `fetch` (it needs nothing) before; now the user stops there,
    and on_stop runs `forget` (needs nothing) but not `close` (no session was ever opened). k6
    runs no on_stop: validation warns at the line and the verdict of a k6 run names it."""
    import json
    from collections import Counter

    from perfspec.compiler.validate import check_file
    from perfspec.runtime.checker import judge, read_results

    from .servers.json_api import run_tool

    spec = tmp_path / "joins.yaml"
    spec.write_text(ON_START)
    [warning] = check_file(spec).warnings
    assert warning.line == 17 and warning.message.startswith("k6 cannot run the on_stop of flow 'member'")
    folder = build(spec, tmp_path / "gen", only=("locust", "k6", "targets"))
    for tool in ("locust", "k6"):
        seen: Counter = Counter()

        def answer(method: str, path: str, _body: bytes, seen: Counter = seen) -> tuple[int, object, dict]:
            seen[f"{method} {path}"] += 1
            status = {"POST /sessions": 409, "DELETE /cache": 204}.get(f"{method} {path}", 200)
            return status, {"error": "taken"} if status == 409 else {}, {}

        with json_server(answer) as url:
            proc = run_tool(tool, folder, url, tmp_path / tool)
        users = seen["POST /sessions"]
        assert users >= 1 and seen["GET /profile"] == 0, (tool, seen, proc.stderr[-2000:])
        assert not [k for k in seen if "/join" in k or k == "GET /data"], (tool, seen)
        assert not [k for k in seen if k.startswith("DELETE /sessions")], (tool, seen)
        assert seen["DELETE /cache"] == (users if tool == "locust" else 0), (tool, seen)
        targets = json.loads((folder / "targets.json").read_text())
        [verdict] = judge(targets, read_results([tmp_path / tool])[0], {})
        noted = any("k6 ran no call of close, forget: on_stop only" in r for r in verdict.reasons)
        assert noted == (tool == "k6"), (tool, verdict.reasons)


def _judged(bounds: dict, latencies_ms: list[float]):
    from perfspec.runtime.checker import judge
    from perfspec.runtime.results import Series

    s = Series("locust", "http", "slow", "locust-x.json", "x", count=len(latencies_ms), elapsed=1.0)
    for ms in latencies_ms:
        s.histogram.add(int(ms * 1e6))
    stats = [
        {
            "stat": k,
            "op": v[0],
            "value": v[1],
            "text": f"{v[0]} {v[1] * 1000:g}ms",
            "severity": "fail",
            "line": 3,
        }
        for k, v in bounds.items()
    ]
    target = {
        "name": "t",
        "kind": "measured",
        "endpoints": ["slow"],
        "queries": [],
        "stats": stats,
        "line": 3,
        "index": 0,
        "measure": "latency",
        "profile": None,
        "window": None,
        "workers": None,
    }
    [verdict] = judge({"spec": "s.yaml", "targets": [target], "profiles": {}}, [s], {})
    return verdict


def test_a_statistic_is_rounded_against_its_bound_never_in_its_favour() -> None:
    """A true max of 2004.1 ms is kept as 2000 ms (3 digits); it passed `max: < 2001ms` before."""
    tight = _judged({"max": ("<", 2.001), "min": (">", 1.999)}, [2004.1])
    assert tight.status == "fail", tight.stats
    assert [s.ok for s in tight.stats] == [False, False]
    assert any(
        "max 2000.000ms is 1995.000ms to 2005.000ms at the histogram's resolution" in r for r in tight.reasons
    ), tight.reasons
    clear = _judged({"max": ("<", 2.006), "p95": ("<", 2.006), "min": (">", 1.994)}, [2004.1])
    assert clear.status == "pass", (clear.stats, clear.reasons)


def test_expect_plan_index_scan_refuses_a_sequential_scan_of_any_table() -> None:
    """`index_scan` passed when one table was read by an index while another was scanned whole."""
    from perfspec.compiler.spec.sql import PlanExpectation, _plan
    from perfspec.runtime.support.perfspec_sql import plan_problems

    expect = PlanExpectation.model_validate(_plan("index_scan")).model_dump(exclude_none=True)
    joined = [
        {"Node Type": "Nested Loop"},
        {"Node Type": "Index Scan", "Relation Name": "agents", "Index Name": "agents_pkey"},
        {"Node Type": "Seq Scan", "Relation Name": "runs"},
    ]
    [problem] = plan_problems(expect, joined)
    assert problem.startswith("expected no sequential scan; runs read by Seq Scan")
    assert plan_problems(expect, joined[:2]) == []


@pytest.mark.tools
def test_two_specs_of_a_project_with_one_name_are_refused(tmp_path: Path) -> None:
    """Their rule groups and recording rules (`perfspec:a_b:...`) would merge in one Prometheus."""
    import sys

    (tmp_path / "specs").mkdir()
    one = TWO_PROFILES.replace("name: scoped", "name: a-b")
    (tmp_path / "specs" / "one.yaml").write_text(one)
    (tmp_path / "specs" / "two.yaml").write_text(one.replace("name: a-b", "name: a_b"))
    for args in ([], ["specs/two.yaml"]):  # the project's specs, or one of them against the others
        proc = subprocess.run(
            [sys.executable, "-m", "perfspec.compiler.cli", "validate", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "specs/two.yaml:2:7: error: spec name 'a_b' is also the name of specs/one.yaml" in proc.stderr


def test_both_support_modules_write_multipart_bodies_with_the_compilers_boundary() -> None:
    from perfspec.compiler.backends.http import MULTIPART
    from perfspec.runtime.support import perfspec_locust_checks

    k6 = (Path(perfspec_locust_checks.__file__).parent / "perfspec_k6.js").read_text()
    boundary = MULTIPART.split("boundary=")[1]
    assert perfspec_locust_checks.BOUNDARY == boundary
    assert f'export const BOUNDARY = "{boundary}";' in k6


def test_k6_rows_per_iteration_beside_other_flows_are_named_in_the_verdict(tmp_path: Path) -> None:
    """k6 numbers iterations over every flow of a profile: validation warns at the `feed` line
    and the verdict of a k6 run says it again; a Locust run's verdict does not."""
    import json

    from perfspec.compiler.backends.targets import TargetsBackend
    from perfspec.compiler.plan import build_plan
    from perfspec.compiler.validate import check_file
    from perfspec.runtime.checker import judge
    from perfspec.runtime.results import Series

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "skus.csv").write_text("sku\na\nb\n")
    spec = tmp_path / "rows.yaml"
    data = "  data:\n    skus: {csv: skus.csv, per: iteration}\n  endpoints:"
    spec.write_text(
        TWO_PROFILES.replace("  endpoints:", data)
        .replace(
            "    pong: {get: /pong}",
            "    pong: {get: /pong}\n  flows:\n    a: {tasks: [ping]}\n    b: {feed: skus, tasks: [pong]}",
        )
        .replace("select: {profile: heavy, endpoint: pong}", "select: {endpoint: pong}")
    )
    checked = check_file(spec)
    assert any(w.message.startswith("k6 takes rows of 'skus'") for w in checked.warnings)
    [art] = TargetsBackend().emit(build_plan(checked))
    targets = json.loads(art.content)
    for tool in ("k6", "locust"):
        s = Series(tool, "http", "pong", f"{tool}.x", "x", profile="light", count=1)
        s.histogram.add(1_000_000)
        verdict = next(v for v in judge(targets, [s], {}) if v.name == "heavy_pong")
        named = any("k6 took the rows of 'skus'" in r for r in verdict.reasons)
        assert named == (tool == "k6"), (tool, verdict.reasons)

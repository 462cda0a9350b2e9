"""`expect: {json: {PATH: value}}` in the generated Locust and k6 files, against a local server
whose JSON answer the test changes: zero failures while it holds, every call failed with the
field, its value and the expected one when it does not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from perfspec.runtime.checker import read_results

from .servers.json_api import json_server, run_tool
from .test_real_servers import build

pytestmark = pytest.mark.tools

SPEC = """\
version: 1
name: status
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    status:
      get: /status
      expect:
        status: [200]
        json: {"$.status": "ok", "$.items[0].id": 1, "$.meta": {"ready": true, "zone": "a"}}
profiles:
  smoke: {users: 2, for: 2s}
targets:
  - {name: status, select: {endpoint: status}, error_rate: < 1%}
"""


@contextmanager
def status_server(body: dict) -> Iterator[str]:
    with json_server(lambda _method, _path, _body: (200, body, {})) as url:
        yield url


GOOD = {"status": "ok", "items": [{"id": 1}], "meta": {"zone": "a", "ready": True}}
CHANGED = {
    "status": "degraded",  # another value
    "items": [{"id": 1.0}],  # the same JSON number
    "meta": {"zone": "a", "ready": 1},  # 1 is not true
}


@pytest.mark.parametrize("tool", ["locust", "k6"])
def test_a_json_field_assertion_passes_while_it_holds_and_fails_when_the_answer_changes(
    tool: str, tmp_path: Path
) -> None:
    spec = tmp_path / "status.yaml"
    spec.write_text(SPEC)
    folder = build(spec, tmp_path / "gen")
    for name, body in (("good", GOOD), ("changed", CHANGED)):
        with status_server(body) as url:
            proc = run_tool(tool, folder, url, tmp_path / name)
        series, _ = read_results([tmp_path / name])
        calls = sum(s.count for s in series)
        failures = sum(s.failures for s in series)
        errors = {e for s in series for e in s.errors}
        assert calls > 20, proc.stdout[-2000:] + proc.stderr[-2000:]
        if name == "good":
            assert failures == 0, errors
        else:
            assert failures == calls, errors
            # the first failing field is named with what it was and what was expected
            assert any(
                '$.meta is {"zone": "a", "ready": 1}' in e or '$.meta is {"zone":"a","ready":1}' in e
                for e in errors
            ), errors
            assert not any("$.items[0].id" in e for e in errors)  # 1.0 equals 1


OPERATORS = """\
version: 1
name: ops
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    create: {post: /records, json: {name: "r"}, expect: {status: [201]}, extract: {record_id: $.id}}
    holds:
      get: "/records/{record_id}/holds"
      expect: &checks
        status: [200]
        json:
          "$.data.id": "{record_id}"  # a placeholder: the field as text, the number 7 is "7"
          "$.data.count": {">": 0, "<=": 10}
          "$.data.owner": {exists: true}  # present, null too
          "$.data.secret": {exists: false}
          "$.data.kind": {"!=": "deleted"}
          "$.data.label": "{{literal}}"  # {{ is a literal brace: the text {literal}
%s
  flows:
    reader: {on_start: [create], tasks: [holds, %s]}
profiles:
  smoke: {users: 2, for: 2s}
targets:
  - {name: reads, select: {endpoint: holds}, error_rate: < 1%%}
"""

HOLDS = {"id": 7, "count": 3, "owner": None, "kind": "open", "label": "{literal}"}
BREAKS = {  # each field breaks its own check: the failure names it, the same in both tools
    "count": ({**HOLDS, "count": 0}, "$.data.count is 0, expected > 0"),
    "count_text": ({**HOLDS, "count": "3"}, '$.data.count is "3", expected a number > 0'),
    "id": ({**HOLDS, "id": 8}, '$.data.id is 8, expected "7"'),
    "kind": ({**HOLDS, "kind": "deleted"}, '$.data.kind is "deleted", expected not "deleted"'),
    "owner": ({k: v for k, v in HOLDS.items() if k != "owner"}, "$.data.owner is missing"),
    "secret": ({**HOLDS, "secret": "x"}, '$.data.secret is "x", expected no such field'),
}
CASES = {"holds": (HOLDS, None), **BREAKS}


def _records(method: str, path: str, _body: bytes) -> tuple[int, object, dict]:
    if method == "POST":
        return 201, {"id": 7}, {}
    case = path.rsplit("/", 1)[-1]
    return (200, {"data": CASES[case][0]}, {}) if path.startswith("/records/7/") else (404, {}, {})


@pytest.mark.parametrize("tool", ["locust", "k6"])
def test_json_operators_and_placeholders_judge_alike_in_both_tools(tool: str, tmp_path: Path) -> None:
    """Operators are judged as written and a placeholder is resolved per call: `{record_id}` is
    the value create extracted (it compared with the text "{record_id}" before), `{">": 0}` is a
    comparison. Each broken field fails every call of its endpoint with the same reason."""
    spec = tmp_path / "ops.yaml"
    endpoints = "\n".join(f'    {c}: {{get: "/records/{{record_id}}/{c}", expect: *checks}}' for c in BREAKS)
    spec.write_text(OPERATORS % (endpoints, ", ".join(BREAKS)))
    folder = build(spec, tmp_path / "gen", only=(tool,))
    with json_server(_records) as url:
        proc = run_tool(tool, folder, url, tmp_path / "res")
    series = {s.name: s for s in read_results([tmp_path / "res"])[0]}
    assert series["holds"].count > 3, proc.stdout[-2000:] + proc.stderr[-2000:]
    for case, (_data, reason) in CASES.items():
        got = series[case]
        if reason is None:
            assert got.failures == 0, got.errors
        else:
            assert got.failures == got.count > 0 and set(got.errors) == {reason}, (case, got.errors)

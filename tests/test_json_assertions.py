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
            assert any('$.meta is {"zone": "a", "ready": 1}' in e or '$.meta is {"zone":"a","ready":1}' in e
                       for e in errors), errors
            assert not any("$.items[0].id" in e for e in errors)  # 1.0 equals 1

"""The values a spec string can make at run time: {uuid}, {seq}, {now} (UTC, ISO 8601) and
{epoch_ms}, in Locust, k6 and the SQL benchmark alike."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest

from perfspec.runtime.support.perfspec_sql_values import resolve

from .servers.json_api import json_server, run_tool
from .test_real_servers import build

SPEC = """\
version: 1
name: stamps
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    event: {post: /events, json: {at: "{now}", ms: "{epoch_ms}", id: "{uuid}", n: "{seq}"},
            headers: {X-Sent-At: "{epoch_ms}"}, expect: {status: [201]}}
profiles:
  short: {users: 1, for: 1s}
targets:
  - {name: e, select: {endpoint: event}, error_rate: < 1%}
"""
NOW = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.mark.tools
@pytest.mark.parametrize("tool", ["locust", "k6"])
def test_time_values_are_made_per_call(tmp_path: Path, tool: str) -> None:
    spec = tmp_path / "stamps.yaml"
    spec.write_text(SPEC)
    folder = build(spec, tmp_path / "gen", only=(tool,))
    bodies: list[tuple[dict, str]] = []
    lock = threading.Lock()

    def answer(_method: str, _path: str, body: bytes, headers: dict) -> tuple[int, object, dict]:
        sent = next((v for k, v in headers.items() if k.lower() == "x-sent-at"), "")
        with lock:
            bodies.append((json.loads(body), sent))
        return 201, {}, {}

    began = time.time()
    with json_server(answer, with_headers=True) as url:
        proc = run_tool(tool, folder, url, tmp_path / "results")
    ended = time.time()
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert len(bodies) > 10
    for body, sent in bodies:
        assert NOW.match(body["at"]), body
        stamp = time.mktime(time.strptime(body["at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        assert began - 2 <= stamp <= ended + 1, (body, began, ended)
        assert began * 1000 - 2000 <= int(body["ms"]) <= ended * 1000 + 1000 and sent.isdigit()
    assert len({b["id"] for b, _ in bodies}) == len(bodies)  # {uuid} new each call
    assert [int(b["n"]) for b, _ in bodies][:3] == [1, 2, 3]  # {seq} counts per user


def test_the_sql_benchmark_makes_the_same_values() -> None:
    parts = [("var", "now"), ("text", " "), ("var", "epoch_ms")]
    now, ms = resolve(parts).split(" ")
    assert NOW.match(now) and abs(int(ms) / 1000 - time.time()) < 5

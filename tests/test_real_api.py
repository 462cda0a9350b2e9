"""A spec for an API that needs what real ones need, through Locust and k6: a bucket created once
before the users start (http.setup) and deleted after (http.teardown), per-user Basic auth from a
CSV, a JSON-field assertion, and 429 with Retry-After. Zero unexpected failures; the assertion
fails every call once the server's JSON changes; a failing setup stops the test and says why."""

from __future__ import annotations

import base64
import threading
from collections import Counter
from pathlib import Path

import pytest

from perfspec.runtime.checker import read_results

from .servers.json_api import json_server, run_tool
from .test_real_servers import build

pytestmark = pytest.mark.tools

SPEC = """\
version: 1
name: buckets
hosts:
  api: {url: "${API_URL}"}
http:
  data:
    accounts: {csv: data/accounts.csv}
  setup: [create_bucket]
  teardown: [drop_bucket]
  endpoints:
    create_bucket:
      post: /buckets
      json: {name: "load-{uuid}"}
      expect: {status: [201]}
      extract: {bucket: $.id}
    items:
      get: "/buckets/{bucket}/items"
      expect: {status: [200], json: {"$.status": "ok"}}
      retry: {on: [429], attempts: 4, backoff: 10ms}
    drop_bucket: {delete: "/buckets/{bucket}", expect: {status: [204]}}
  flows:
    customer:
      feed: accounts
      auth: {basic: {user: "{user.name}", password: "{user.password}"}}
      tasks: [items]
      think_time: 5ms..10ms
profiles:
  short: {users: 2, for: 3s}
targets:
  - {name: items, select: {endpoint: items}, error_rate: < 1%}
"""

ACCOUNTS = {"alice": "a-pass", "bob": "b-pass"}


def api(status_text: str, create_status: int = 201):
    seen: Counter = Counter()
    lock = threading.Lock()

    def answer(method: str, path: str, _body: bytes, headers: dict) -> tuple[int, object, dict]:
        with lock:
            if method == "POST" and path == "/buckets":
                seen["created"] += 1
                return create_status, {"id": "b7"} if create_status == 201 else {"error": "full"}, {}
            if method == "DELETE" and path == "/buckets/b7":
                seen["deleted"] += 1
                return 204, {}, {}
            given = headers.get("Authorization", "")
            user, _, password = base64.b64decode(given[6:]).decode().partition(":") if given else ("", "", "")
            if ACCOUNTS.get(user) != password or path != "/buckets/b7/items":
                seen["refused"] += 1
                return 401, {"error": "who are you"}, {}
            seen["calls"] += 1
            seen[user] += 1
            if seen["calls"] % 5 == 0:
                seen["limited"] += 1
                return 429, {"error": "slow down"}, {"Retry-After": "0"}
            return 200, {"status": status_text, "bucket": "b7"}, {}

    return seen, answer


@pytest.mark.parametrize("tool", ["locust", "k6"])
def test_a_real_api_spec_runs_cleanly_and_its_assertion_bites(tool: str, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "accounts.csv").write_text(
        "name,password\n" + "".join(f"{n},{p}\n" for n, p in ACCOUNTS.items())
    )
    spec = tmp_path / "buckets.yaml"
    spec.write_text(SPEC)
    folder = build(spec, tmp_path / "gen")

    seen, answer = api("ok")
    with json_server(answer, with_headers=True) as url:
        proc = run_tool(tool, folder, url, tmp_path / "ok", cwd=tmp_path)
    series, meta = read_results([tmp_path / "ok"])
    items = next(s for s in series if s.name == "items")
    assert items.count > 10, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert sum(s.failures for s in series) == 0, ({s.name: s.errors for s in series}, seen)
    assert seen["created"] == 1 and seen["deleted"] == 1, seen  # once per test, before and after
    assert seen["refused"] == 0 and seen["alice"] > 0 and seen["bob"] > 0, seen
    # every 429 the server sent is recorded (Locust: but one in flight per user when it stops)
    limited = items.statuses.get("429", 0)
    cut = 0 if tool == "k6" else 2  # users: 2
    assert seen["limited"] > 0 and 0 <= seen["limited"] - limited <= cut, (seen, limited)

    seen, answer = api("degraded")
    with json_server(answer, with_headers=True) as url:
        run_tool(tool, folder, url, tmp_path / "changed", cwd=tmp_path)
    series, _ = read_results([tmp_path / "changed"])
    items = next(s for s in series if s.name == "items")
    answered = items.count - items.statuses.get("429", 0)  # the retried answers are no failures
    assert items.failures == answered > 0, items.errors
    assert set(items.errors) == {'$.status is "degraded", expected "ok"'}, items.errors

    seen, answer = api("ok", create_status=507)
    with json_server(answer, with_headers=True) as url:
        run_tool(tool, folder, url, tmp_path / "nosetup", cwd=tmp_path)
        calls = seen["calls"]
    assert calls <= 4, seen  # the users never got going (Locust may have started one call)
    _, meta = read_results([tmp_path / "nosetup"])
    assert "http.setup call create_bucket failed (HTTP 507)" in meta["aborted"].get(tool, ""), meta

"""Per-user credentials from a data file and HTTP Basic auth built from them, in Locust and k6,
against a server that accepts only those credentials: every user authenticates with its own row
(quoted CSV fields and all), a JSON assertion holds, and a wrong password fails every call."""

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
name: accounts
hosts:
  api: {url: "${API_URL}"}
http:
  data:
    accounts: {KIND: FILE}
  endpoints:
    me: {get: /me, expect: {status: [200], json: {"$.authenticated": true}}}
  flows:
    customer:
      feed: accounts
      auth: {basic: {user: "{user.name}", password: "{user.password}"}}
      tasks: [me]
      think_time: 10ms..20ms
profiles:
  short: {users: 2, for: 3s}
targets:
  - {name: me, select: {endpoint: me}, error_rate: < 1%}
"""

ACCOUNTS = {"alice": "a-pass", "bob, jr": 'b"q:ü'}  # a comma, a quote, a colon, non-ASCII


def write_data(folder: Path, kind: str) -> str:
    (folder / "data").mkdir(parents=True)
    if kind == "csv":
        rows = ["name,password", *(f'"{n}","{p}"'.replace('"q', '""q') for n, p in ACCOUNTS.items())]
        (folder / "data" / "accounts.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        return "data/accounts.csv"
    import json

    rows_json = [{"name": n, "password": p} for n, p in ACCOUNTS.items()]
    (folder / "data" / "accounts.json").write_text(json.dumps(rows_json), encoding="utf-8")
    return "data/accounts.json"


@pytest.mark.parametrize("kind", ["csv", "json"])
@pytest.mark.parametrize("tool", ["locust", "k6"])
def test_each_user_authenticates_with_its_own_row(tool: str, kind: str, tmp_path: Path) -> None:
    spec = tmp_path / "accounts.yaml"
    spec.write_text(SPEC.replace("KIND", kind).replace("FILE", write_data(tmp_path, kind)))
    folder = build(spec, tmp_path / "gen")
    for name, accounts in (("right", ACCOUNTS), ("wrong", {**ACCOUNTS, "alice": "other"})):
        seen: Counter = Counter()
        lock = threading.Lock()

        def answer(
            _method: str, _path: str, _body: bytes, headers: dict, accounts=accounts, seen=seen, lock=lock
        ) -> tuple[int, object, dict]:
            given = headers.get("Authorization", "")
            basic = given.startswith("Basic ")
            user, _, password = base64.b64decode(given[6:]).decode().partition(":") if basic else ("", "", "")
            with lock:
                seen[user if accounts.get(user) == password else "refused"] += 1
            if accounts.get(user) != password:
                return 401, {"authenticated": False}, {"WWW-Authenticate": 'Basic realm="api"'}
            return 200, {"authenticated": True, "user": user}, {}

        with json_server(answer, with_headers=True) as url:
            proc = run_tool(tool, folder, url, tmp_path / f"{name}-res", cwd=tmp_path)
        series, _ = read_results([tmp_path / f"{name}-res"])
        calls, failures = sum(s.count for s in series), sum(s.failures for s in series)
        assert calls > 10, proc.stdout[-2000:] + proc.stderr[-2000:]
        if name == "right":
            assert failures == 0 and set(seen) == set(ACCOUNTS), (seen, {s.name: s.errors for s in series})
        else:  # alice's calls are refused: her password in the data is not the server's
            assert seen["refused"] > 0 and seen["bob, jr"] > 0 and "alice" not in seen, seen
            # (Locust may stop a user while its last call is in flight: answered, never recorded)
            assert 0 <= seen["refused"] - failures <= 2 and failures > 0, (failures, seen)

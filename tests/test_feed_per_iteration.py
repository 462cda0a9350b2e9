"""Data rows per iteration (`http.data.X.per: iteration`): each task run takes the data set's
next row, through Locust and k6, so a user walks the rows instead of keeping its first."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest

from .servers.json_api import json_server, run_tool
from .test_real_servers import build

pytestmark = pytest.mark.tools

SPEC = """\
version: 1
name: catalog
hosts:
  api: {url: "${API_URL}"}
http:
  data:
    items: {csv: items.csv, per: iteration}
  endpoints:
    view: {get: "/items/{user.sku}"}
  flows:
    shopper: {feed: items, tasks: [view]}
profiles:
  short: {users: 2, for: 2s}
targets:
  - {name: v, select: {endpoint: view}, error_rate: < 1%}
"""


@pytest.mark.parametrize("tool", ["locust", "k6"])
def test_each_iteration_takes_the_next_row(tmp_path: Path, tool: str) -> None:
    (tmp_path / "items.csv").write_text("sku\n" + "".join(f"sku-{i}\n" for i in range(5)))
    spec = tmp_path / "catalog.yaml"
    spec.write_text(SPEC)
    folder = build(spec, tmp_path / "gen", only=(tool,))
    seen: list[str] = []
    lock = threading.Lock()

    def answer(_method: str, path: str, _body: bytes) -> tuple[int, object, dict]:
        with lock:
            seen.append(path.rsplit("/", 1)[1])
        return 200, {}, {}

    with json_server(answer) as url:
        proc = run_tool(tool, folder, url, tmp_path / "results", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    counts = Counter(seen)
    assert set(counts) == {f"sku-{i}" for i in range(5)} and len(seen) > 50, counts
    assert max(counts.values()) - min(counts.values()) <= 3, counts  # in order, every row in turn

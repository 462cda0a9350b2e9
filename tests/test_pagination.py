"""`paginate:` through Locust and k6 against a paged API: next links as an absolute path, a query,
a full URL and null (JSON body), an endless Link header capped by max_pages, and a header holding
the next page's bare URL (as storage APIs send `Next-Page: https://...?_token=...`). Every page is
requested once per call, in order, under the endpoint's name, and never one page too many."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from perfspec.runtime.checker import read_results

from .servers.json_api import json_server, run_tool
from .test_real_servers import build

pytestmark = pytest.mark.tools

SPEC = """\
version: 1
name: paged
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    items: {get: /items, paginate: {next: $.page.next}}
    feed: {get: /feed, paginate: {next: "header:Link", max_pages: 3}}
    stored: {get: /stored, paginate: {next: "header:Next-Page"}}
profiles:
  short: {users: 1, for: 2s}
targets:
  - {name: all, select: {endpoint: [items, feed, stored]}, error_rate: < 1%}
"""


@pytest.mark.parametrize("tool", ["locust", "k6"])
def test_every_page_is_followed_once_and_no_further(tmp_path: Path, tool: str) -> None:
    spec = tmp_path / "paged.yaml"
    spec.write_text(SPEC)
    folder = build(spec, tmp_path / "gen", only=(tool,))
    seen: Counter[str] = Counter()
    lock = threading.Lock()
    base: list[str] = []

    def answer(_method: str, path: str, _body: bytes) -> tuple[int, object, dict]:
        url = urlsplit(path)
        query = parse_qs(url.query)
        if url.path == "/items":
            page = int(query.get("page", ["1"])[0])
            with lock:
                seen[f"items {page}"] += 1
            # the next link as an absolute path, a query of this page, a full URL, then none
            nxt = {1: "/items?page=2", 2: "?page=3", 3: f"{base[0]}/items?page=4"}.get(page)
            return 200, {"data": [page], "page": {"next": nxt}}, {}
        if url.path == "/stored":
            token = query.get("_token", ["a"])[0]
            with lock:
                seen[f"stored {token}"] += 1
            nxt = {"a": f"{base[0]}/stored?_token=b%2Bc", "b+c": "/stored?_token=d"}.get(token)
            return 200, {"data": [token]}, ({"next-page": nxt} if nxt else {})
        cursor = int(query.get("cursor", ["1"])[0])
        with lock:
            seen[f"feed {cursor}"] += 1
        link = f'<{base[0]}/feed?cursor={cursor + 1}>; rel="next", </feed?cursor=1>; rel="first"'
        return 200, {"data": [cursor]}, {"Link": link}  # endless: max_pages ends it

    with json_server(answer) as url:
        base.append(url)
        proc = run_tool(tool, folder, url, tmp_path / "results")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    first = seen["items 1"]
    assert first > 5, seen
    # each call walks 1, 2, 3, 4 (the run may stop a user between two pages of its last call)
    assert [seen[f"items {p}"] for p in (2, 3, 4)] >= [first - 1] * 3 and seen["items 5"] == 0, seen
    assert all(seen[f"items {p}"] <= first for p in (2, 3, 4)), seen
    calls = seen["feed 1"]
    assert calls > 5 and calls - 1 <= seen["feed 3"] <= calls and seen["feed 4"] == 0, seen
    stored = seen["stored a"]
    assert stored > 5 and stored - 1 <= seen["stored d"] <= seen["stored b+c"] <= stored, seen
    series = {s.name: s for s in read_results([tmp_path / "results"])[0]}
    # every page recorded under its endpoint (Locust: but one request in flight when it stops)
    cut = 0 if tool == "k6" else 1
    recorded = series["items"].count + series["feed"].count + series["stored"].count
    assert 0 <= sum(seen.values()) - recorded <= cut, (seen, recorded)
    assert series["items"].failures == series["feed"].failures == series["stored"].failures == 0

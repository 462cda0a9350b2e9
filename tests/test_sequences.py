"""`sequences:` in a flow, through Locust and k6 against a local cart API: the calls of a
sequence run in order with what the earlier ones returned, and the first failed call ends it (a
checkout whose `add` failed never pays)."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest

from perfspec.runtime.checker import read_results

from .servers.json_api import json_server, run_tool
from .test_real_servers import build

pytestmark = pytest.mark.tools

SPEC = """\
version: 1
name: shop
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    open_cart: {post: /carts, expect: {status: [201]}, extract: {cart: $.id}}
    add_item:  {post: "/carts/{cart}/items", json: {sku: "a-1"}, expect: {status: [200]}}
    pay:       {post: "/carts/{cart}/pay", expect: {status: [200]}}
    browse:    {get: /items}
  flows:
    shopper:
      sequences:
        checkout: [open_cart, add_item, pay]
      tasks: {checkout: 1, browse: 1}
profiles:
  short: {users: 2, for: 2s}
targets:
  - {name: all, select: {endpoint: [browse, pay]}, error_rate: < 1%}
"""


@pytest.mark.parametrize("tool", ["locust", "k6"])
def test_a_sequence_runs_in_order_and_stops_at_its_first_failure(tmp_path: Path, tool: str) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(SPEC)
    folder = build(spec, tmp_path / "gen", only=(tool,))
    calls: dict[int, list[str]] = {}
    ids, lock = itertools.count(1), threading.Lock()

    def answer(method: str, path: str, _body: bytes) -> tuple[int, object, dict]:
        with lock:
            if path == "/carts":
                cart = next(ids)
                calls[cart] = ["open"]
                return 201, {"id": cart}, {}
            if path == "/items":
                return 200, [], {}
            cart, step = int(path.split("/")[2]), path.split("/")[3]
            calls[cart].append(step)
            if step == "items" and cart % 3 == 0:  # every third cart cannot take the item
                return 500, {"error": "out of stock"}, {}
            return 200, {"ok": True}, {}

    with json_server(answer) as url:
        proc = run_tool(tool, folder, url, tmp_path / "results")
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    # each of the 2 users may be stopped between two calls of its last checkout: the 2 newest carts
    finished = {c: steps for c, steps in calls.items() if len(steps) > 1 or c < max(calls) - 1}
    assert len(finished) >= 6, calls
    for cart, steps in finished.items():
        if cart % 3 == 0:
            assert steps == ["open", "items"], (cart, steps)  # the failed add ended it: no pay
        elif steps != ["open"]:  # (the run may end between two calls of the last checkout)
            assert steps[:2] == ["open", "items"] and steps in (["open", "items"], ["open", "items", "pay"])
    paid = [c for c, steps in calls.items() if steps[-1:] == ["pay"]]
    assert paid and all(c % 3 for c in paid)
    series, _ = read_results([tmp_path / "results"])
    by_name = {s.name: s for s in series}
    assert by_name["add_item"].failures == by_name["add_item"].errors.get("HTTP 500") > 0
    # every payment recorded (Locust: but those in flight when it stops its users, one per user)
    assert 0 <= len(paid) - by_name["pay"].count <= (0 if tool == "k6" else 2)
    assert by_name["pay"].failures == 0

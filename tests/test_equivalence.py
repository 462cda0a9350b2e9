"""One spec, one request stream: a "kitchen-sink" spec using every HTTP construct of docs/spec.md
runs through Locust and through k6 against a recording server (tests/servers/recorder.py), and
the requests each tool sends must be the same, construct by construct, and what the spec says.

Random values are normalised ({uuid}, {now}, {epoch_ms}); JSON bodies are compared parsed (Python
and JavaScript space them differently); multipart bodies part by part, with one boundary in both.
Everything else is compared as sent: the request target byte for byte (query
encoding, `{{` escapes), header values, form and raw bodies. docs/equivalence.md lists each
construct with the request below that proves it. One user per flow, so each stream is in order."""

from __future__ import annotations

import json
import re
from email.parser import BytesParser
from email.policy import HTTP

import pytest

from perfspec.compiler.backends.http import MULTIPART
from perfspec.runtime.checker import read_results

from .servers.json_api import run_tool
from .servers.recorder import Request, recorder, ws_recorder
from .test_real_servers import build

pytestmark = pytest.mark.tools

SPEC = """\
version: 1
name: sink
hosts:
  api: {url: "${API_URL}"}
  chat: {url: "${CHAT_URL}"}
http:
  defaults: {host: api, headers: {X-Default: "d-{{x}}"}}
  data:
    people: {csv: people.csv}
    skus: {csv: skus.csv, per: iteration}
  setup: [admin_login]
  teardown: [admin_logout]
  endpoints:
    admin_login:
      post: /admin/login
      auth: {basic: {user: "${SINK_ADMIN:-admin}", password: "${SINK_PASSWORD:-pä ss}"}}
      extract: {admin_token: $.token}
    admin_logout: {delete: "/admin/session/{admin_token}", expect: {status: [204]}}
    login:
      post: /login
      json: {name: "{user.first}", tags: ["a", "{{b}}", "{admin_token}"], n: 1, ok: true, none: null, f: 1.5}
      extract: {token: $.token, etag: "header:ETag", uid: $.user.id}
    search:
      get: /search
      query: {q: "{{x}} y&z/é", n: 5, flag: true, who: "{user.first}", id: "{uid}"}
      headers: {X-Literal: "$${HOME} {{braces}}", X-Env: "${SINK_MISSING:-fallback}", X-Run: "{user.run}"}
      expect:
        status: [200]
        body_contains: results
        json: {"$.count": {">": 0}, "$.owner": "{uid}", "$.items[0].id": 1, "$.gone": {exists: false}}
    stamp: {post: /stamp, json: {at: "{now}", ms: "{epoch_ms}", seq: "{seq}", id: "{uuid}"}}
    form: {post: /form, form: {name: "{user.first}", text: "a b&c=d*!~", brace: "{{x}}"}}
    upload:
      post: /upload
      multipart: {title: "t-{user.first}", file: {file: pic.bin, content_type: application/octet-stream,
                                                   filename: pic.bin}}
      expect: {status: [201]}
    raw: {post: /raw, body: "raw {{text}} {user.first}", headers: {Content-Type: text/plain}}
    update: {put: "/items/{uid}", json: {v: 2}, headers: {If-Match: "{etag}"}}
    patch_item: {patch: "/items/{uid}", json: {v: 3}}
    head_item: {head: "/items/{uid}"}
    options_item: {options: "/items/{uid}"}
    flaky: {get: /flaky, retry: {on: [429], attempts: 3, backoff: 10ms}}
    paged: {get: /paged, paginate: {next: $.next}}
    linked: {get: /linked, paginate: {next: "header:Link"}}
    bare: {get: /bare, paginate: {next: "header:Next-Page"}}
    view: {get: "/sku/{user.sku}", timeout: 5s}
    events: {get: /events, stream: true, expect: {status: [200], body_contains: ok}}
    talk: {ws: "/talk?room={user.first}", host: chat, send: {hello: "{user.first}", n: 1, brace: "{{x}}"},
           messages: 2}
    remove: {delete: "/items/{uid}", expect: {status: [204]}}
  flows:
    member:
      feed: people
      user: {run: "run-{uuid}"}
      auth: {basic: {user: "{user.first}", password: "{user.password}"}}
      headers: {X-Flow: member, X-Token: "Bearer {token}"}
      on_start: [login]
      sequences:
        all: [search, stamp, form, upload, raw, update, patch_item, head_item, options_item, flaky, paged,
              linked, bare, events, talk]
      tasks: [all]
      on_stop: [remove]
      k6_on_stop: skip
    shopper:
      feed: skus
      headers: {X-Flow: shopper}
      tasks: [view]
profiles:
  members: {users: 1, for: 2s, flows: [member]}
  shoppers: {users: 1, for: 1s, flows: [shopper]}
targets:
  - {name: members, select: {flow: member}, error_rate: < 1%}
"""

PICTURE = b"PIC\x00\x01\r\nend"
TOOL_HEADERS = {
    "user-agent",
    "accept-encoding",
    "connection",
    "host",
    "content-length",
    "accept",
    # the WebSocket handshake, each client's own (websocket-client also sends an Origin)
    "upgrade",
    "origin",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
}
_RANDOM = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "<now>"),
    (re.compile(r"\b1\d{12}\b"), "<epoch_ms>"),
]
BASIC_ANN = "Basic YW5uOnAx"  # ann:p1, the first row of people.csv
MEMBER = {"authorization": BASIC_ANN, "x-default": "d-{x}", "x-flow": "member", "x-token": "Bearer tok-1"}
JSON = {"content-type": "application/json"}
# What the spec says member's first iteration sends: (method, target, headers besides MEMBER, body)
FIRST_ITERATION = [
    (
        "GET",
        "/search?flag=true&id=7&n=5&q=%7Bx%7D%20y%26z%2F%C3%A9&who=ann",
        {"x-env": "fallback", "x-literal": "${HOME} {braces}", "x-run": "run-<uuid>"},
        "",
    ),
    ("POST", "/stamp", JSON, {"at": "<now>", "ms": "<epoch_ms>", "seq": "1", "id": "<uuid>"}),
    (
        "POST",
        "/form",
        {"content-type": "application/x-www-form-urlencoded"},
        "name=ann&text=a+b%26c%3Dd%2A%21~&brace=%7Bx%7D",
    ),
    (
        "POST",
        "/upload",
        {"content-type": MULTIPART},
        [("title", None, None, b"t-ann"), ("file", "pic.bin", "application/octet-stream", PICTURE)],
    ),
    ("POST", "/raw", {"content-type": "text/plain"}, "raw {text} ann"),
    ("PUT", "/items/7", {**JSON, "if-match": '"v1"'}, {"v": 2}),
    ("PATCH", "/items/7", JSON, {"v": 3}),
    ("HEAD", "/items/7", {}, ""),
    ("OPTIONS", "/items/7", {}, ""),
    ("GET", "/flaky", {}, ""),  # 429 with Retry-After: 0 ...
    ("GET", "/flaky", {}, ""),  # ... and the retry
    ("GET", "/paged", {}, ""),
    ("GET", "/paged?p=2", {}, ""),  # a JSON body's $.next
    ("GET", "/linked", {}, ""),
    ("GET", "/linked?p=2", {}, ""),  # a Link header's rel="next"
    ("GET", "/bare", {}, ""),
    ("GET", "/bare?p=2&_token=a%2Bb", {}, ""),  # a header holding the bare URL
    ("GET", "/events", {}, ""),  # stream: true
]
TALK = (
    "GET",
    "/talk?room=ann",
    {"x-default": "d-{x}", "x-flow": "member", "x-token": "Bearer tok-1", "authorization": BASIC_ANN},
    "",
)
MESSAGE = ("WS", "/talk?room=ann", {}, {"hello": "ann", "n": 1, "brace": "{x}"})
LOGIN = (
    "POST",
    "/login",
    {"authorization": BASIC_ANN, "x-default": "d-{x}", "x-flow": "member", **JSON},
    {"name": "ann", "tags": ["a", "{b}", "adm-1"], "n": 1, "ok": True, "none": None, "f": 1.5},
)
SETUP = ("POST", "/admin/login", {"authorization": "Basic YWRtaW46cMOkIHNz", "x-default": "d-{x}"}, "")
TEARDOWN = ("DELETE", "/admin/session/adm-1", {"x-default": "d-{x}"}, "")


def normalised(text: str) -> str:
    for pattern, mark in _RANDOM:
        text = pattern.sub(mark, text)
    return text


def shape(r: Request) -> tuple:
    """(method, target, headers, body) with random values normalised and the body decoded."""
    headers = {k: normalised(v) for k, v in sorted(r.headers.items()) if k not in TOOL_HEADERS}
    kind = headers.get("content-type", "")
    body: object = normalised(r.body.decode("utf-8", "replace"))
    if kind.startswith("multipart/form-data"):  # both send the support modules' one encoding
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + r.body)
        body = [
            (
                p.get_param("name", header="content-disposition"),
                p.get_filename(),
                p.get_content_type() if p.get_filename() else None,
                p.get_payload(decode=True),
            )
            for p in message.iter_parts()
        ]
    elif (kind == "application/json" or r.method == "WS") and r.body:
        body = json.loads(normalised(r.body.decode()))
    return r.method, normalised(r.target), headers, body


def expected(method: str, target: str, headers: dict, body: object, flow: dict) -> tuple:
    return method, target, dict(sorted({**flow, **headers}.items())), body


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list]]:
    """Per tool and per flow (its X-Flow header; `test` for http.setup/teardown) the requests the
    recording server received, in order; also each tool's result folder under `results`."""
    root = tmp_path_factory.mktemp("sink")
    (root / "pyproject.toml").write_text("")  # the project: data files are read inside it
    (root / "people.csv").write_text("first,password\nann,p1\nbob,p2\n")
    (root / "skus.csv").write_text("sku\nsku-1\nsku-2\nsku-3\n")
    (root / "pic.bin").write_bytes(PICTURE)
    (root / "sink.yaml").write_text(SPEC)
    out: dict[str, dict[str, list]] = {}
    for tool in ("locust", "k6"):
        folder = build(root / "sink.yaml", root / f"gen-{tool}", only=(tool,))
        found: dict[str, list] = {}
        for profile in ("members", "shoppers"):
            with recorder() as rec, ws_recorder() as ws:
                proc = run_tool(
                    tool,
                    folder,
                    rec.url,
                    root / f"res-{tool}-{profile}",
                    cwd=root,
                    PERFSPEC_PROFILE=profile,
                    CHAT_URL=ws.url,
                )
            assert rec.requests, proc.stdout[-2000:] + proc.stderr[-2000:]
            for r in rec.requests:
                found.setdefault(f"{profile}:{r.headers.get('x-flow', 'test')}", []).append(shape(r))
            found[f"{profile}:ws"] = [shape(r) for r in ws.requests]
        found["results"] = [root / f"res-{tool}-members"]
        out[tool] = found
    return out


@pytest.mark.parametrize("tool", ["locust", "k6"])
def test_each_tool_sends_what_the_spec_says(streams: dict, tool: str) -> None:
    got = streams[tool]
    member = got["members:member"]
    assert member[0] == expected(*LOGIN, {})
    iteration = [expected(*step, MEMBER) for step in FIRST_ITERATION]
    assert member[1 : 1 + len(iteration)] == iteration
    second = member[1 + len(iteration) : 1 + 2 * len(iteration)]
    assert second[1][3]["seq"] == "2" and len(second) == len(iteration)  # {seq} counts per user
    for profile in ("members", "shoppers"):
        assert got[f"{profile}:test"] == [expected(*SETUP, {}), expected(*TEARDOWN, {})]
    talk = got["members:ws"][:3]  # the connection, then each of its messages
    assert talk == [expected(*TALK, {}), expected(*MESSAGE, {}), expected(*MESSAGE, {})]
    rows = [r[1] for r in got["shoppers:shopper"][:4]]
    assert rows == ["/sku/sku-1", "/sku/sku-2", "/sku/sku-3", "/sku/sku-1"]  # a row per iteration
    # on_stop: Locust deletes the item; k6 has none (the spec accepts it: k6_on_stop: skip)
    deletes = [r for r in member if r[0] == "DELETE"]
    assert deletes == ([expected("DELETE", "/items/7", {}, "", MEMBER)] if tool == "locust" else [])
    series = read_results(got["results"])[0]
    assert sum(s.count for s in series) > 20 and not {s.name: s.errors for s in series if s.failures}


def test_locust_and_k6_send_the_same_requests(streams: dict) -> None:
    """Beyond the first iterations above: every request of the streams both tools sent in full
    (a run may stop mid-iteration), in order, with 0 differences."""
    for flow in ("members:member", "shoppers:shopper", "members:test", "shoppers:test", "members:ws"):
        a, b = streams["locust"][flow], streams["k6"][flow]
        if flow == "members:member":  # Locust's on_stop DELETE is its last request
            a = [r for r in a if r[0] != "DELETE"]
        n = min(len(a), len(b))
        assert n >= (2 if flow.endswith("test") else 6), (flow, len(a), len(b))
        cut = n - n % (1 + len(FIRST_ITERATION)) if flow == "members:member" else n
        diffs = [(i, x, y) for i, (x, y) in enumerate(zip(a[:cut], b[:cut], strict=True)) if x != y]
        assert not diffs, (flow, diffs[:3])

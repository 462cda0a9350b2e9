"""A recording server for the cross-tool equivalence test: it answers as a small real API would
(a login with a token, an ETag and a user id, three forms of paged answers, a 429 with Retry-After
every other call, 201/204 where REST says so) and logs every request it receives: method, raw
request target, headers and body. Runs on 127.0.0.1 at an ephemeral port."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from .json_api import json_server


@dataclass
class Request:
    method: str
    target: str  # the raw request target: path and query as sent
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Recorder:
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    calls: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, method: str, target: str, body: bytes, headers: dict) -> tuple[int, object, dict]:
        with self.lock:
            self.requests.append(Request(method, target, {k.lower(): v for k, v in headers.items()}, body))
            path = urlsplit(target).path
            self.calls[path] += 1
            nth = self.calls[path]
        page = parse_qs(urlsplit(target).query).get("p", ["1"])[0]
        if path == "/admin/login":
            return 200, {"token": "adm-1"}, {}
        if path == "/login":
            return 200, {"token": "tok-1", "user": {"id": 7}}, {"ETag": '"v1"'}
        if path == "/search":
            return 200, {"results": [], "count": 3, "owner": 7, "items": [{"id": 1}]}, {}
        if path == "/upload":
            return 201, {"ok": True}, {}
        if method == "DELETE":
            return 204, None, {}
        if path == "/flaky" and nth % 2:  # every other call is refused once, to be retried
            return 429, {"error": "slow down"}, {"Retry-After": "0"}
        if path == "/paged":
            return 200, {"items": [page], "next": "/paged?p=2" if page == "1" else None}, {}
        if path == "/linked":
            return 200, {"items": [page]}, ({"Link": '</linked?p=2>; rel="next"'} if page == "1" else {})
        if path == "/bare":
            more = {"Next-Page": f"{self.url}/bare?p=2&_token=a%2Bb"} if page == "1" else {}
            return 200, {"items": [page]}, more
        return 200, {"ok": True}, {}


@contextmanager
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    with json_server(rec.answer, with_headers=True) as url:
        rec.url = url
        yield rec


@contextmanager
def ws_recorder() -> Iterator[Recorder]:
    """A WebSocket echo on 127.0.0.1 that records each connection's request (as a Request whose
    body is empty) and then each text message it receives (method `WS`, the message as body)."""
    import asyncio

    from aiohttp import WSMsgType, web

    rec = Recorder()

    async def echo(request: web.Request) -> web.WebSocketResponse:
        with rec.lock:
            headers = {k.lower(): v for k, v in request.headers.items()}
            rec.requests.append(Request("GET", request.path_qs, headers, b""))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                with rec.lock:
                    rec.requests.append(Request("WS", request.path_qs, {}, msg.data.encode()))
                await ws.send_str(msg.data)
        return ws

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_get("/{tail:.*}", echo)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - aiohttp names no public accessor
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{port}"
    try:
        yield rec
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()

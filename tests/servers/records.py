"""A small REST server that behaves like real ones: canonicalised header names (`Etag`, as Go's
net/http writes them), 201 on create, 412 on a stale If-Match, 204 on delete. Counts what it saw."""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RecordsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    records: dict[str, str] = {}
    seen: Counter = Counter()
    ids = itertools.count(1)
    lock = threading.Lock()

    def log_message(self, *_args) -> None:  # quiet
        pass

    def _send(self, status: int, body: dict | None = None, headers: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.lock:
            rid = str(next(self.ids))
            self.records[rid] = f'"v{rid}"'
            self.seen["create"] += 1
        self._send(201, {"id": rid}, {"Etag": self.records[rid]})  # canonical form, not "ETag"

    def do_GET(self) -> None:  # noqa: N802
        rid = self.path.rsplit("/", 1)[-1]
        etag = self.records.get(rid)
        if etag is None:
            self._send(404, {"error": "no such record"})
        elif self.headers.get("If-Match") != etag:
            self.seen["stale"] += 1
            self._send(412, {"error": "precondition failed"})
        else:
            self._send(200, {"id": rid, "status": "ok"})

    def do_DELETE(self) -> None:  # noqa: N802
        rid = self.path.rsplit("/", 1)[-1]
        with self.lock:
            found = self.records.pop(rid, None)
            self.seen["delete"] += 1
        self._send(204 if found else 404)


@contextmanager
def records_server():
    RecordsHandler.records, RecordsHandler.seen = {}, Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", RecordsHandler.seen
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    """`python -m tests.servers.records`: serve until killed, the URL on the first line."""
    RecordsHandler.records, RecordsHandler.seen = {}, Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordsHandler)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

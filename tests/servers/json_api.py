"""A tiny JSON API for tests of generated files: the test gives the answer per request, the server
writes it in one piece (no Nagle delay) and runs on 127.0.0.1 at an ephemeral port. Also the way
those tests run a generated file with its tool."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..conftest import require_tool

# (method, path, request body) -> (status, JSON body, extra headers)
Answer = Callable[[str, str, bytes], tuple[int, object, dict]]


@contextmanager
def json_server(answer: Answer, with_headers: bool = False) -> Iterator[str]:
    """`answer(method, path, body)`, or with `with_headers` also the request's headers."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = -1  # one write per answer: no 40 ms of Nagle and delayed ACKs per request

        def log_message(self, *_args) -> None:
            pass

        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            extra = (dict(self.headers),) if with_headers else ()
            status, payload, headers = answer(self.command, self.path, body, *extra)
            data = b"" if status in (204, 304) else json.dumps(payload).encode()  # no body, as HTTP says
            head = self.command == "HEAD"
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head:  # a HEAD answer has the headers of a GET and no body
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer  # noqa: N815

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_tool(
    tool: str, folder: Path, url: str, results: Path, cwd: Path | None = None, **extra: str
) -> subprocess.CompletedProcess:
    """The generated locustfile or k6 script as its tool runs it, results into `results`; `extra`
    environment variables (e.g. PERFSPEC_PROFILE)."""
    env = {
        **os.environ,
        "API_URL": url,
        "PERFSPEC_RESULTS_DIR": str(results),
        "K6_NO_USAGE_REPORT": "true",
        **extra,
    }
    results.mkdir(parents=True)
    if tool == "locust":
        cmd = [require_tool("locust"), "-f", str(folder / "locustfile.py"), "--headless", "--only-summary"]
    else:
        cmd = [require_tool("k6"), "run", "--out", f"json={results / 'k6.ndjson'}", str(folder / "k6.js")]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=cwd)

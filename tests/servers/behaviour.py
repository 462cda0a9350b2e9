"""A target with known behaviour, for tests that check a verdict against the truth:

- `/fast`: answers at once;
- `/stall`: answers at once, except that every `period` seconds it holds every request for
  `stall` seconds (a GC pause, a lock, a failover);
- `/fail`: every `fail_every`-th request answers 500, the rest 200;
- `/work`: one request at a time (a single worker), each taking `service` seconds: its
  capacity is exactly 1 / service requests per second.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BehaviourHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    started = 0.0
    period, stall = 3.0, 1.5
    fail_every = 10
    service = 0.005
    counter = itertools.count(1)
    worker = threading.Lock()

    def log_message(self, *_args) -> None:
        pass

    def _send(self, status: int) -> None:
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?")[0]
        if path == "/stall":
            phase = (time.monotonic() - self.started) % self.period
            if phase < self.stall:
                time.sleep(self.stall - phase)
            self._send(200)
        elif path == "/fail":
            self._send(500 if next(self.counter) % self.fail_every == 0 else 200)
        elif path == "/work":
            with self.worker:
                time.sleep(self.service)
            self._send(200)
        else:
            self._send(200)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


@contextmanager
def behaviour_server(**settings: float) -> Iterator[str]:
    handler = type(
        "Handler",
        (BehaviourHandler,),
        {**settings, "started": time.monotonic(), "counter": itertools.count(1), "worker": threading.Lock()},
    )
    server = Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()

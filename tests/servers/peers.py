"""A target that counts its requests per client address and tool (from the User-Agent), for
tests whose load comes from other hosts. Run in a namespace:

    python -m tests.servers.peers ADDRESS PORT OUT.json

On SIGTERM it writes {"ADDRESS k6": count, ...} to OUT.json and exits.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEEN: Counter[str] = Counter()
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1

    def log_message(self, *_args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        agent = self.headers.get("User-Agent", "")
        tool = "k6" if "k6" in agent else "locust"  # the only other tool these tests run
        with LOCK:
            SEEN[f"{self.client_address[0]} {tool}"] += 1
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    address, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    server = ThreadingHTTPServer((address, port), Handler)
    server.daemon_threads = True

    def stop(*_args) -> None:
        with LOCK, open(out, "w") as handle:
            json.dump(dict(SEEN), handle)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()


if __name__ == "__main__":
    main()

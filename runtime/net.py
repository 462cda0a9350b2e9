"""Small helpers the runtime shares: a free local port, stopping a process it started, and
URLs/DSNs fit for output."""

from __future__ import annotations

import re
import socket
import subprocess


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def mask(text: str) -> str:
    """A URL or DSN fit for logs, manifests and reports: user:password@ and password=... masked."""
    text = re.sub(r"(?i)(password\s*=\s*)[^&\s]+", r"\1***", text)
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", text)


def stop(proc: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; always reaped."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

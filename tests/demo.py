"""Start the demo target on an ephemeral 127.0.0.1 port for a test, and always stop it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator


@contextlib.contextmanager
def demo_target(*args: str, timeout: float = 60) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "perfspec.runtime.demo", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + timeout
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("http://") or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"demo target did not start: {line!r} {proc.stderr.read()[-2000:]}")
        yield line.strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

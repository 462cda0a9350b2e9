"""Start the demo target on an ephemeral 127.0.0.1 port for a test, and always stop it: the
runner's own `demo()` (with its throwaway PostgreSQL), so tests start it exactly as `perfspec run`
does."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from perfspec.runtime.runner import demo


@contextlib.contextmanager
def demo_target(*args: str) -> Iterator[str]:
    with demo(None, list(args)) as url:
        yield url

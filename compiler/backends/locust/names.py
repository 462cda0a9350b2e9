"""The names a generated locustfile deals in: those an endpoint method must not take (Locust's
FastHttpUser and PerfspecUser have them), what it may import from the support module, and what
its code uses (for its imports)."""

from __future__ import annotations

import ast
import functools
import io
import tokenize

from ..http import support_source

# names of Locust's FastHttpUser and of PerfspecUser that an endpoint method must not shadow
RESERVED = {
    "abstract",
    "client",
    "client_pool",
    "concurrency",
    "connection_timeout",
    "context",
    "default_headers",
    "environment",
    "feed",
    "finished",
    "fixed_count",
    "fullname",
    "greenlet",
    "group",
    "has",
    "headers",
    "host",
    "insecure",
    "json",
    "max_redirects",
    "max_retries",
    "max_wait",
    "min_wait",
    "missing",
    "network_timeout",
    "on_start",
    "on_start_calls",
    "on_stop",
    "proxy_host",
    "proxy_port",
    "rest",
    "rest_",
    "run",
    "seq",
    "sequence",
    "ssl_context_factory",
    "start",
    "started",
    "stop",
    "stream",
    "tasks",
    "var",
    "vars",
    "wait",
    "wait_function",
    "wait_time",
    "websocket",
    "weight",
}


@functools.cache
def support_names() -> list[str]:
    """What a locustfile may import from the support module (its `__all__`), in the order an
    import lists them (classes first)."""
    tree = ast.parse(support_source("perfspec_locust.py"))
    names = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
    )
    return sorted(names, key=lambda n: (not n[0].isupper(), n))


def used_names(code: str) -> set[str]:
    """Names the code reads outside string literals and comments (for its imports); a name
    followed by `=` is a keyword argument, one after `def`, `class` or `.` a definition or an
    attribute (an endpoint method `events` is not Locust's `events`): none is a use."""
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(code).readline)
        if t.type in (tokenize.NAME, tokenize.OP)
    ]
    return {
        t.string
        for before, t, after in zip([None, *tokens[:-1]], tokens, [*tokens[1:], None], strict=True)
        if t.type == tokenize.NAME
        and not (after is not None and after.string == "=")
        and not (before is not None and before.string in ("def", "class", "."))
    }

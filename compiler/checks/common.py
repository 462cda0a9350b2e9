"""What the section checks share: the patterns of JSON paths and SQL parameters, the literal
password rule, variable references."""

from __future__ import annotations

import re

from .. import templates
from ..spec import Endpoint
from ..units import Bound, format_value

JSONPATH = re.compile(r"^\$(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\]|\[\"[^\"]*\"\])*$")
DOLLAR_PARAM = re.compile(r"\$(\d+)")
_URL_PASSWORD = re.compile(r"(?i)^[a-z][a-z0-9+.-]*://[^:/@]*:([^@/]*)@")
_KEY_PASSWORD = re.compile(r"(?i)(?:^|[?&\s])password\s*=\s*([^&\s]*)")
_FROM_ENV = "\x00env\x00"  # a ${VAR} without default: its value comes at run time


def literal_password(text: str) -> bool:
    """A password written in the spec (in a URL, a `password=` pair, or the default of a
    ${VAR:-default}); one that comes wholly from an environment variable is fine."""
    from ..spec import ENV_REF

    resolved = ENV_REF.sub(lambda m: m.group(2) if m.group(2) is not None else _FROM_ENV, text)
    for pattern in (_URL_PASSWORD, _KEY_PASSWORD):
        m = pattern.search(resolved)
        if m and m.group(1) and m.group(1) != _FROM_ENV:
            return True
    return False


def bad_ref(name: str, pattern: bool) -> str | None:
    """Why `name` cannot be a branch (git check-ref-format; `pattern` allows * ? [ ] !)."""
    if not name:
        return "it is empty"
    for c in name:
        if ord(c) < 0x20 or ord(c) == 0x7F:
            return "it holds a control character (a line break?)"
        if c == " ":
            return "it holds a space"
        if c in "~^:\\${}" or (not pattern and c in "*?[]"):
            return f"it holds {c!r}"  # $ { }: GitHub and actionlint would read an expression
    if ".." in name or "@{" in name or "//" in name:
        return "it holds '..', '@{' or '//'"
    if pattern and name.count("[") != name.count("]"):
        return "its [ ] do not pair up (a glob character class)"
    if name.startswith(("-", "/")) or name.endswith(("/", ".", ".lock")):
        return "it starts with '-' or '/', or ends with '/', '.' or '.lock'"
    return None


def endpoint_vars(ep: Endpoint) -> set[str]:
    strings = [
        ep.path,
        *ep.headers.values(),
        *(v for v in ep.query.values() if isinstance(v, str)),
        *(ep.form or {}).values(),
        *([ep.body] if ep.body else []),
        *(s for _, s in templates.walk_strings(ep.json_)),
        *(s for _, s in templates.walk_strings(ep.send)),
        *(s for _, s in templates.walk_strings(ep.expect.json_ if ep.expect else None)),
        *([ep.auth.basic.user, ep.auth.basic.password] if ep.auth else []),
    ]
    out: set[str] = set()
    for s in strings:
        try:
            out.update(templates.variables(s))
        except templates.TemplateError:
            pass
    return out


def tighter(b: Bound) -> str:
    factor = 0.8 if b.upper else 1.2
    if b.quantity.kind == "percent":
        return f"{b.op} {b.quantity.text}"
    return f"{b.op} {format_value(b.quantity.value * factor, b.quantity.kind)}"

"""The placeholder language of spec strings, parsed into data so backends never paste text.

`Bearer {token}` -> [("text", "Bearer "), ("var", "token")]; `${API_URL:-http://x}` ->
[("env", "API_URL", "http://x")]; `{{`, `}}` are literal braces and `$${NAME}` is
the literal text `${NAME}`. Generated code receives the
parts as literals and joins them at run time: spec text stays data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BUILTINS = {
    "uuid": "a new random UUID each time",
    "seq": "a per-user counter: 1, 2, 3, ...",
    "now": "the current time in UTC, ISO 8601 to the second: 2026-11-29T10:00:00Z",
    "epoch_ms": "the current time in milliseconds since 1970, as text",
}

_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Part = tuple[str, ...]


@dataclass(frozen=True)
class TemplateError(Exception):
    message: str
    hint: str
    offset: int


def parse(text: str) -> list[Part]:
    """Split a template into text, var and env parts; raises TemplateError."""
    parts: list[Part] = []
    buf: list[str] = []
    i, n = 0, len(text)

    def flush() -> None:
        if buf:
            parts.append(("text", "".join(buf)))
            buf.clear()

    while i < n:
        c = text[i]
        if c == "$" and text.startswith("${", i):
            m = _ENV.match(text, i)
            if not m:
                raise TemplateError(
                    f"malformed environment reference at {text[i : i + 20]!r}",
                    "write ${NAME} or ${NAME:-default}; write $${ for a literal '${'",
                    i,
                )
            flush()
            parts.append(("env", m.group(1), m.group(2)) if m.group(2) is not None else ("env", m.group(1)))
            i = m.end()
        elif c == "$" and text.startswith("$${", i):
            end = text.find("}", i)  # $${NAME} is the literal text ${NAME}
            buf.append(text[i + 1 : end + 1] if end != -1 else "${")
            i = end + 1 if end != -1 else i + 3
        elif c == "{" and text.startswith("{{", i):
            buf.append("{")
            i += 2
        elif c == "}" and text.startswith("}}", i):
            buf.append("}")
            i += 2
        elif c == "{":
            end = text.find("}", i)
            name = text[i + 1 : end] if end != -1 else ""
            if end == -1 or not _VAR.fullmatch(name):
                raise TemplateError(
                    f"unclosed or malformed placeholder at {text[i : i + 20]!r}",
                    "write {name} for a variable, or {{ and }} for literal braces",
                    i,
                )
            flush()
            parts.append(("var", name))
            i = end + 1
        elif c == "}":
            raise TemplateError("a lone '}'", "write }} for a literal brace", i)
        else:
            buf.append(c)
            i += 1
    flush()
    return parts


RESERVED_ENV = {
    "PATH",
    "HOME",
    "SHELL",
    "USER",
    "LOGNAME",
    "PWD",
    "OLDPWD",
    "IFS",
    "LANG",
    "TERM",
    "TMPDIR",
    "HOSTNAME",
    "CI",
    "PYTHONPATH",
    "PYTHONHOME",
    "NODE_OPTIONS",
}
RESERVED_ENV_PREFIXES = ("GITHUB_", "RUNNER_", "ACTIONS_", "LD_", "LC_")


def reserved_env(name: str) -> bool:
    """An environment variable the shell, the OS or GitHub's runner sets itself: a spec never
    reads a value from it (the workflow would overwrite it with a secret)."""
    return name.upper() in RESERVED_ENV or name.upper().startswith(RESERVED_ENV_PREFIXES)


def variables(text: str) -> list[str]:
    """Variable names a template uses (raises TemplateError)."""
    return [p[1] for p in parse(text) if p[0] == "var"]


def env_names(text: str) -> list[str]:
    return [p[1] for p in parse(text) if p[0] == "env"]


def is_plain(parts: list[Part]) -> bool:
    return all(p[0] == "text" for p in parts)


JSON_OPERATORS = ("exists", "==", "!=", "<", "<=", ">", ">=")


def is_operator_map(value: object) -> bool:
    """`expect.json` value `{">": 0}` or `{exists: true}`: a map whose keys are operators (a map
    with other keys is an object the field must equal; `{"==": {...}}` compares with any object)."""
    return isinstance(value, dict) and bool(value) and any(k in JSON_OPERATORS for k in value)


def text_of(parts: list[Part]) -> str:
    """The text of a plain template (its escapes resolved: `{{` is `{`)."""
    return "".join(p[1] for p in parts)


def query_string(params: dict[str, str]) -> str:
    """`?k=v&...` as the support modules send it: encodeURIComponent's percent-encoding (UTF-8, a
    space is %20), byte for byte what perfspec_locust's query_string() and k6 send."""
    from urllib.parse import quote

    safe = "!*'()"
    return "?" + "&".join(f"{quote(k, safe=safe)}={quote(v, safe=safe)}" for k, v in params.items())


_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[(\"[^\"]*\")\]")


def json_path_keys(path: str) -> list:
    """`$.a.b[0]["c"]` -> ["a", "b", 0, "c"], so generated code walks keys, never parses."""
    import json

    keys: list = []
    for m in _PATH_PART.finditer(path):
        if m.group(1) is not None:
            keys.append(m.group(1))
        elif m.group(2) is not None:
            keys.append(int(m.group(2)))
        else:
            keys.append(json.loads(m.group(3)))
    return keys


def path_table(extracts: list[dict[str, str]]) -> dict[str, list]:
    """Every JSON path the endpoints extract -> its keys."""
    return {p: json_path_keys(p) for ex in extracts for p in sorted(ex.values()) if p.startswith("$")}


def walk_strings(value: object, path: tuple = ()) -> list[tuple[tuple, str]]:
    """Every string inside JSON-like data with its path, for templated bodies."""
    out: list[tuple[tuple, str]] = []
    if isinstance(value, str):
        out.append((path, value))
    elif isinstance(value, dict):
        for k in value:
            out.extend(walk_strings(value[k], (*path, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(walk_strings(v, (*path, i)))
    return out

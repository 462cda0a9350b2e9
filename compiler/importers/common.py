"""What both importers share: the draft spec they fill, names, template escaping."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def name_of(text: str, fallback: str) -> str:
    """A spec name (letters, digits, _ - .; a letter or _ first; at most 80) for any text."""
    name = _NOT_NAME.sub("_", text).strip("_.-") or fallback
    if not (name[0].isalpha() or name[0] == "_"):
        name = f"{fallback}_{name}"
    return name[:80].rstrip("_.-") or fallback


def unique(name: str, taken: set[str]) -> str:
    out, n = name, 2
    while out in taken:
        out, n = f"{name[:76]}_{n}", n + 1
    taken.add(out)
    return out


def escape_text(text: str) -> str:
    """Literal text as a spec template: braces doubled, `${...}` written `$${...}`."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("${", i):
            end = text.find("}", i)
            if end == -1:
                out.append("$${")
                i += 2
            else:
                out.append("$" + text[i : end + 1])  # $${...} is the literal text ${...}
                i = end + 1
            continue
        out.append({"{": "{{", "}": "}}"}.get(text[i], text[i]))
        i += 1
    return "".join(out)


def escape(value: Any) -> Any:
    """Every string of a value (keys too) as literal template text."""
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, dict):
        return {escape(k) if isinstance(k, str) else k: escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape(v) for v in value]
    return value


@dataclass
class Draft:
    """A starter spec as data: what the writer lays out and comments."""

    name: str
    description: str | None = None
    source: str = ""  # what it was imported from, for the header
    hosts: dict[str, dict] = field(default_factory=lambda: {"api": {"url": "${API_URL}"}})
    endpoints: dict[str, dict] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)  # endpoint -> a line above it
    headers: dict[str, str] = field(default_factory=dict)  # the flow's
    auth: dict | None = None
    user: dict[str, str] = field(default_factory=dict)
    on_start: list[str] = field(default_factory=list)
    on_stop: list[str] = field(default_factory=list)
    tasks: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # header lines: what the user must set


# names whose values are credentials: a recorded or example value of one never reaches the spec
SECRET = re.compile(
    r"pass(word|wd|phrase)?|pwd|token|secret|api[-_]?key|apikey|(^|[-_])key$|auth|session|"
    r"(^|[-_])sig(nature)?$|credential|private[-_]?key|cookie",
    re.IGNORECASE,
)


def secret_name(name: str) -> bool:
    return bool(SECRET.search(name))


def env_name(name: str) -> str:
    """An environment variable's name for a field: api_key -> API_KEY."""
    from ..templates import reserved_env

    text = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper() or "SECRET"
    text = text if not text[0].isdigit() else f"V_{text}"
    return f"API_{text}" if reserved_env(text) else text  # never PWD, PATH, HOME, GITHUB_*, ...


def scrub(value: Any, where: str, notes: list[str]) -> Any:
    """`value` with every credential-named field's value replaced by an environment variable
    reference (`${PASSWORD}`), each named once in `notes`; keys and other values as they are."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if (
                isinstance(key, str)
                and secret_name(key)
                and isinstance(item, str | int | float)
                and item != ""
            ):
                var = env_name(key)
                out[key] = "${" + var + ":-}"  # empty until set, as the token header
                note = f"{where}.{key}: its value is not copied; set {var}"
                if note not in notes:
                    notes.append(note)
            else:
                out[key] = scrub(item, f"{where}.{key}", notes)
        return out
    if isinstance(value, list):
        return [scrub(item, where, notes) for item in value]
    return value


def scrub_draft(draft: Draft) -> Draft:
    """Every endpoint's query, headers, JSON and form body without a credential's value."""
    for name, endpoint in draft.endpoints.items():
        for part in ("query", "headers", "json", "form"):
            if part in endpoint:
                endpoint[part] = scrub(endpoint[part], f"{name}.{part}", draft.notes)
    return draft


__all__ = ["Draft", "escape", "escape_text", "name_of", "scrub_draft", "secret_name", "unique"]

"""Expressions of generated Python and JavaScript, laid out the way `ruff format` lays them out.

Backends build code from these nodes, never by pasting spec text: every spec string becomes a
string literal (`py_str`/`js_str`), every template part a call, and `statement` breaks a line
that is too long as ruff does (all arguments on one indented line, else one per line with a
trailing comma). Shared by the Locust and k6 backends.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .. import templates

WIDTH = 110


def py_str(text: str) -> str:
    """A double-quoted Python literal; line terminators and control characters escaped."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1])
    out.append('"')
    return "".join(out)


def js_str(text: str) -> str:
    """A double-quoted JavaScript (and JSON) literal; U+2028/U+2029 escaped too."""
    return json.dumps(text, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


@dataclass(frozen=True)
class Raw:
    """Code written by the backend itself (names, numbers, operators), never spec text."""

    text: str


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple  # Expr or (keyword, Expr)


@dataclass(frozen=True)
class Coll:
    open: str
    close: str
    items: tuple  # Expr, or (key Expr, value Expr) in a dict


Expr = Raw | Call | Coll


@dataclass(frozen=True)
class Lang:
    string: Any  # str -> literal
    kw: str  # "=" for Python keywords; JS has none
    colon: str
    none: str
    true: str
    false: str
    step: int  # indent of a broken line's items
    key: Any = None  # str -> an object key the backend names: bare where the language allows it


def js_key(text: str) -> str:
    """A JS object key as k6's examples write one: bare when it is an identifier (`executor`,
    `target`), else a string literal (`"http_req_duration{name:x}"`)."""
    return text if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", text) else js_str(text)


PY = Lang(py_str, "=", ": ", "None", "True", "False", 4, py_str)
JS = Lang(js_str, "", ": ", "null", "true", "false", 2, js_key)


def literal(value: Any, lang: Lang) -> Expr:
    """JSON-like data as an expression; dict keys and strings are literals."""
    if isinstance(value, Raw | Call | Coll):
        return value
    if isinstance(value, dict):
        return Coll("{", "}", tuple((Raw(lang.key(str(k))), literal(v, lang)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return Coll("[", "]", tuple(literal(v, lang) for v in value))
    if value is None:
        return Raw(lang.none)
    if isinstance(value, bool):
        return Raw(lang.true if value else lang.false)
    if isinstance(value, int | float):
        return Raw(repr(value))
    return Raw(lang.string(str(value)))


def flat(e: Expr, lang: Lang = PY) -> str:
    if isinstance(e, Raw):
        return e.text
    if isinstance(e, Call):
        return e.func + "(" + ", ".join(_item(a, lang) for a in e.args) + ")"
    if e.open == "{" and e.items and lang is JS:  # { duration: "1s", target: 5 }, as Prettier writes JS
        return "{ " + ", ".join(_item(a, lang) for a in e.items) + " }"
    return e.open + ", ".join(_item(a, lang) for a in e.items) + e.close


def _item(a: Any, lang: Lang) -> str:
    if isinstance(a, tuple):
        key, value = a
        if isinstance(key, str):
            return f"{key}{lang.kw}{flat(value, lang)}"
        return f"{flat(key, lang)}{lang.colon}{flat(value, lang)}"
    return flat(a, lang)


def statement(prefix: str, e: Expr, suffix: str = "", indent: int = 0, lang: Lang = PY) -> str:
    """`prefix + e + suffix` at `indent`, broken over lines the way ruff format breaks it."""
    pad = " " * indent
    one = flat(e, lang)
    fits = "\n" not in one and len(pad) + len(prefix) + len(one) + len(suffix) <= WIDTH
    if fits or isinstance(e, Raw):
        return pad + prefix + one + suffix
    head = e.func + "(" if isinstance(e, Call) else e.open.rstrip()  # `{ ` broken is `{` and a line
    close = ")" if isinstance(e, Call) else e.close.lstrip()
    items = e.args if isinstance(e, Call) else e.items
    inner = " " * (indent + lang.step)
    joined = ", ".join(_item(a, lang) for a in items)
    # ruff (as black) explodes a collection literal of several items one per line; a call's
    # arguments first try one indented line
    several = isinstance(e, Coll) and len(items) > 1
    if items and not several and "\n" not in joined and len(inner) + len(joined) <= WIDTH:
        return f"{pad}{prefix}{head}\n{inner}{joined}\n{pad}{close}{suffix}"
    if len(items) == 1 and isinstance(e, Coll):  # one item: split inside it, no trailing comma
        a = items[0]
        if isinstance(a, tuple):
            key, value = a
            return (
                f"{pad}{prefix}{head}\n"
                + statement(f"{flat(key, lang)}{lang.colon}", value, "", indent + lang.step, lang)
                + f"\n{pad}{close}{suffix}"
            )
        return (
            f"{pad}{prefix}{head}\n"
            + statement("", a, "", indent + lang.step, lang)
            + f"\n{pad}{close}{suffix}"
        )
    lines = []
    for a in items:
        if isinstance(a, tuple):
            key, value = a
            start = f"{key}{lang.kw}" if isinstance(key, str) else f"{flat(key, lang)}{lang.colon}"
            lines.append(statement(start, value, ",", indent + lang.step, lang))
        else:
            lines.append(statement("", a, ",", indent + lang.step, lang))
    return f"{pad}{prefix}{head}\n" + "\n".join(lines) + f"\n{pad}{close}{suffix}"


def template(parts: list, lang: Lang, var: Any) -> Expr:
    """A parsed spec string as an expression: literal text joined with values read at run time.

    `var(name)` gives the expression of a variable; `uuid`, `seq` and `${ENV}` become calls of
    the support module.
    """
    pieces: list[str] = []
    for part in parts:
        if part[0] == "text":
            pieces.append(lang.string(part[1]))
        elif part[0] == "env":
            args = [lang.string(part[1])] + ([lang.string(part[2])] if len(part) > 2 else [])
            pieces.append(f"need_env({', '.join(args)})" if lang is PY else f"env({', '.join(args)})")
        else:
            pieces.append(var(part[1]))
    if not pieces:
        return Raw(lang.string(""))
    return Raw(" + ".join(pieces))


def data(value: Any, lang: Lang, var: Any) -> Expr:
    """JSON-like request data whose strings are spec templates."""
    if isinstance(value, str):
        return template(templates.parse(value), lang, var)
    if isinstance(value, dict):
        return Coll("{", "}", tuple((Raw(lang.string(str(k))), data(v, lang, var)) for k, v in value.items()))
    if isinstance(value, list):
        return Coll("[", "]", tuple(data(v, lang, var) for v in value))
    return literal(value, lang)


def check_value(op: str, value: Any, lang: Lang, var: Any) -> Expr:
    """The value of an `expect.json` check: a template's parts for the text operators, else data
    whose strings are templates."""
    if op in ("text", "!text"):
        return template(value, lang, var)
    return data(value, lang, var)


def uses_vars(value: Any) -> list[str]:
    """The variables (not builtins) a template or templated data reads."""
    found: list[str] = []
    for _, text in templates.walk_strings(value):
        found += [v for v in templates.variables(text) if v not in templates.BUILTINS]
    return found


def allow_long(text: str) -> str:
    """A line the layout could not shorten holds one long literal (spec text such as SQL): it is
    data, so it is marked for the linter rather than cut."""
    return "\n".join(f"{line}  # noqa: E501" if len(line) > WIDTH else line for line in text.split("\n"))

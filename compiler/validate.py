"""Load -> structural validation (pydantic) -> semantic checks, collecting every error in one pass."""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .checked import CheckedSpec
from .checks import semantic_checks
from .errors import SpecError, SpecFailure, choices_hint
from .load import Document, load_file, load_text
from .partial import semantic_errors
from .spec import PATTERN_NAMES, PERCENTILES, Spec, StatBounds

__all__ = ["CheckedSpec", "check_document", "check_file", "check_text"]


def check_file(path: str | Path) -> CheckedSpec:
    """Validate one spec file; raises SpecFailure holding every error."""
    return check_document(load_file(path))


def check_text(text: str, file: str = "spec.yaml") -> CheckedSpec:
    return check_document(load_text(text, file))


def check_document(doc: Document) -> CheckedSpec:
    if not isinstance(doc.data, dict):
        raise SpecFailure(
            [
                doc.source.error(
                    (),
                    "a spec is a mapping of keys such as version, name, http, targets",
                    "start the file with `version: 1` and `name: ...`",
                )
            ]
        )
    try:
        spec = Spec.model_validate(doc.data)
    except ValidationError as exc:
        structural = _map_pydantic(exc, doc)
        seen = {(e.line, e.col) for e in structural}  # semantic checks of what parsed, in one pass
        semantic = [
            e for e in semantic_errors(doc, exc, _data_path, semantic_checks) if (e.line, e.col) not in seen
        ]
        raise SpecFailure(structural + sorted(semantic)) from None
    checked = CheckedSpec(spec=spec, doc=doc)
    problems = semantic_checks(checked)
    errors = [p for p in problems if p.severity == "error"]
    checked.warnings = sorted(p for p in problems if p.severity == "warning")
    if errors:
        raise SpecFailure(errors)
    return checked


# --- pydantic errors -> positioned spec errors --------------------------------------------

_HINTS = {
    "int_type": "write a whole number",
    "int_parsing": "write a whole number",
    "int_from_float": "write a whole number",
    "float_type": "write a number",
    "float_parsing": "write a number",
    "bool_type": "write true or false",
    "bool_parsing": "write true or false",
    "string_type": "write text (quote it if YAML reads it as a number, list or mapping)",
    "dict_type": "write a mapping of `key: value` lines",
    "model_type": "write a mapping of `key: value` lines",
    "model_attributes_type": "write a mapping of `key: value` lines",
    "list_type": "write a list, e.g. [a, b] or lines starting with '- '",
}


def _map_pydantic(exc: ValidationError, doc: Document) -> list[SpecError]:
    out: dict[tuple, SpecError] = {}
    for err in exc.errors(include_url=False):
        path, branch = _data_path(doc.data, err["loc"])
        spec_err = _convert(err, path, doc, branch)
        key = (spec_err.line, spec_err.col, path)
        if key in out and branch:
            prev = out[key]
            if spec_err.message not in prev.message:
                out[key] = SpecError(
                    prev.file, prev.line, prev.col, f"{prev.message}; or {spec_err.message}", prev.hint
                )
            continue
        out.setdefault(key, spec_err)
    return list(out.values())


def _data_path(data: Any, loc: tuple) -> tuple[tuple, bool]:
    """The part of pydantic's loc that addresses the data; drops union/validator tags."""
    path: list[str | int] = []
    node, branch = data, False
    for i, part in enumerate(loc):
        if part == "[key]" and not (isinstance(node, dict) and part in node):
            break  # the error is about the key itself, not its value (unless a key is "[key]")
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif i == len(loc) - 1 and isinstance(node, dict):
            path.append(part)  # a missing or unknown last key
        else:
            branch = True  # a union member's tag, not a key of the document
    return tuple(path), branch


def _convert(err: dict, path: tuple, doc: Document, branch: bool) -> SpecError:
    src, kind, ctx = doc.source, err["type"], err.get("ctx") or {}
    if kind == "extra_forbidden":
        key = str(path[-1])
        model = _model_at(path[:-1])
        allowed = _aliases(model) if model else []
        hint = choices_hint(key, allowed, "keys here")
        where = f" in {model.__name__}" if model else ""
        message = f"unknown key {key!r}{where}"
        if model and issubclass(model, StatBounds) and re.fullmatch(r"p\d+(\.\d+)?", key):
            value = float(key[1:])
            shown = ", ".join(PERCENTILES)
            if not 0 < value < 100:
                message = f"percentile {key} is out of range: a percentile lies between p0 and p100"
                hint = f"use one of {shown}, or max for the largest sample"
            else:
                message = f"percentile {key} is not one perfspec judges"
                hint = f"use one of {shown}"
        return src.error(path, message, hint, at_key=True)
    if kind == "missing":
        parent = path[:-1]
        return src.error(
            parent, f"missing required key {path[-1]!r}", f"add `{path[-1]}: ...` here", at_key=True
        )
    if kind == "perfspec":
        return src.error(path, ctx.get("message", err["msg"]), ctx.get("hint", ""))
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        if path == ("version",):
            return src.error(path, f"unsupported spec version {err.get('input')!r}", "write `version: 1`")
        return src.error(path, f"{err.get('input')!r} is not allowed here", f"use one of {expected}")
    if kind == "string_pattern_mismatch":
        what, hint = PATTERN_NAMES.get(ctx.get("pattern", ""), ("text of the required form", ""))
        at_key = err["loc"][-1] == "[key]"
        shown = err.get("input")
        return src.error(
            path, f"{shown!r} is not {what}", hint or f"match {ctx.get('pattern')}", at_key=at_key
        )
    hint = _HINTS.get(kind, "")
    if "gt" in ctx:
        hint = f"use a value greater than {ctx['gt']}"
    elif "ge" in ctx:
        hint = f"use a value of at least {ctx['ge']}"
    elif "le" in ctx:
        hint = f"use a value of at most {ctx['le']}"
    elif kind == "too_short":
        hint = f"give at least {ctx.get('min_length', 1)} item(s)"
    elif kind == "too_long":
        hint = f"give at most {ctx.get('max_length')} item(s)"
    what = ".".join(str(p) for p in path) or "spec"
    return src.error(path, f"{what}: {err['msg'][0].lower()}{err['msg'][1:]}", hint)


def _unwrap(tp: Any) -> list[Any]:
    """The concrete types behind Annotated / Optional / unions."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        out = []
        for arg in typing.get_args(tp):
            out.extend(_unwrap(arg))
        return out
    return [tp]


def _model_at(path: tuple) -> type[BaseModel] | None:
    """The model class that validates the mapping at `path` of a spec."""
    current: list[Any] = [Spec]
    for part in path:
        nxt: list[Any] = []
        for tp in current:
            for t in _unwrap(tp):
                origin = typing.get_origin(t)
                if isinstance(t, type) and issubclass(t, BaseModel) and isinstance(part, str):
                    for name, info in t.model_fields.items():
                        if (info.alias or name) == part:
                            nxt.append(info.annotation)
                elif origin is list and isinstance(part, int):
                    nxt.append(typing.get_args(t)[0])
                elif origin is dict and isinstance(part, str):
                    nxt.append(typing.get_args(t)[1])
        current = nxt
    for tp in current:
        for t in _unwrap(tp):
            if isinstance(t, type) and issubclass(t, BaseModel):
                return t
    return None


def _aliases(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]

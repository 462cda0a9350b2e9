"""The HTTP parts of the plan: an endpoint's body files, paging, retries, credentials, JSON checks
and query values, resolved from the spec model for plan.py. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from . import templates


def auth_parts(auth) -> tuple[list, list] | None:
    return (templates.parse(auth.basic.user), templates.parse(auth.basic.password)) if auth else None


@dataclass(frozen=True)
class UploadPlan:
    """A multipart body's file: its path from the folder `perfspec build` ran in."""

    path: str
    content_type: str
    filename: str


def multipart_fields(fields: dict | None, file: str) -> dict[str, Any] | None:
    """Text fields stay templates; each file becomes an UploadPlan."""
    if fields is None:
        return None
    folder = PurePosixPath(file).parent
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, str):
            out[key] = value
        else:
            path = str(folder / value.file) if str(folder) != "." else value.file
            out[key] = UploadPlan(path, value.content_type, value.filename or PurePosixPath(value.file).name)
    return out


def paginate_plan(pg) -> dict[str, Any] | None:
    if pg is None:
        return None
    keys = [] if pg.next.startswith("header:") else templates.json_path_keys(pg.next)
    return {"next": pg.next, "pages": pg.max_pages, "keys": keys}


def retry_plan(retry) -> dict[str, Any] | None:
    if retry is None:
        return None
    return {
        "on": sorted(set(retry.on)),
        "attempts": retry.attempts,
        "backoff": retry.backoff.value,
        "max_wait": retry.max_wait.value,
    }


def json_checks(expect) -> list[tuple[str, list, list[tuple[str, Any]]]]:
    """(path, its keys, its checks) per `expect: {json: ...}` field; a check is (operator, value):
    `==` a plain value, `text` parsed template parts (a string with placeholders, compared as
    text), or an operator of an operator map (`exists`, `!=`, `<`, ...) with its value."""
    fields = (expect.json_ or {}) if expect else {}
    out = []
    for p, v in sorted(fields.items()):
        ops = v.items() if templates.is_operator_map(v) else [("==", v)]
        checks = []
        for op, value in ops:
            parts = templates.parse(value) if isinstance(value, str) else None
            if parts is not None and not templates.is_plain(parts) and op in ("==", "!="):
                checks.append(("text" if op == "==" else "!text", parts))
            else:
                checks.append((op, value))
        out.append((p, templates.json_path_keys(p), checks))
    return out


def query_text(value: object) -> str:
    """A query value as text: booleans as JSON writes them (true), numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

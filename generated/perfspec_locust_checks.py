"""Support module of perfspec's generated locustfiles: the checks of a response.

Expected statuses, body text, JSON fields, values extracted from the body or a header (found
case-insensitively: servers canonicalise names, `Etag`), and the waits of `retry:` (Retry-After
in seconds or as an HTTP date). Each marks a `catch_response=True` response failed with its
reason. Written once per output folder beside perfspec_locust.py, which re-exports it.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import quote, urljoin

if __package__:
    from .perfspec_locust_results import cause
else:
    from perfspec_locust_results import cause


def expect(resp: Any, *statuses: int) -> bool:
    """Mark a `catch_response=True` response: success exactly when its status is expected."""
    status = resp.status_code or 0
    if status in statuses:
        resp.success()
        return True
    if status == 0:
        resp.failure(
            cause(resp.error, getattr(resp, "url", None)) if getattr(resp, "error", None) else "no response"
        )
    else:
        tries = getattr(resp, "perfspec_attempts", None)
        resp.failure(f"HTTP {status}" + (f" after {tries} attempts" if tries else ""))
    return False


def query_string(params: dict) -> str:
    """`?k=v&...` percent-encoded exactly as k6's encodeURIComponent encodes (UTF-8; a space is
    %20, never +), so the server receives the same bytes from Locust and k6."""
    safe = QUERY_SAFE
    return "?" + "&".join(f"{quote(k, safe=safe)}={quote(str(v), safe=safe)}" for k, v in params.items())


QUERY_SAFE = "!*'()"  # what encodeURIComponent leaves as it is, besides quote()'s letters, digits and -_.~


def expect_text(resp: Any, text: str) -> bool:
    """`expect: {body_contains: ...}`: fail the response when the text is missing."""
    if text in (resp.text or ""):
        return True
    resp.failure("body does not contain the expected text")
    return False


_MISSING = object()


def retry_wait(
    resp: Any, attempt: int, attempts: int, on: tuple, backoff: float, max_wait: float
) -> float | None:
    """`retry:` after one attempt: None when this answer is final (its checks judge it), else the
    seconds to wait before the next attempt: the server's Retry-After, else `backoff` doubled per
    attempt, at most `max_wait`. A retried answer is no failure (its status is still recorded)."""
    if (resp.status_code or 0) not in on:
        return None
    if attempt >= attempts:
        resp.perfspec_attempts = attempts  # expect() names them: "HTTP 429 after 3 attempts"
        return None
    resp.success()
    after = retry_after(header(resp, "Retry-After"))
    return min(max_wait, after if after is not None else backoff * 2 ** (attempt - 1))


def retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: a number of seconds, or an HTTP date from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def expect_json(resp: Any, path: str, expected: Any, *keys: str | int) -> bool:
    """`expect: {json: {PATH: value}}`: fail the response unless the field equals the value (JSON
    equality: true is not 1, 1 is 1.0)."""
    try:
        node: Any = resp.json()
    except ValueError:
        resp.failure(f"{path}: the body is not JSON")
        return False
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            resp.failure(f"{path} is missing (expected {_shown(expected)})")
            return False
    if json_equal(node, expected):
        return True
    resp.failure(f"{path} is {_shown(node)}, expected {_shown(expected)}")
    return False


def match_json(resp: Any, path: str, checks: tuple, *keys: str | int) -> bool:
    """`expect: {json: {PATH: {OP: value, ...}}}` and values with placeholders: fail the response
    unless the field passes every (operator, value) check (see json_mismatch)."""
    try:
        node: Any = resp.json()
    except ValueError:
        resp.failure(f"{path}: the body is not JSON")
        return False
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = _MISSING
            break
    reason = json_mismatch(path, node, checks)
    if reason:
        resp.failure(reason)
        return False
    return True


_COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def json_mismatch(path: str, node: Any, checks: tuple) -> str:
    """Why a JSON field (or _MISSING) fails its checks, or "": `exists` (present or not), `==`/`!=`
    (JSON equality), `text`/`!text` (the field as text, e.g. a number 7 is "7", against a value with
    placeholders), `<` `<=` `>` `>=` (the field must be a number). perfspec_k6.js has the same rules."""
    for op, value in checks:
        if op == "exists":
            if (node is not _MISSING) != value:
                return f"{path} is missing" if value else f"{path} is {_shown(node)}, expected no such field"
            continue
        if node is _MISSING:
            return f"{path} is missing (expected {_described(op, value)})"
        if op in ("==", "!="):
            ok = json_equal(node, value) == (op == "==")
        elif op in ("text", "!text"):
            ok = (text_of(node) == value) == (op == "text")
        elif not isinstance(node, int | float) or isinstance(node, bool):
            return f"{path} is {_shown(node)}, expected a number {op} {_shown(value)}"
        else:
            ok = _COMPARE[op](node, value)
        if not ok:
            return f"{path} is {_shown(node)}, expected {_described(op, value)}"
    return ""


def _described(op: str, value: Any) -> str:
    if op in ("==", "text"):
        return _shown(value)
    if op in ("!=", "!text"):
        return f"not {_shown(value)}"
    return f"{op} {_shown(value)}"


def text_of(value: Any) -> str:
    """A JSON value as text, as JavaScript's String() writes it (the same text in Locust and k6):
    strings as they are, true/false/null, numbers without a needless .0, objects as compact JSON."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _number_text(value: float) -> str:
    """A float as JavaScript's Number#toString: integral ones without .0, exponents from 1e21 and
    below 1e-6 (`1e+21`, `1e-7`), plain digits between."""
    if value != value or value in (float("inf"), float("-inf")):
        return {True: "NaN"}.get(value != value, "Infinity" if value > 0 else "-Infinity")
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if 1e-6 <= abs(value) < 1e21 and "e" in text:
        from decimal import Decimal

        return format(Decimal(text), "f")
    if "e" in text:
        mantissa, exp = text.split("e")
        return f"{mantissa}e{'+' if int(exp) > 0 else '-'}{abs(int(exp))}"
    return text


def json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _shown(value: Any) -> str:
    """A value in a failure's reason, as perfspec_k6.js writes it (JSON.stringify)."""
    if isinstance(value, float):
        text = _number_text(value)
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= 60 else text[:57] + "..."


def json_value(resp: Any, what: str, *keys: str | int) -> Any:
    """The value at a JSON path (its keys), or None after marking the response failed."""
    try:
        node: Any = resp.json()
    except ValueError:
        node = _MISSING
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = _MISSING
            break
    if node is _MISSING or node is None:
        resp.failure(f"cannot extract {what}")
        return None
    return node


def header(resp: Any, name: str, what: str = "") -> str | None:
    """A response header by name, case-insensitive (servers canonicalise names: `Etag`)."""
    lowered = name.lower()
    for key, value in (resp.headers or {}).items():
        if key.lower() == lowered:
            return value
    if what:
        resp.failure(f"cannot extract {what}")
    return None


def next_page(resp: Any, where: str, *keys: str | int) -> str | None:
    """The next page's URL of a paged answer (`paginate:`), made absolute against this page's;
    None when there is none: a failed page, or the field or link absent, null or empty."""
    if not 200 <= (resp.status_code or 0) < 300:
        return None
    if where.startswith("header:"):
        value = (header(resp, where[7:]) or "").strip()
        found = None if value.startswith("<") else value  # a bare URL (`Next-Page: https://...`)
        for link in value.split(",") if found is None else ():  # RFC 8288: <url>; rel="next", ...
            target, _, params = link.partition(";")
            if re.search(r'rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?', params):
                found = target.strip().strip("<>")
                break
    else:
        try:
            found = resp.json()
            for key in keys:
                found = found[key]
        except (ValueError, KeyError, IndexError, TypeError):
            return None
    return urljoin(str(resp.url), found) if isinstance(found, str) and found else None


# --- multipart bodies ----------------------------------------------------------------------------

BOUNDARY = "perfspec-form-5c1e2f0a9b7d4e63a8f1"


class Upload:
    """A file of a multipart body, read once when Locust imports the locustfile."""

    def __init__(self, path: str, content_type: str, filename: str) -> None:
        try:
            with open(path, "rb") as handle:
                self.data = handle.read()
        except OSError as exc:
            raise SystemExit(
                f"perfspec: cannot read upload file {path}: {exc.strerror} (paths are relative to the "
                "folder perfspec build ran in)"
            ) from None
        self.content_type, self.filename = content_type, filename


def _quoted(text: str) -> str:
    """A name inside a Content-Disposition header: a quoted string (as k6 and Go write it); line
    breaks, which no quoted string holds, as %0D %0A (validation refuses them in spec names)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "%0D").replace("\n", "%0A")


def multipart(headers: dict, fields: dict) -> dict:
    """A multipart/form-data body: the `data` and `headers` keyword arguments of a request."""
    parts = []
    for name, value in fields.items():
        if isinstance(value, Upload):
            head = (
                f'Content-Disposition: form-data; name="{_quoted(name)}"; '
                f'filename="{_quoted(value.filename)}"\r\nContent-Type: {value.content_type}'
            )
            body = value.data
        else:
            head, body = f'Content-Disposition: form-data; name="{_quoted(name)}"', str(value).encode()
        if BOUNDARY.encode() in body:
            raise ValueError(f"the multipart field {name!r} holds the boundary text")
        parts.append(f"--{BOUNDARY}\r\n{head}\r\n\r\n".encode() + body + b"\r\n")
    data = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return {"data": data, "headers": {**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}}

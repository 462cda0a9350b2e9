"""A HAR file (a browser's or proxy's recording) -> a starter spec.

Each distinct method and path becomes an endpoint (query strings and JSON or form bodies as
recorded, the recorded status expected); its origin a host read from an environment variable
(the commonest origin is `api`); the flow's tasks weigh endpoints by how often they were called.
Recorded credentials never reach the spec: an Authorization header becomes `${API_TOKEN}`
(keeping its scheme word), cookies and other headers are left out.
"""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter
from typing import Any

from .common import Draft, escape, escape_text, name_of, unique

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


class HarError(ValueError):
    pass


def _entries(doc: Any) -> list[dict]:
    entries = (doc.get("log") or {}).get("entries") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise HarError("not a HAR file (no log.entries)")
    out = [
        e
        for e in entries
        if isinstance(e, dict)
        and isinstance(e.get("request"), dict)
        and str(e["request"].get("method", "")).upper() in METHODS
        and str(e["request"].get("url", "")).startswith(("http://", "https://"))
    ]
    if not out:
        raise HarError("the HAR file records no HTTP request")
    return out


def _body(request: dict) -> dict:
    post = request.get("postData") or {}
    text, mime = post.get("text"), str(post.get("mimeType", ""))
    if isinstance(text, str) and text and "json" in mime:
        try:
            return {"json": escape(json.loads(text))}
        except ValueError:
            return {"body": escape_text(text)}
    if "x-www-form-urlencoded" in mime and isinstance(text, str):
        return {"form": {escape_text(k): escape_text(v) for k, v in urllib.parse.parse_qsl(text)}}
    return {"body": escape_text(text)} if isinstance(text, str) and text else {}


def origin_of(url: urllib.parse.SplitResult) -> str:
    """scheme://host[:port]: a recorded `user:password@` never reaches the spec or its comments."""
    host = url.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{url.scheme}://{host}" + (f":{url.port}" if url.port else "")


def from_har(doc: Any) -> Draft:
    entries = _entries(doc)
    origins = Counter(origin_of(urllib.parse.urlsplit(e["request"]["url"])) for e in entries)
    hosts: dict[str, str] = {}
    for i, (origin, _n) in enumerate(origins.most_common()):
        hosts[origin] = "api" if i == 0 else f"api{i + 1}"
    draft = Draft(name="recorded")
    draft.hosts = {
        name: {"url": "${" + ("API_URL" if name == "api" else name.upper() + "_URL") + "}"}
        for name in hosts.values()
    }
    draft.notes += [
        f"{name}: recorded from {origin} (set {'API_URL' if name == 'api' else name.upper() + '_URL'})"
        for origin, name in hosts.items()
    ]
    taken: set[str] = set()
    seen: dict[tuple[str, str, str], str] = {}
    for e in entries:
        request, response = e["request"], e.get("response") or {}
        method = str(request["method"]).lower()
        url = urllib.parse.urlsplit(request["url"])
        origin = origin_of(url)
        if (url.username or url.password) and not any("URL credentials" in n for n in draft.notes):
            draft.notes.append("the recording's URL credentials (user:password@) are left out")
        key = (origin, method, url.path or "/")
        name = seen.get(key)
        if name is None:
            name = seen[key] = unique(name_of(f"{method}_{url.path.strip('/') or 'root'}", method), taken)
            endpoint: dict[str, Any] = {method: escape_text(url.path or "/")}
            if hosts[origin] != "api":
                endpoint["host"] = hosts[origin]
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            if query:
                endpoint["query"] = escape(query)
            endpoint.update(_body(request))
            status = response.get("status")
            if isinstance(status, int) and 200 <= status < 400:
                endpoint["expect"] = {"status": [status]}
            draft.endpoints[name] = endpoint
            draft.tasks[name] = 0
        draft.tasks[name] += 1
        for header in request.get("headers") or []:
            if (
                str(header.get("name", "")).lower() == "authorization"
                and "Authorization" not in draft.headers
            ):
                scheme = str(header.get("value", "")).split(" ", 1)[0]
                word = (
                    scheme
                    if scheme.isalpha() and scheme.lower() in ("bearer", "basic", "token")
                    else "Bearer"
                )
                draft.headers["Authorization"] = f"{word} ${{API_TOKEN:-}}"
                draft.notes.append("Authorization: the recording's credential is left out; set API_TOKEN")
    return draft


__all__ = ["HarError", "from_har"]

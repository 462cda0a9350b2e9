"""An OpenAPI 3 document -> a starter spec (as data, with comments for the writer).

- one endpoint per operation, named by its operationId (or method and path), classed by its
  first tag, expecting the 2xx statuses the document lists;
- JSON request bodies and required query parameters from the schema's examples (or values
  made from the types);
- a path parameter is wired to the value a POST on its collection returns (`extract`, called in
  `on_start`) where the document says that POST answers with an `id`; otherwise the flow's user
  gets an example value;
- security schemes become headers or Basic auth read from environment variables (empty by
  default): no credential is ever written;
- a smoke profile, GET operations as the flow's tasks, and one placeholder target per class.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..spec.types import HEADER_PATTERN
from .common import Draft, escape, escape_text, name_of, unique

METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


class OpenApiError(ValueError):
    pass


def _resolve(doc: dict, node: Any, depth: int = 0) -> Any:
    """A `$ref` to this document, followed (other references are left as they are)."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and depth < 20:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return {}
        target: Any = doc
        for part in ref[2:].split("/"):
            target = (
                target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
            )
        node, depth = target, depth + 1
    return node


def example(doc: dict, schema: Any, depth: int = 0) -> Any:
    """A value for a schema: its example or default, else one made from its type."""
    schema = _resolve(doc, schema)
    if not isinstance(schema, dict) or depth > 4:
        return None
    for key in ("example", "default"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("allOf", "oneOf", "anyOf"):
        parts = schema.get(key)
        if isinstance(parts, list) and parts:
            if key != "allOf":
                return example(doc, parts[0], depth + 1)
            merged: dict = {}
            for part in parts:
                value = example(doc, part, depth + 1)
                if isinstance(value, dict):
                    merged.update(value)
                elif value is not None and not merged:  # allOf around an enum or a scalar
                    return value
            return merged
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        required = schema.get("required") or list(props)
        values = {k: example(doc, props[k], depth + 1) for k in required if k in props}
        return {k: v for k, v in values.items() if v is not None}  # too deep: left out, never null
    if kind == "array":
        item = example(doc, schema.get("items"), depth + 1)
        return [] if item is None else [item]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1.5))
    if kind == "boolean":
        return True
    fmt = schema.get("format")
    return {
        "date-time": "2026-01-01T00:00:00Z",
        "date": "2026-01-01",
        "email": "user@example.test",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "uri": "https://example.test/",
    }.get(fmt, "example")


def _statuses(responses: Any) -> list[int]:
    codes = sorted({int(c) for c in (responses or {}) if str(c).isdigit() and 200 <= int(c) < 300})
    return codes or [200]


def _properties(doc: dict, schema: Any, depth: int = 0) -> dict:
    schema = _resolve(doc, schema)
    if not isinstance(schema, dict) or depth > 4:
        return {}
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        props.update(_properties(doc, part, depth + 1))
    return props


def _returns_id(doc: dict, op: dict) -> bool:
    for code, response in (op.get("responses") or {}).items():
        if not (str(code).isdigit() and 200 <= int(code) < 300):
            continue
        content = (_resolve(doc, response) or {}).get("content") or {}
        if "id" in _properties(doc, (content.get("application/json") or {}).get("schema")):
            return True
    return False


def _clean(text: str) -> str:
    return "".join(c for c in str(text) if c.isprintable())[:80]


def _security(doc: dict, draft: Draft) -> None:
    schemes = ((doc.get("components") or {}).get("securitySchemes")) or {}
    used = {name for req in doc.get("security") or [] for name in req}
    for path_item in (doc.get("paths") or {}).values():
        for method in METHODS:
            for req in ((path_item or {}).get(method) or {}).get("security") or []:
                used.update(req)
    for name in sorted(used):
        scheme = _resolve(doc, schemes.get(name)) or {}
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            draft.headers["Authorization"] = "Bearer ${API_TOKEN:-}"
            draft.notes.append(
                "Authorization: set API_TOKEN (the document's bearer scheme " + escape(name) + ")"
            )
        elif scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            draft.auth = {"basic": {"user": "${API_USER:-}", "password": "${API_PASSWORD:-}"}}
            draft.notes.append("Basic auth: set API_USER and API_PASSWORD")
        elif (
            scheme.get("type") == "apiKey"
            and scheme.get("in") == "header"
            and re.fullmatch(HEADER_PATTERN, str(scheme.get("name", "")))
        ):
            draft.headers[str(scheme["name"])] = "${API_KEY:-}"
            draft.notes.append(f"{scheme['name']}: set API_KEY")


def from_openapi(doc: Any) -> Draft:
    if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3"):
        raise OpenApiError("not an OpenAPI 3 document (no `openapi: 3.x` key)")
    paths = doc.get("paths")
    if not isinstance(paths, dict) or not paths:
        raise OpenApiError("the document has no paths")
    info = doc.get("info") or {}
    draft = Draft(
        name=name_of(str(info.get("title") or "api").lower(), "api"),
        description=str(info.get("title") or "") or None,
    )
    servers = doc.get("servers") or []
    if servers and isinstance(servers[0], dict) and servers[0].get("url"):
        draft.notes.append(f"the document's server: {servers[0]['url']} (set API_URL to the one to test)")
    _security(doc, draft)
    taken: set[str] = set()
    made: list[tuple[str, str, str, list[tuple[str, str]], dict, dict]] = []
    creators: dict[str, str] = {}  # collection path -> the POST that answers with an id
    for path, path_item in paths.items():
        if not isinstance(path_item, dict):
            continue
        for method in METHODS:
            op = path_item.get(method)
            if not isinstance(op, dict):
                continue
            name = unique(name_of(str(op.get("operationId") or f"{method}_{path}"), method), taken)
            endpoint, variables = endpoint_of(doc, method, path, op, path_item)
            if "_note" in endpoint:
                draft.notes.append(f"{name}: {endpoint.pop('_note')}")
            draft.endpoints[name] = endpoint
            if op.get("summary"):
                draft.comments[name] = str(op["summary"])
            if method == "post" and _returns_id(doc, op):
                creators[path] = name
            made.append((name, method, path, variables, op, path_item))
    for name, method, path, variables, op, path_item in made:
        for original, var in variables:
            creator = creators.get(path.split("/{" + original + "}")[0])
            if creator is not None and var not in draft.user:
                draft.endpoints[creator].setdefault("extract", {})[var] = "$.id"
                if creator not in draft.on_start:
                    draft.on_start.append(creator)
                if method == "delete" and name not in draft.on_stop:
                    draft.on_stop.append(name)  # remove what on_start made
            else:  # the user's own value: {user.NAME} in the path (also when an earlier path made it one)
                draft.user.setdefault(var, escape_text(example_of_param(doc, path_item, op, original)))
                endpoint = draft.endpoints[name]
                endpoint[method] = endpoint[method].replace("{" + var + "}", "{user." + var + "}")
        if method == "get":
            draft.tasks[name] = 1
    if not draft.tasks:  # no reads: every operation, as the document lists them
        draft.tasks = {name: 1 for name, *_ in made if name not in draft.on_start + draft.on_stop} or {
            made[0][0]: 1
        }
    return draft


def endpoint_of(
    doc: dict, method: str, path: str, op: dict, path_item: dict
) -> tuple[dict, list[tuple[str, str]]]:
    """The spec endpoint of one operation and its path parameters (document name, spec variable)."""
    params = [_resolve(doc, p) for p in [*(path_item.get("parameters") or []), *(op.get("parameters") or [])]]
    variables = []
    spec_path = path
    for p in params:
        if isinstance(p, dict) and p.get("in") == "path" and isinstance(p.get("name"), str):
            variables.append((p["name"], _var(p["name"])))
    # literal text escaped; each path parameter becomes the spec variable of the same name
    spec_path = escape_text(path)
    for original, var in variables:
        spec_path = spec_path.replace(escape_text("{" + original + "}"), "{" + var + "}")
    endpoint: dict[str, Any] = {method: spec_path}
    query = {
        p["name"]: _query_value(example(doc, p.get("schema")) if "example" not in p else p["example"])
        for p in params
        if isinstance(p, dict)
        and p.get("in") == "query"
        and p.get("required")
        and isinstance(p.get("name"), str)
    }
    if query:
        endpoint["query"] = query
    endpoint.update(request_body(doc, _resolve(doc, op.get("requestBody")) or {}))
    tags = op.get("tags") or []
    if tags and isinstance(tags[0], str):
        endpoint["class"] = name_of(tags[0], "api")
    endpoint["expect"] = {"status": _statuses(op.get("responses"))}
    return endpoint, variables


def request_body(doc: dict, body: dict) -> dict:
    """The operation's body in the spec's words: JSON (any `json` media type), a form, the text
    fields of a multipart form (a file part needs a file: named in a note), or raw text; what
    cannot be sent is named in a note (`_note`, read by from_openapi), never dropped silently."""
    content = body.get("content") if isinstance(body.get("content"), dict) else {}
    for kind, media in content.items():
        media = media if isinstance(media, dict) else {}
        value = media["example"] if "example" in media else example(doc, media.get("schema"))
        kind = str(kind).split(";")[0].strip().lower()
        if kind == "application/json" or kind.endswith("+json"):
            return {"json": escape(value)}
        if kind in ("application/x-www-form-urlencoded", "multipart/form-data") and isinstance(value, dict):
            fields = {escape_text(str(k)): _field_text(v) for k, v in value.items()}
            props = _properties(doc, media.get("schema"))
            files = sorted(k for k, p in props.items() if isinstance(p, dict) and p.get("format") == "binary")
            fields = {k: v for k, v in fields.items() if k not in files}
            out: dict[str, Any] = {"form" if kind.startswith("application") else "multipart": fields}
            if files:
                out["_note"] = f"multipart file field(s) {', '.join(files)} left out: add {{file: PATH}}"
            return out
        if kind.startswith("text/") and isinstance(value, str):
            return {"body": escape_text(value), "headers": {"Content-Type": kind}}
    if content:
        return {"_note": f"request body left out: no JSON, form or text media type ({', '.join(content)})"}
    return {}


def _field_text(value: Any) -> str:
    """A form field's value as text (true, 3, a JSON text for a list or object)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return escape_text(value if isinstance(value, str) else json.dumps(value))


def _query_value(value: Any) -> Any:
    """A query parameter's value as the spec takes it: a scalar (an array's first item)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, bool | int | float):
        return value
    return escape_text(value if isinstance(value, str) else json.dumps(value))


def _var(name: str) -> str:
    return name_of(name, "id").replace(".", "_").replace("-", "_")


def example_of_param(doc: dict, path_item: dict, op: dict, original: str) -> str:
    for p in [*(path_item.get("parameters") or []), *(op.get("parameters") or [])]:
        p = _resolve(doc, p)
        if isinstance(p, dict) and p.get("in") == "path" and p.get("name") == original:
            value = p["example"] if "example" in p else example(doc, p.get("schema"))
            return str(value if value is not None else 1)
    return "1"


__all__ = ["OpenApiError", "endpoint_of", "example", "example_of_param", "from_openapi"]

"""A Swagger 2.0 document read as the OpenAPI 3 document it describes, for openapi.py: the
server from schemes/host/basePath, parameters' types as schemas, a `body` parameter as a JSON
request body, `formData` parameters as a form (multipart when one is a file), response schemas
as JSON content, definitions/parameters/responses and securityDefinitions under components, and
every `$ref` pointed at its new place."""

from __future__ import annotations

from typing import Any

from .openapi import METHODS

_TYPE_KEYS = ("type", "format", "items", "enum", "default", "minimum", "maximum", "pattern")
_REFS = {
    "#/definitions/": "#/components/schemas/",
    "#/parameters/": "#/components/parameters/",
    "#/responses/": "#/components/responses/",
}


def is_swagger2(doc: Any) -> bool:
    return isinstance(doc, dict) and str(doc.get("swagger", "")).startswith("2")


def _refs(node: Any) -> Any:
    """Every `$ref` of a Swagger 2.0 document at its OpenAPI 3 place."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                for old, new in _REFS.items():
                    if value.startswith(old):
                        value = new + value[len(old) :]
            out[key] = _refs(value)
        return out
    if isinstance(node, list):
        return [_refs(item) for item in node]
    return node


def _parameter(p: Any) -> Any:
    """A query/path/header parameter with its type as a schema (body and formData: elsewhere)."""
    if not isinstance(p, dict) or "$ref" in p or "schema" in p:
        return p
    schema = {k: p[k] for k in _TYPE_KEYS if k in p}
    out = {k: v for k, v in p.items() if k not in _TYPE_KEYS and k != "collectionFormat"}
    return {**out, "schema": schema}


def _operation(op: dict, consumes: list, doc: dict) -> dict:
    params = [p for p in op.get("parameters") or [] if isinstance(p, dict)]
    resolved = [
        doc.get("parameters", {}).get(p["$ref"].split("/")[-1], p) if "$ref" in p else p for p in params
    ]
    body = next((p for p in resolved if p.get("in") == "body"), None)
    form = [p for p in resolved if p.get("in") == "formData"]
    out = {k: v for k, v in op.items() if k not in ("parameters", "consumes", "produces", "responses")}
    out["parameters"] = [
        _parameter(p)
        for p, r in zip(params, resolved, strict=True)
        if r.get("in") not in ("body", "formData")
    ]
    kinds = op.get("consumes") or consumes or ["application/json"]
    if body is not None:
        kind = next((k for k in kinds if "json" in k), kinds[0])
        out["requestBody"] = {"content": {kind: {"schema": body.get("schema") or {}}}}
    elif form:
        files = any(p.get("type") == "file" for p in form)
        kind = (
            "multipart/form-data"
            if files or "multipart/form-data" in kinds
            else "application/x-www-form-urlencoded"
        )
        props = {
            p["name"]: {"type": "string", "format": "binary"}
            if p.get("type") == "file"
            else _parameter(p)["schema"]
            for p in form
            if isinstance(p.get("name"), str)
        }
        out["requestBody"] = {"content": {kind: {"schema": {"type": "object", "properties": props}}}}
    out["responses"] = {
        code: {k: v for k, v in r.items() if k != "schema"}
        | ({"content": {"application/json": {"schema": r["schema"]}}} if "schema" in r else {})
        if isinstance(r, dict) and "$ref" not in r
        else r
        for code, r in (op.get("responses") or {}).items()
    }
    return out


def _security_scheme(s: Any) -> Any:
    if not isinstance(s, dict):
        return s
    if s.get("type") == "basic":
        return {"type": "http", "scheme": "basic"}
    return s  # apiKey keeps its shape; oauth2 is not imported (no credential to read)


def to_openapi3(doc: dict) -> dict:
    """The OpenAPI 3 form of a Swagger 2.0 document (as much of it as the importer reads)."""
    schemes = doc.get("schemes") or ["https"]
    host = doc.get("host")
    servers = [{"url": f"{schemes[0]}://{host}{doc.get('basePath') or ''}"}] if host else []
    consumes = doc.get("consumes") or []
    paths: dict[str, Any] = {}
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        shared = [_parameter(p) for p in item.get("parameters") or [] if isinstance(p, dict)]
        new = {"parameters": shared} if shared else {}
        for method in METHODS:
            if isinstance(item.get(method), dict):
                new[method] = _operation(item[method], consumes, doc)
        paths[path] = new
    components = {
        "schemas": doc.get("definitions") or {},
        "parameters": {k: _parameter(v) for k, v in (doc.get("parameters") or {}).items()},
        "responses": doc.get("responses") or {},
        "securitySchemes": {
            k: _security_scheme(v) for k, v in (doc.get("securityDefinitions") or {}).items()
        },
    }
    out = {
        "openapi": "3.0.3",
        "info": doc.get("info") or {},
        "servers": servers,
        "paths": paths,
        "components": components,
        **({"security": doc["security"]} if "security" in doc else {}),
    }
    return _refs(out)


__all__ = ["is_swagger2", "to_openapi3"]

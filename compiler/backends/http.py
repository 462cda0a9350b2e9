"""What the Locust and k6 backends share: hosts, identifiers, provenance, support modules."""

from __future__ import annotations

import importlib.resources
from collections import Counter
from typing import Any

from .. import templates
from ..plan import EndpointPlan, Plan, identifier
from .code import py_str


def default_host(plan: Plan) -> str | None:
    """The host most endpoints use: its requests take relative paths (Locust's --host)."""
    used = Counter(e.host for e in plan.endpoints.values() if e.host)
    if not used:
        return next(iter(plan.hosts), None)
    return sorted(used.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def method_names(plan: Plan, reserved: set[str]) -> dict[str, str]:
    """Endpoint name -> a code identifier that shadows nothing of the tool's own."""
    taken = set(reserved)
    return {name: identifier(name, taken, "endpoint") for name in plan.endpoints}


def comment_text(text: str) -> str:
    """Spec text inside a `#` or `//` comment: every line terminator and control escaped."""
    return py_str(text)[1:-1]


def provenance(section: str, name: str) -> str:
    """`http.endpoints.list_agents`: the element's place in the spec, safe inside a comment."""
    return comment_text(f"{section}.{name}")


def support_source(name: str) -> str:
    """The text of a runtime support module, emitted once per output folder."""
    return importlib.resources.files("perfspec.runtime.support").joinpath(name).read_text(encoding="utf-8")


# a multipart body's Content-Type: both support modules write its parts between this boundary
# (perfspec_locust_checks.BOUNDARY, perfspec_k6.js BOUNDARY; a test holds them equal)
MULTIPART = "multipart/form-data; boundary=perfspec-form-5c1e2f0a9b7d4e63a8f1"


def variables(ep: EndpointPlan) -> set[str]:
    """Per-user variables an endpoint's request reads (not uuid/seq, not env)."""
    parts = [*ep.path, *(p for v in ep.headers.values() for p in v)]
    found = {p[1] for p in parts if p[0] == "var"}
    for value in (ep.body, ep.ws_send, list(ep.query.values())):
        for _, text in templates.walk_strings(value):
            found.update(templates.variables(text))
    return found - set(templates.BUILTINS)


def uploads(plan: Plan) -> dict[str, dict[str, tuple[str, Any]]]:
    """Per endpoint, per multipart file field: the constant naming the file's content, and its
    UploadPlan (the file is read once, when the test starts)."""
    taken: set[str] = set()
    out: dict[str, dict[str, tuple[str, Any]]] = {}
    for name, ep in plan.endpoints.items():
        if ep.body_kind != "multipart":
            continue
        for field, value in ep.body.items():
            if not isinstance(value, str):
                const = identifier(f"UPLOAD_{name}_{field}".upper(), taken, "UPLOAD")
                out.setdefault(name, {})[field] = (const, value)
    return out

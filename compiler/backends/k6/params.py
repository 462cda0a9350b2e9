"""The k6 script's PARAMS: per endpoint the request parameters fixed at build time (tags,
static headers, an own responseCallback, timeout, responseType), and the expected statuses most
endpoints share (http.setResponseCallback)."""

from __future__ import annotations

from collections import Counter

from ... import templates
from ...plan import EndpointPlan, Plan
from ..code import JS, Coll, Raw, js_key, js_str, literal, statement, template
from ..http import MULTIPART
from .flows import template_var
from .options import ms_text, tags


def static_headers(ep: EndpointPlan, flow_headers: bool) -> Coll | None:
    """The endpoint's headers when they are the same for every call (no flow headers, no values)."""
    if flow_headers or ep.auth or any(not templates.is_plain(v) for v in ep.headers.values()):
        return None
    own = [(Raw(js_str(k)), template(v, JS, template_var)) for k, v in ep.headers.items()]
    own += content_type(ep)
    return Coll("{", "}", tuple(own))


def content_type(ep: EndpointPlan) -> list:
    """The Content-Type of a JSON or form body, unless the endpoint's headers set one."""
    kind = {
        "json": "application/json",
        "form": "application/x-www-form-urlencoded",
        "multipart": MULTIPART,
    }.get(ep.body_kind or "")
    if kind is None or any(k.lower() == "content-type" for k in ep.headers):
        return []
    return [(Raw('"Content-Type"'), Raw(js_str(kind)))]


def expected_statuses(ep: EndpointPlan) -> str:
    """The statuses k6 counts as expected for an endpoint (retried ones too: the last is judged)."""
    return ", ".join(map(str, sorted({*ep.expect, *(ep.retry["on"] if ep.retry else [])})))


def commonexpected_statuses(plan: Plan) -> str | None:
    """The expected statuses most endpoints share: set once with http.setResponseCallback, since a
    responseCallback in every request's params costs k6 about 5 % of its throughput (bench/)."""
    counts = Counter(expected_statuses(ep) for ep in plan.endpoints.values() if ep.method != "WS")
    return min(counts, key=lambda k: (-counts[k], k)) if counts else None


def reads_body(ep: EndpointPlan) -> bool:
    """Whether the script reads the endpoint's response body (a check on it, a value extracted
    from it, the next page's link in it): k6 keeps it as text only then (discardResponseBodies)."""
    extracts = any(not where.startswith("header:") for where in ep.extract.values())
    pages = bool(ep.paginate) and not str((ep.paginate or {}).get("next", "")).startswith("header:")
    return ep.body_contains is not None or bool(ep.json_expect) or extracts or pages


def params(plan: Plan, flow_headers: bool, shared: str | None) -> Coll:
    """Per endpoint the request parameters fixed at build time, made once, not per call; a
    responseCallback only where the expected statuses differ from the `shared` ones."""
    items = []
    sample_tags = tags(plan)
    for name, ep in plan.endpoints.items():
        entry: list = []
        static = static_headers(ep, flow_headers)
        if static is not None and static.items:
            entry.append((Raw("headers"), static))
        entry.append((Raw("tags"), literal(sample_tags[name], JS)))
        if ep.method != "WS" and expected_statuses(ep) != shared:
            entry.append((Raw("responseCallback"), Raw(f"http.expectedStatuses({expected_statuses(ep)})")))
        if ep.timeout:
            entry.append((Raw("timeout"), Raw(js_str(ms_text(ep.timeout)))))
        if ep.method != "WS" and reads_body(ep):
            entry.append((Raw("responseType"), Raw('"text"')))
        items.append((Raw(js_key(name)), Coll("{", "}", tuple(entry))))
    return Coll("{", "}", tuple(items))


def params_lines(plan: Plan, flow_headers: bool) -> list[str]:
    """The expected statuses most endpoints share, then PARAMS."""
    shared = commonexpected_statuses(plan)
    lines = []
    if shared is not None:
        lines += [
            "",
            "// the statuses most endpoints expect; PARAMS names the others'",
            f"http.setResponseCallback(http.expectedStatuses({shared}));",
        ]
    lines += [
        "",
        "// per endpoint: its fixed request parameters; `name` and `class` tags (and a flag per target",
        "// no existing tag selects), `responseType` where the script reads the body. A VU whose flow",
        "// has one task carries that endpoint's tags itself (cheaper for k6), and its entry loses them.",
    ]
    return [*lines, statement("const PARAMS = ", params(plan, flow_headers, shared), ";", 0, JS)]


def member(obj: str, key: str) -> str:
    """`obj.key`, or `obj["key"]` where the key is no identifier (a name with `-` or `.`)."""
    bare = js_key(key)
    return f"{obj}.{bare}" if bare == key else f"{obj}[{bare}]"

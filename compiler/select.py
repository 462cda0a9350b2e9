"""Selectors: which endpoints or queries a target judges. Pure functions over the model."""

from __future__ import annotations

from .spec import Flow, Selector, Spec

HTTP_FIELDS = ("endpoint", "class_", "method", "flow", "profile")
SQL_FIELDS = ("query", "sql_class", "workers")


def _listify(value: str | list[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def flows(spec: Spec) -> dict[str, Flow]:
    """The spec's flows; without any, one implicit flow runs every endpoint by its weight."""
    if spec.http is None:
        return {}
    if spec.http.flows:
        return dict(spec.http.flows)
    return {"default": Flow(tasks=sorted(spec.http.endpoints))}


def flow_endpoints(flow: Flow) -> list[str]:
    tasks = list(flow.tasks) if isinstance(flow.tasks, list) else sorted(flow.tasks)
    seen: dict[str, None] = {}
    for name in [*flow.on_start, *tasks, *flow.on_stop]:
        for step in flow.sequences.get(name, [name]):  # a sequence runs its endpoints
            seen.setdefault(step, None)
    return list(seen)


def profile_flows(spec: Spec, profile: str) -> list[str]:
    p = spec.profiles.get(profile)
    all_flows = sorted(flows(spec))
    if p is None or p.flows is None:
        return all_flows
    return [f for f in p.flows if f in all_flows]


def domain(sel: Selector) -> str:
    """'http', 'sql', 'mixed', or 'any' (only tags)."""
    http = any(getattr(sel, f) is not None for f in HTTP_FIELDS)
    sql = any(getattr(sel, f) is not None for f in SQL_FIELDS)
    if http and sql:
        return "mixed"
    if http:
        return "http"
    if sql:
        return "sql"
    return "any"


def match_endpoints(spec: Spec, sel: Selector) -> list[str]:
    """Names of the endpoints every given field of `sel` matches, sorted."""
    if spec.http is None or domain(sel) in ("sql", "mixed"):
        return []
    all_flows = flows(spec)
    names = _listify(sel.endpoint)
    out = []
    for name, ep in sorted(spec.http.endpoints.items()):
        if names is not None and name not in names:
            continue
        if sel.class_ is not None and ep.class_ != sel.class_:
            continue
        if sel.tag is not None and sel.tag not in ep.tags:
            continue
        if sel.method is not None and ep.method != sel.method.upper():
            continue
        if sel.flow is not None and (
            sel.flow not in all_flows or name not in flow_endpoints(all_flows[sel.flow])
        ):
            continue
        if sel.profile is not None:
            run = {e for f in profile_flows(spec, sel.profile) for e in flow_endpoints(all_flows[f])}
            if name not in run:
                continue
        out.append(name)
    return out


def match_queries(spec: Spec, sel: Selector) -> list[str]:
    """Names of the SQL queries `sel` matches, sorted."""
    if spec.sql is None or domain(sel) in ("http", "mixed"):
        return []
    names = _listify(sel.query)
    out = []
    for name, q in sorted(sql_workloads(spec).items()):
        if names is not None and name not in names:
            continue
        if sel.sql_class is not None and q.class_ != sel.sql_class:
            continue
        if sel.tag is not None and sel.tag not in q.tags:
            continue
        if sel.workers is not None and sel.workers not in query_levels(spec, name):
            continue
        out.append(name)
    return out


def sql_workloads(spec: Spec) -> dict:
    """Every measured SQL workload by name: the queries, and each mix's parts as `mix/part`
    (a part measured inside its mix, the query itself)."""
    if spec.sql is None:
        return {}
    queries = spec.sql.queries
    out = dict(queries)
    for name, q in queries.items():
        for part in q.mix or {}:
            if part in queries:
                out[f"{name}/{part}"] = queries[part]
    return out


def query_levels(spec: Spec, name: str) -> list[int]:
    """A query's concurrency levels (a mix's part: its mix's)."""
    assert spec.sql is not None
    q = spec.sql.queries[name.split("/", 1)[0]]
    return list(q.concurrency if q.concurrency is not None else spec.sql.defaults.concurrency)


def describe(sel: Selector) -> str:
    """`class=auth profile=peak` for tables and messages."""
    parts = []
    for field in ("endpoint", "class_", "tag", "method", "flow", "profile", "query", "sql_class", "workers"):
        value = getattr(sel, field)
        if value is not None:
            shown = ",".join(value) if isinstance(value, list) else str(value)
            parts.append(f"{field.rstrip('_')}={shown}")
    return " ".join(parts)

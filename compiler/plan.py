"""The plan: a spec resolved into what every backend needs. Pure: no I/O, no clock, no env.

Templates are parsed into parts, defaults are applied, profiles become stage lists in seconds,
selectors become explicit endpoint/query lists. Backends read only the plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from perfspec.runtime.contracts import Against, Bound, External, Scaling, StatBound, Target

from . import select, templates
from .errors import SourceRef, display_path
from .plan_http import (
    auth_parts,
    json_checks,
    multipart_fields,
    paginate_plan,
    query_text,
    retry_plan,
)
from .plan_sql import SqlPlan, sql_plan
from .profiles import profile_duration, profile_kind
from .spec import Alerts, Capacity, Distributed, GithubCi, Spec, TargetAlert
from .units import parse_ramp, parse_span
from .validate import CheckedSpec


@dataclass(frozen=True)
class EndpointPlan:
    name: str
    method: str
    host: str
    path: list
    headers: dict[str, list]
    query: dict[str, str]  # values as text, templates unparsed
    body_kind: str | None
    body: Any
    expect: list[int]
    body_contains: str | None
    extract: dict[str, str]
    stream: bool
    ws_send: Any
    ws_messages: int
    timeout: float | None
    klass: str | None
    tags: list[str]
    route: str  # how the service labels it in its metrics (`route:`, else the path as written)
    source: SourceRef
    json_expect: list[tuple[str, list, list]] = field(default_factory=list)  # (path, keys, checks)
    retry: dict[str, Any] | None = None  # {on, attempts, backoff, max_wait} (seconds)
    paginate: dict[str, Any] | None = None  # {next: path or header:NAME, keys, pages}
    auth: tuple[list, list] | None = None  # the endpoint's own Basic auth: (user, password) templates


@dataclass(frozen=True)
class FlowPlan:
    name: str
    ident: str
    weight: int
    user: dict[str, list]
    headers: dict[str, list]
    on_start: list[str]
    tasks: dict[str, int]  # endpoint or sequence -> weight
    on_stop: list[str]
    think: tuple[float, float] | None
    source: SourceRef
    feed: str | None = None  # a data set of Plan.data: each user takes a row as {user.COLUMN}
    auth: tuple[list, list] | None = None  # Basic auth: (user, password) templates
    sequences: dict[str, list[str]] = field(default_factory=dict)  # a task: endpoints in order


@dataclass(frozen=True)
class StagePlan:
    kind: str  # ramp | hold | spike
    start: float
    end: float
    seconds: float


@dataclass(frozen=True)
class ProfilePlan:
    name: str
    model: str  # closed | open
    unit: str  # users | rate
    stages: list[StagePlan]
    seconds: float
    max_users: int | None
    pre_allocated: int | None
    flows: list[str]
    tools: list[str]
    source: SourceRef
    max_dropped: float = 0.01
    warmup: float = 0.0


@dataclass(frozen=True, kw_only=True)
class TargetPlan(Target):
    """A target as the judge reads it (runtime/contracts.py Target: the one definition), plus
    what only the compiler's backends need."""

    ident: str  # a code identifier (k6 threshold names, Prometheus rule names)
    alert: bool | TargetAlert | None  # the target's `alert:` (False: none, options, or default)
    source: SourceRef


@dataclass(frozen=True)
class Plan:
    """Everything the backends read: they never see the spec model or its source map."""

    name: str
    file: str
    stem: str
    hosts: dict[str, list]
    endpoints: dict[str, EndpointPlan]
    flows: dict[str, FlowPlan]
    profiles: dict[str, ProfilePlan]
    targets: list[TargetPlan]
    default_profile: str | None
    sql: SqlPlan | None
    alerts: Alerts | None  # validated alerts settings (typed, frozen)
    github: GithubCi | None  # the ci.github block
    capacity: Capacity | None = None  # perfspec capacity's question (its defaults)
    distributed: Distributed | None = None  # the kubernetes backend's settings
    sources: dict[str, SourceRef] = field(default_factory=dict)  # section -> where it is written
    data: dict[str, dict[str, str]] = field(default_factory=dict)  # {path, format, order} per data set
    setup: list[str] = field(default_factory=list)  # endpoints called once before the users start
    teardown: list[str] = field(default_factory=list)  # and once after they stop
    score: tuple[float, float] | None = None  # `score: {pass, warn}` as shares

    @property
    def folder(self) -> PurePosixPath:
        return PurePosixPath(self.stem)


_IDENT = re.compile(r"[^0-9A-Za-z_]")


def identifier(name: str, taken: set[str], prefix: str) -> str:
    """A code identifier for a spec name; spec text never becomes code unescaped."""
    base = _IDENT.sub("_", name).strip("_") or prefix
    if base[0].isdigit():
        base = f"{prefix}_{base}"
    ident, n = base, 2
    while ident in taken:
        ident, n = f"{base}_{n}", n + 1
    taken.add(ident)
    return ident


def class_name(name: str, taken: set[str]) -> str:
    """`authenticated_user` -> `AuthenticatedUser`, `agent_runner` -> `AgentRunnerUser`."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", name) if w]
    camel = "".join(w[:1].upper() + w[1:] for w in words if w.isascii())
    if not camel.endswith("User"):
        camel += "User"
    return identifier(camel, taken, "Flow")


def _endpoints(spec: Spec, file: str, ref) -> dict[str, EndpointPlan]:
    """Every endpoint resolved: its host, templates parsed, http.defaults applied."""
    if spec.http is None:
        return {}
    d = spec.http.defaults
    only_host = next(iter(spec.hosts)) if len(spec.hosts) == 1 else None
    endpoints: dict[str, EndpointPlan] = {}
    for name, ep in sorted(spec.http.endpoints.items()):
        body_kind = next(
            (
                k
                for k in ("json", "form", "multipart", "body")
                if getattr(ep, "json_" if k == "json" else k) is not None
            ),
            None,
        )
        body = {
            "json": ep.json_,
            "form": ep.form,
            "body": ep.body,
            "multipart": multipart_fields(ep.multipart, file),
        }.get(body_kind or "")
        expect = ep.expect or d.expect
        timeout = ep.timeout or d.timeout
        endpoints[name] = EndpointPlan(
            name=name,
            method=ep.method,
            host=ep.host or d.host or only_host or "",
            path=templates.parse(ep.path),
            headers={k: templates.parse(v) for k, v in sorted({**d.headers, **ep.headers}.items())},
            query={k: query_text(v) for k, v in sorted(ep.query.items())},
            body_kind=body_kind,
            body=body,
            expect=sorted(set(expect.status)) if expect else [200],
            body_contains=expect.body_contains if expect else None,
            json_expect=json_checks(expect),
            retry=retry_plan(ep.retry or d.retry),
            auth=auth_parts(ep.auth),
            paginate=paginate_plan(ep.paginate),
            extract=dict(sorted(ep.extract.items())),
            stream=ep.stream,
            ws_send=ep.send,
            ws_messages=ep.messages,
            timeout=timeout.value if timeout else None,
            klass=ep.class_,
            tags=list(ep.tags),
            route=ep.route or ep.path,
            source=ref(("http", "endpoints", name)),
        )
    return endpoints


def build_plan(checked: CheckedSpec) -> Plan:
    spec, src = checked.spec, checked.source
    file = display_path(checked.file)
    ref = lambda path: SourceRef(file, src.line(path))  # noqa: E731
    hosts = {name: templates.parse(h.url) for name, h in sorted(spec.hosts.items())}
    endpoints = _endpoints(spec, file, ref)
    flows: dict[str, FlowPlan] = {}
    if spec.http is not None:
        d = spec.http.defaults
        taken: set[str] = set()
        for name, f in sorted(select.flows(spec).items()):
            think = f.think_time or d.think_time
            flows[name] = FlowPlan(
                name=name,
                ident=class_name(name, taken),
                weight=f.weight,
                user={k: templates.parse(v) for k, v in sorted(f.user.items())},
                headers={k: templates.parse(v) for k, v in sorted(f.headers.items())},
                on_start=list(f.on_start),
                tasks=f.task_weights(spec.http.endpoints),
                on_stop=list(f.on_stop),
                think=(think.min.value, think.max.value) if think else None,
                source=ref(("http", "flows", name)) if name in spec.http.flows else ref(("http",)),
                feed=f.feed,
                auth=auth_parts(f.auth),
                sequences={k: list(v) for k, v in f.sequences.items()},
            )
    profiles = {name: _profile(spec, name, ref) for name, _ in sorted(spec.profiles.items())}
    targets = _targets(checked, ref)
    default = None
    if spec.ci and spec.ci.github:
        default = spec.ci.github.profile
    elif spec.profiles:
        default = next(iter(spec.profiles))
    sources = {
        key: ref(path)
        for key, path, present in (
            ("alerts", ("alerts",), spec.alerts is not None),
            ("ci.github", ("ci", "github"), spec.ci is not None and spec.ci.github is not None),
            ("distributed", ("distributed",), spec.distributed is not None),
        )
        if present
    }
    return Plan(
        name=spec.name,
        file=file,
        stem=PurePosixPath(file).stem,
        hosts=hosts,
        endpoints=endpoints,
        flows=flows,
        profiles=profiles,
        targets=targets,
        default_profile=default,
        sql=sql_plan(checked, file, ref),
        alerts=spec.alerts,
        capacity=spec.capacity,
        distributed=spec.distributed,
        score=(spec.score.pass_.value, spec.score.warn.value) if spec.score else None,
        github=spec.ci.github if spec.ci else None,
        sources=sources,
        data=_data(spec, file),
        setup=list(spec.http.setup) if spec.http else [],
        teardown=list(spec.http.teardown) if spec.http else [],
    )


def _data(spec: Spec, file: str) -> dict[str, dict[str, str]]:
    """Each data set's file, from the folder `perfspec build` ran in (as SQL setup files are)."""
    folder = PurePosixPath(file).parent
    out = {}
    for name, d in sorted((spec.http.data if spec.http else {}).items()):
        rel = d.csv if d.csv is not None else d.json_
        out[name] = {
            "path": str(folder / rel) if str(folder) != "." else rel,
            "format": "csv" if d.csv is not None else "json",
            "order": d.order,
            "per": d.per,
        }
    return out


def _profile(spec: Spec, name: str, ref) -> ProfilePlan:
    p = spec.profiles[name]
    model = profile_kind(p) or "closed"
    stages: list[StagePlan] = []
    if p.stages is None:
        level = p.users or p.rate
        assert level is not None and p.for_ is not None
        if p.users is not None and p.spawn_rate is not None and p.spawn_rate.value > 0:
            stages.append(StagePlan("ramp", 0, level.value, level.value / p.spawn_rate.value))
        elif p.users is not None:
            stages.append(StagePlan("spike", 0, level.value, 0.0))
        stages.append(StagePlan("hold", level.value, level.value, p.for_.value))
    else:
        current = 0.0
        for st in p.stages:
            if st.ramp is not None:
                a, b = parse_ramp(st.ramp, ("users", "rate"))
                assert st.over is not None
                stages.append(StagePlan("ramp", a.value, b.value, st.over.value))
                current = b.value
            elif st.hold is not None:
                assert st.for_ is not None
                stages.append(StagePlan("hold", st.hold.value, st.hold.value, st.for_.value))
                current = st.hold.value
            elif st.spike is not None:
                assert st.for_ is not None
                stages.append(StagePlan("spike", current, st.spike.value, st.for_.value))
                current = st.spike.value
    tools = list(p.tools) if p.tools else (["locust", "k6"] if model == "closed" else ["k6"])
    return ProfilePlan(
        name=name,
        model=model,
        unit="users" if model == "closed" else "rate",
        stages=stages,
        seconds=profile_duration(p) or sum(s.seconds for s in stages),
        max_users=int(p.max_users.value) if p.max_users else None,
        pre_allocated=int(p.pre_allocated.value) if p.pre_allocated else None,
        flows=select.profile_flows(spec, name),
        tools=tools,
        source=ref(("profiles", name)),
        max_dropped=p.max_dropped.value,
        warmup=p.warmup.value if p.warmup else 0.0,
    )


def _targets(checked: CheckedSpec, ref) -> list[TargetPlan]:
    spec, src = checked.spec, checked.source
    out: list[TargetPlan] = []
    taken: set[str] = set()
    for i, t in enumerate(spec.targets):
        name = t.name or f"target-{i + 1}"
        bands = [("fail", t.items(), ()), ("warn", t.warn.items() if t.warn else [], ("warn",))]
        stats = tuple(
            StatBound(
                stat=stat,
                op=b.op,
                value=b.quantity.value,
                text=str(b),
                severity=severity,
                line=src.line(("targets", i, *at, stat)),
            )
            for severity, items, at in bands
            for stat, b in items
        )
        measured = t.kind == "measured" and t.select is not None
        out.append(
            TargetPlan(
                index=i,
                name=name,
                ident=identifier(name, taken, "target"),
                kind=t.kind,
                line=ref(("targets", i)).line,
                measure=t.measure,
                endpoints=tuple(select.match_endpoints(spec, t.select)) if measured else (),
                queries=tuple(select.match_queries(spec, t.select)) if measured else (),
                profile=t.select.profile if t.select else None,
                workers=t.select.workers if t.select else None,
                stats=stats,
                window=t.for_.value if t.for_ else None,
                alert=t.alert,
                demo=t.demo,
                merge_tools=t.merge_tools,
                weight=t.weight,
                key=t.key,
                source=ref(("targets", i)),
                **_target_kind(t),
            )
        )
    return out


def _bound(b) -> Bound:
    return Bound(op=b.op, value=b.quantity.value, text=str(b))


def _target_kind(t) -> dict[str, Any]:
    """What a target's kind adds to its statistics: regression and vs-rest bounds, a part of the
    run (measured), the profiles compared (scaling), the source and bound (external)."""
    if t.kind == "measured":
        return {
            "regression": {k: _bound(b) for k, b in sorted((t.regression or {}).items())},
            "against": Against(last=t.against.last, branch=t.against.branch) if t.against else None,
            "abort_after": t.abort.after.value if t.abort else None,
            "during": parse_span(t.during) if t.during is not None else None,
            "vs_rest": {k: _bound(b) for k, b in sorted((t.vs_rest or {}).items())},
        }
    if t.kind == "scaling":
        assert t.scaling is not None and t.throughput_per_user is not None
        return {
            "scaling": Scaling(from_=t.scaling.from_, to=t.scaling.to, per_user=_bound(t.throughput_per_user))
        }
    assert t.value is not None and t.source is not None
    source = t.source
    external = External(
        metric=t.metric,
        bound=_bound(t.value),
        unit=t.value.quantity.kind,
        promql=source.promql,
        prometheus=source.prometheus,
        json=source.json_,
        path=source.path,
        # the path parsed here, once: the checker walks the keys
        keys=tuple(templates.json_path_keys(source.path or "$")) if source.json_ is not None else (),
    )
    return {"external": external}

"""targets.json: the resolved targets, so the checker judges results without the compiler."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import PurePosixPath

from perfspec.runtime.contracts import Profile, ServerView, Target, TargetsFile

from ...plan import Plan, ProfilePlan, SourceRef, TargetPlan
from .. import service
from ..base import Artifact


class TargetsBackend:
    name = "targets"

    def emit(self, plan: Plan) -> list[Artifact]:
        data = TargetsFile(
            generated_by=f"perfspec from {plan.file}",
            spec=plan.file,
            name=plan.name,
            # per endpoint the statuses its calls succeed with (retried ones too): the checker holds
            # a result file's statuses against its failures with them (runtime/evidence.py)
            expected={
                n: tuple(sorted({*ep.expect, *((ep.retry or {}).get("on") or [])}))
                for n, ep in plan.endpoints.items()
                if ep.method != "WS"
            },
            profiles={
                p.name: Profile(
                    model=p.model,
                    seconds=p.seconds,
                    peak=max((max(s.start, s.end) for s in p.stages), default=0),
                    mean=mean_load(p),
                    unit=p.unit,
                    tools=tuple(p.tools),
                    max_dropped=p.max_dropped,
                    warmup=p.warmup or 0.0,
                )
                for p in plan.profiles.values()
            },
            targets=tuple(contract(plan, t) for t in plan.targets),
            score=plan.score,
        )
        text = json.dumps(data.to_json(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        return [Artifact(plan.folder / PurePosixPath("targets.json"), text, SourceRef(plan.file, 1))]


def contract(plan: Plan, t: TargetPlan) -> Target:
    """The target as the judge reads it: the Target part of the plan's TargetPlan, with what
    the verdict of a run must say about the tools (on_stop in k6, k6's rows) and the service's
    own view of it."""
    own = {f.name: getattr(t, f.name) for f in fields(Target)}
    rows = {profile: tuple(notes) for profile, notes in k6_rows(plan, t).items()}
    return Target(
        **own | {"not_in_k6": tuple(on_stop_only(plan, t)), "k6_rows": rows, "server": server_view(plan, t)}
    )


def mean_load(p: ProfilePlan) -> float:
    """Time-weighted mean of users (closed model) or arrival rate (open): the scaling denominator."""
    total = sum(s.seconds for s in p.stages)
    if total <= 0:
        return max((max(s.start, s.end) for s in p.stages), default=0.0)
    return round(
        sum((s.end if s.kind == "spike" else (s.start + s.end) / 2) * s.seconds for s in p.stages) / total, 6
    )


def on_stop_only(plan: Plan, t: TargetPlan) -> list[str]:
    """The target's endpoints that only flows' on_stop calls: k6 never runs them (no per-user
    teardown), so the verdict of a k6 run says so instead of leaving it silent."""
    elsewhere = set(plan.setup) | set(plan.teardown)
    stop: set[str] = set()
    for flow in plan.flows.values():
        stop.update(flow.on_stop)
        for task in [*flow.on_start, *flow.tasks]:
            elsewhere.update(flow.sequences.get(task, [task]))
    return sorted(e for e in t.endpoints if e in stop and e not in elsewhere)


def k6_rows(plan: Plan, t: TargetPlan) -> dict[str, list[str]]:
    """Per k6 profile, what differs in the rows the target's calls took: a flow fed a row per
    iteration beside other flows takes, in k6, the row of the test's iteration number (validation
    warns at the flow's `feed` line; the verdict of such a run says it again)."""
    out: dict[str, list[str]] = {}
    for pname, p in plan.profiles.items():
        if "k6" not in p.tools or len(p.flows) < 2:
            continue
        for fname in p.flows:
            flow = plan.flows[fname]
            if flow.feed is None or plan.data.get(flow.feed, {}).get("per") != "iteration":
                continue
            calls = {s for task in flow.tasks for s in flow.sequences.get(task, [task])}
            if calls & set(t.endpoints):
                out.setdefault(pname, []).append(
                    f"k6 took the rows of {flow.feed!r} by the test's iteration number over every flow "
                    f"of profile {pname} (flow {fname} saw every row in turn, not consecutive ones; "
                    "Locust: the next row per task run)"
                )
    return out


def server_view(plan: Plan, t: TargetPlan) -> ServerView | None:
    """How the checker reads the service's own histogram for an HTTP target: the same series the
    alert rules select (see `alerts.service`); None without service metrics or for TTFB/SQL."""
    if plan.alerts is None or plan.alerts.service.server_side == "off":
        return None
    if t.kind != "measured" or not t.endpoints or t.measure != "latency":
        return None
    sels = service.selectors(plan, t.endpoints)
    if not sels:
        return None
    svc = plan.alerts.service
    return ServerView(
        mode=svc.server_side,
        histogram=svc.latency_histogram,
        total=svc.requests_total,
        buckets=tuple(b.value for b in svc.buckets or ()),
        selectors=tuple(sels),
        error_selectors=tuple(service.selectors(plan, t.endpoints, service.error_matcher(plan))),
    )

"""targets.json: the resolved targets, so the checker judges results without the compiler."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from perfspec.runtime.contracts import TARGETS_FORMAT

from ...plan import Plan, ProfilePlan, SourceRef, TargetPlan
from .. import service
from ..base import Artifact


class TargetsBackend:
    name = "targets"

    def emit(self, plan: Plan) -> list[Artifact]:
        data = {
            "format": TARGETS_FORMAT,
            "generated_by": f"perfspec from {plan.file}",
            "spec": plan.file,
            "name": plan.name,
            # per endpoint the statuses its calls succeed with (retried ones too): the checker holds
            # a result file's statuses against its failures with them (runtime/evidence.py)
            "expected": {
                n: sorted({*ep.expect, *((ep.retry or {}).get("on") or [])})
                for n, ep in plan.endpoints.items()
                if ep.method != "WS"
            },
            "profiles": {
                p.name: {
                    "model": p.model,
                    "seconds": p.seconds,
                    "peak": max((max(s.start, s.end) for s in p.stages), default=0),
                    "mean": mean_load(p),
                    "unit": p.unit,
                    "tools": p.tools,
                    "max_dropped": p.max_dropped,
                    **({"warmup": p.warmup} if p.warmup else {}),
                }
                for p in plan.profiles.values()
            },
            "targets": [
                {
                    "index": t.index,
                    "name": t.name,
                    "kind": t.kind,
                    "measure": t.measure,
                    "endpoints": t.endpoints,
                    "queries": t.queries,
                    "profile": t.profile,
                    "workers": t.workers,
                    "window": t.window,
                    "line": t.source.line,
                    "stats": [
                        {
                            "stat": s.stat,
                            "op": s.op,
                            "value": s.value,
                            "text": s.text,
                            "severity": s.severity,
                            "line": s.line,
                        }
                        for s in t.stats
                    ],
                    **({"extra": t.extra} if t.extra else {}),
                    **({"demo": False} if not t.demo else {}),
                    **({"merge_tools": True} if t.merge_tools else {}),
                    **({"not_in_k6": skipped} if (skipped := on_stop_only(plan, t)) else {}),
                    **({"k6_rows": rows} if (rows := k6_rows(plan, t)) else {}),
                    **({"server": view} if (view := server_view(plan, t)) else {}),
                }
                for t in plan.targets
            ],
        }
        text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        return [Artifact(plan.folder / PurePosixPath("targets.json"), text, SourceRef(plan.file, 1))]


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


def server_view(plan: Plan, t: TargetPlan) -> dict | None:
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
    return {
        "mode": svc.server_side,
        "histogram": svc.latency_histogram,
        "total": svc.requests_total,
        **({"buckets": [b.value for b in svc.buckets]} if svc.buckets else {}),
        "selectors": sels,
        "error_selectors": service.selectors(plan, t.endpoints, service.error_matcher(plan)),
    }

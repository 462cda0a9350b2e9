"""k6 backend: one idiomatic k6 script per spec: scenarios per profile, thresholds per target."""

from __future__ import annotations

from math import gcd
from pathlib import Path, PurePosixPath

from ... import templates
from ...plan import Plan, ProfilePlan
from .. import Artifact, environment, header
from ..locust import endpoint_data, flow_data, template_table

_ENV = environment(Path(__file__).parent)
TREND_STATS = ["avg", "min", "med", "max", "p(50)", "p(75)", "p(90)", "p(95)", "p(99)", "p(99.9)",
               "count"]
_K6_STAT = {"avg": "avg", "min": "min", "max": "max", "p50": "p(50)", "p75": "p(75)",
            "p90": "p(90)", "p95": "p(95)", "p99": "p(99)", "p99.9": "p(99.9)"}


def _ms(seconds: float) -> str:
    return f"{round(seconds * 1000)}ms"


def scenario(p: ProfilePlan) -> dict:
    """The k6 executor for a profile; stage durations are exact (spikes are 0ms jumps)."""
    stages = []
    for s in p.stages:
        if s.kind == "spike":
            stages.append({"duration": "0ms", "target": int(s.end) if p.unit == "users" else s.end})
        if s.seconds > 0 or s.kind == "ramp":
            stages.append({"duration": _ms(s.seconds),
                           "target": int(s.end) if p.unit == "users" else s.end})
    if p.model == "closed":
        return {"executor": "ramping-vus", "startVUs": int(p.stages[0].start) if p.stages else 0,
                "stages": stages, "gracefulRampDown": "5s", "gracefulStop": "10s"}
    peak = max(max(s.start, s.end) for s in p.stages)
    pre = p.pre_allocated or min(p.max_users or 1, max(1, int(peak)))
    if len(p.stages) == 1 and p.stages[0].kind == "hold":
        return {"executor": "constant-arrival-rate", "rate": p.stages[0].end, "timeUnit": "1s",
                "duration": _ms(p.stages[0].seconds), "preAllocatedVUs": pre,
                "maxVUs": p.max_users, "gracefulStop": "10s"}
    return {"executor": "ramping-arrival-rate", "startRate": p.stages[0].start, "timeUnit": "1s",
            "stages": stages, "preAllocatedVUs": pre, "maxVUs": p.max_users, "gracefulStop": "10s"}


def thresholds(plan: Plan) -> list[dict]:
    """Per measured HTTP target: its metric names and k6 threshold expressions (fail bounds)."""
    out = []
    for t in plan.targets:
        if t.kind != "measured" or not t.endpoints:
            continue
        latency, errors, success, rate = [], [], [], []
        for s in t.stats:
            if s.severity != "fail":
                continue
            if s.stat in _K6_STAT:
                latency.append(f"{_K6_STAT[s.stat]}{s.op}{s.value * 1000:g}")
            elif s.stat == "error_rate":
                errors.append(f"rate{s.op}{s.value:g}")
            elif s.stat == "success_rate":
                success.append(f"rate{s.op}{s.value:g}")
            elif s.stat == "throughput":
                rate.append(f"rate{s.op}{s.value:g}")
        base = f"perfspec_{t.index}"
        out.append({"name": t.name, "source": str(t.source), "endpoints": t.endpoints,
                    "profile": t.profile, "measure": t.measure,
                    "metrics": {"latency": base + "_latency", "errors": base + "_errors",
                                "success": base + "_success", "requests": base + "_requests"},
                    "thresholds": {k: v for k, v in (("latency", latency), ("errors", errors),
                                                      ("success", success), ("requests", rate)) if v}})
    return out


class K6Backend:
    name = "k6"

    def emit(self, plan: Plan) -> list[Artifact]:
        profiles = {n: p for n, p in plan.profiles.items() if "k6" in p.tools}
        if not plan.endpoints or not profiles:
            return []
        default = plan.default_profile if plan.default_profile in profiles else next(iter(profiles))
        cycle: list[str] = []
        weights = {f.name: f.weight for f in plan.flows.values()}
        divisor = 0
        for w in weights.values():
            divisor = gcd(divisor, w)
        for name, w in weights.items():
            cycle += [name] * (w // max(divisor, 1))
        flows = flow_data(plan)
        for name, f in plan.flows.items():
            flows[name]["tasks"] = [[e, w] for e, w in f.tasks.items()]
            flows[name]["think"] = list(f.think) if f.think else None
        text = _ENV.get_template("script.js.j2").render(
            header=header(plan, "//"), plan=plan, hosts=plan.hosts, endpoints=endpoint_data(plan),
            flows=flows, templates=template_table(plan), default_profile=default,
            scenarios={n: scenario(p) for n, p in profiles.items()},
            profile_flows={n: p.flows for n, p in profiles.items()},
            models={n: p.model for n, p in profiles.items()},
            cycle=cycle, targets=thresholds(plan), trend_stats=TREND_STATS,
            paths=templates.path_table([e.extract for e in plan.endpoints.values()]))
        return [Artifact(plan.folder / PurePosixPath("k6.js"), text,
                         next(iter(profiles.values())).source)]


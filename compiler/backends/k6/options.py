"""The options of a k6 script: per profile its flows and executor (a scenario per flow), the
spec's targets (TARGETS: per target a threshold per bound, keyed by the target's selection: its
endpoint's `name`, its `class`, or a flag tag of its own), which options' thresholds and the
end-of-test summary's line per target read, and the tags of each endpoint's samples."""

from __future__ import annotations

from ...plan import Plan, ProfilePlan, TargetPlan
from ...spec import PERCENTILES
from ..code import JS, Call, Coll, Raw, js_key, js_str, literal, statement
from ..http import comment_text

TREND_STATS = ["avg", "min", "med", "max", *(f"p({p:g})" for p in PERCENTILES.values()), "count"]


def ms_text(seconds: float) -> str:
    """A duration as k6 users write one: 500ms, 15s, 1m30s, 2h (exact to the millisecond)."""
    ms = round(seconds * 1000)
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return (
        (f"{hours}h" if hours else "")
        + (f"{minutes}m" if minutes else "")
        + (f"{rest / 1000:g}s" if rest else "")
    )


def scenario(p: ProfilePlan) -> dict:
    """The k6 executor for a profile; stage durations are exact (spikes are 0ms jumps)."""
    stages = []
    for s in p.stages:
        target = int(s.end) if p.unit == "users" else s.end
        if s.kind == "spike":
            stages.append({"duration": "0ms", "target": target})
        if s.seconds > 0 or s.kind == "ramp":
            stages.append({"duration": ms_text(s.seconds), "target": target})
    if p.model == "closed":
        return {
            "executor": "ramping-vus",
            "startVUs": int(p.stages[0].start) if p.stages else 0,
            "stages": stages,
            "gracefulRampDown": "5s",
            "gracefulStop": "10s",
        }
    peak = max(max(s.start, s.end) for s in p.stages)
    pre = p.pre_allocated or min(p.max_users or 1, max(1, int(peak)))
    if len(p.stages) == 1 and p.stages[0].kind == "hold":
        return {
            "executor": "constant-arrival-rate",
            "rate": p.stages[0].end,
            "timeUnit": "1s",
            "duration": ms_text(p.stages[0].seconds),
            "preAllocatedVUs": pre,
            "maxVUs": p.max_users,
            "gracefulStop": "10s",
        }
    return {
        "executor": "ramping-arrival-rate",
        "startRate": p.stages[0].start,
        "timeUnit": "1s",
        "stages": stages,
        "preAllocatedVUs": pre,
        "maxVUs": p.max_users,
        "gracefulStop": "10s",
    }


def target_tag(t: TargetPlan) -> str:
    return f"target_{t.ident}"


def profile_endpoints(plan: Plan, profile: str) -> set[str]:
    """The endpoints a profile's flows call (on_start, tasks and the steps of their sequences)."""
    out: set[str] = set()
    for name in plan.profiles[profile].flows:
        flow = plan.flows[name]
        for task in [*flow.on_start, *flow.tasks, *flow.on_stop]:
            out.update(flow.sequences.get(task, [task]))
    return out


def selection(plan: Plan, t: TargetPlan) -> str:
    """The tag filter of a target's samples: the `profile` tag when the target is for one
    profile (every scenario of a profile carries it), and the endpoint's `name` when it selects one endpoint,
    its `class` when it selects exactly one class's endpoints (tags every sample carries anyway),
    nothing more when the profile's own endpoints are all selected, else a flag tag of its own.
    Each tag on a request costs k6 work on every metric sample (bench/load_efficiency.py measured
    a flag tag at about a tenth of k6's requests per second), so a flag is added only where no
    existing tag selects the same samples."""
    chosen = set(t.endpoints)
    scope = [f"profile:{t.profile}"] if t.profile in plan.profiles else []
    if scope and chosen == profile_endpoints(plan, t.profile):
        return scope[0]
    if len(chosen) == 1:
        return ",".join([f"name:{t.endpoints[0]}", *scope])
    classes = {plan.endpoints[e].klass for e in chosen}
    if len(classes) == 1 and None not in classes:
        klass = next(iter(classes))
        if chosen == {n for n, ep in plan.endpoints.items() if ep.klass == klass}:
            return ",".join([f"class:{klass}", *scope])
    return ",".join([f"{target_tag(t)}:yes", *scope])


def thresholds(plan: Plan, profiles: dict[str, ProfilePlan] | None = None) -> list[tuple]:
    """(target, metric key, expressions, profile) per measured HTTP target's fail bounds; a target
    of a profile that k6 does not run (`profiles`: those it runs) has none."""
    out = []
    for t in plan.targets:
        if t.kind != "measured" or not t.endpoints or t.during:
            continue  # a part of the run (`during`) is not something a k6 threshold can judge
        if t.profile and profiles is not None and t.profile not in profiles:
            continue
        tag = f"{{{selection(plan, t)}}}"
        latency = "http_req_waiting" if t.measure == "ttfb" else "http_req_duration"
        found: dict[str, list[str]] = {}
        for s in t.stats:
            if s.severity != "fail":
                continue
            if s.stat in PERCENTILES or s.stat in ("avg", "min", "max"):
                stat = f"p({PERCENTILES[s.stat]:g})" if s.stat in PERCENTILES else s.stat
                found.setdefault(latency + tag, []).append(f"{stat}{s.op}{s.value * 1000:g}")
            elif s.stat in ("error_rate", "success_rate"):
                # k6's http_req_failed: an unexpected status or no response (perfspec check also
                # counts failed body checks and extractions); success_rate > x is failed < 1 - x
                flip = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
                op, value = (s.op, s.value) if s.stat == "error_rate" else (flip[s.op], 1 - s.value)
                found.setdefault("http_req_failed" + tag, []).append(f"rate{op}{round(value, 12):g}")
            elif s.stat == "throughput":
                found.setdefault("http_reqs" + tag, []).append(f"rate{s.op}{s.value:g}")
        for key, exprs in found.items():
            if t.abort_after is not None:  # `abort: {after}`: stop the run once the bound is lost
                delay = f"{t.abort_after:g}s"
                exprs = [{"threshold": e, "abortOnFail": True, "delayAbortEval": delay} for e in exprs]
            out.append((t, key, exprs, t.profile))
    return out


def tags(plan: Plan) -> dict[str, dict[str, str]]:
    """Per endpoint the tags of its samples: name, class, flags of the targets it counts for."""
    out: dict[str, dict[str, str]] = {}
    keys = [key for _c, key, _e, _p in thresholds(plan)]
    judged = {key.split("{")[1].split(":")[0] for key in keys}
    judged = {t.name for t in plan.targets if target_tag(t) in judged}  # targets that need a flag
    for name, ep in plan.endpoints.items():
        t = {"name": name}  # the reader takes a `name` that is a spec name for the endpoint
        if ep.klass:
            t["class"] = ep.klass
        if ep.stream:
            t["ttfb"] = "yes"
        for target in plan.targets:
            if name in target.endpoints and target.name in judged:  # only flags a threshold reads
                t[target_tag(target)] = "yes"
        out[name] = t
    return out


def by_target(plan: Plan, profiles: dict[str, ProfilePlan]) -> dict[str | None, list[tuple]]:
    """Per profile (None: every profile) its targets' thresholds: (target, {key: expressions})."""
    out: dict[str | None, list[tuple]] = {None: []}
    bounds: dict[str, dict[str, list]] = {}
    for t, key, exprs, _prof in thresholds(plan, profiles):
        if t.name not in bounds:
            bounds[t.name] = {}
            out.setdefault(t.profile, []).append((t, bounds[t.name]))
        bounds[t.name][key] = exprs
    return out


def _unjudged(plan: Plan, profiles: dict[str, ProfilePlan], scoped: dict) -> list[str]:
    """The HTTP targets of k6's profiles that have no threshold here, and why: comment lines."""
    judged = {t.name for items in scoped.values() for t, _b in items}
    why = []
    for t in plan.targets:
        if t.kind != "measured" or not t.endpoints or t.name in judged:
            continue
        if t.profile and t.profile not in profiles:
            continue  # a profile k6 does not run: nothing of it is in this script
        reason = "a part of the run" if t.during else "no fail bound k6 measures"
        why.append(f"//   {comment_text(t.name)}: {reason}")
    return ["// judged by perfspec check alone:", *why] if why else []


def targets_lines(plan: Plan, profiles: dict[str, ProfilePlan]) -> list[str]:
    """`const TARGETS`: per target of the spec its thresholds; a profile's targets only while
    that profile runs (a k6 run of another profile has no such samples)."""
    scoped = by_target(plan, profiles)
    if not any(scoped.values()):
        return []

    def entries(items: list[tuple], indent: int) -> list[str]:
        lines = []
        for t, bounds in items:  # by name only: a spec line here would change with every edit above it
            fields = tuple((Raw(js_str(key)), literal(exprs, JS)) for key, exprs in bounds.items())
            lines.append(statement(f"{js_key(t.name)}: ", Coll("{", "}", fields), ",", indent, JS))
        return lines

    lines = [
        "",
        "// the spec's targets: each a threshold per fail bound on k6's own metrics over the whole run,",
        "// keyed by what the target selects (the endpoint's `name` tag, its `class`, the profile, or a",
        "// tag of its own); warn bands, `for` windows and history comparisons are perfspec check's",
        *_unjudged(plan, profiles, scoped),
        "const TARGETS = {",
        *entries(scoped.pop(None), 2),
    ]
    for prof, items in scoped.items():
        lines.append(f"  ...(PROFILE === {js_str(prof)} && {{")
        lines += entries(items, 4)
        lines.append("  }),")
    return [*lines, "};"]


def options_lines(
    plan: Plan, profiles: dict[str, ProfilePlan], default: str, flow_idents: dict[str, str]
) -> list[str]:
    """`export const options`: per profile its flows (by weight) and executor, of which
    scenarios() makes the chosen profile's scenarios, one per flow; a threshold per target bound;
    the summary's trend statistics."""
    lines = [*targets_lines(plan, profiles), "", "export const options = {"]
    if any(prof for *_x, prof in thresholds(plan, profiles)):
        lines[0:0] = ["", f"const PROFILE = __ENV.PERFSPEC_PROFILE || {js_str(default)};"]

    def shape(p: ProfilePlan) -> dict:
        return {"flows": {flow_idents[f]: plan.flows[f].weight for f in p.flows}, **scenario(p)}

    by_profile = Coll("{", "}", tuple((Raw(js_key(n)), literal(shape(p), JS)) for n, p in profiles.items()))
    lines += [
        "  // the flows of $PERFSPEC_PROFILE, a scenario each, its users or rate split by the flows' weights",
        statement("scenarios: ", Call("scenarios", (by_profile, Raw(js_str(default)))), ",", 2, JS),
    ]
    if any(by_target(plan, profiles).values()):
        # a key two targets share (the same samples) holds the bounds of both
        lines.append("  thresholds: targetThresholds(TARGETS),")
    lines.append(statement("summaryTrendStats: ", literal(TREND_STATS, JS), ",", 2, JS))
    # k6 still receives every body (timed, counted in data_received); it keeps one as text only
    # where the script reads it (PARAMS: responseType), which spares it work per request
    lines.append("  discardResponseBodies: true,")
    lines.append("};")
    if any(by_target(plan, profiles).values()):
        lines += [
            "",
            "// k6's own end-of-test summary, after a line per target: its thresholds, met or not",
            "export function handleSummary(data) {",
            "  return targetSummary(data, TARGETS);",
            "}",
        ]
    return lines

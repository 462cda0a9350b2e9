"""The checker: every target judged against merged results: pass / warn / fail, with evidence.

Series a target selects are merged (histograms summed, never percentiles averaged). A target
with no samples fails. SQL targets also fail when the query's plan broke its expectation or the
query could not run. Rate targets measured on a closed-model run, or on a k6 run that dropped
iterations, are at best warn.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from . import files as spec_files
from .contracts import Target, TargetsFile
from .evidence import RESULT_PATTERNS
from .measured import judge_measured, measure, merge, select
from .results import ResultError, Series
from .verdict import QUANTILES, STAT_UNITS, StatVerdict, Verdict, clock, shown

__all__ = ["Verdict", "StatVerdict", "judge", "merge", "read_results", "shown", "exit_code"]


def judge(
    targets: TargetsFile | dict,
    series: list[Series],
    meta: dict | None = None,
    base: Path | None = None,
    baseline: list[Series] | None = None,
    history: list | None = None,
) -> list[Verdict]:
    """Every target's verdict. `baseline`: the series of the one run regression targets compare
    to; else `history`, the spec's history records (runtime/history_store.py), None when there is
    no history to read. `targets`: targets.json, read into the typed contract."""
    meta = meta or {}
    targets = TargetsFile.read(targets)
    out = []
    for t in targets.targets:
        v = Verdict(t.name, "pass", t.line, targets.spec, 0)
        if meta.get("on_demo") and not t.demo:
            v.status = "warn"  # never a pass: it was not judged
            v.reasons.append(
                "not judged: the spec marks this target `demo: false` and the run used "
                "the embedded demo target"
            )
            v.stats = [StatVerdict(st.stat, st.text, st.severity, None, "", False, st.line) for st in t.stats]
        elif t.kind == "measured":
            now = judge_measured(t, series, v, targets, meta)
            not_judged = now is None and v.status == "warn"  # another profile's target
            if t.regression and not not_judged and baseline is None and history is not None:
                from .regression import judge_history

                judge_history(t, series, history, meta, v)
            elif t.regression and not not_judged:
                judge_regression(t, now, baseline, v)
            if now is not None:
                judge_server_side(t, v, meta.get("prometheus"))
        elif t.kind == "external":
            judge_external(t, v, base or Path.cwd(), meta.get("prometheus"))
        else:
            judge_scaling(t, series, v, targets)
        alerts_during_run(t, v, meta.get("prometheus"))
        out.append(v)
    return out


def judge_server_side(t: Target, v: Verdict, evidence: dict | None) -> None:
    """The service's own statistics over each tool's run window, beside the client's; judged too
    when the spec says `server_side: judge`."""
    view = t.server
    per_tool = ((evidence or {}).get("server") or {}).get(t.name)
    if not view or not per_tool:
        return
    judged = view.mode == "judge"
    buckets = view.buckets
    for tool, stats in sorted(per_tool.items()):
        seen = set()
        for st in t.stats:
            got = stats.get(st.stat)
            if got is None or (st.stat in seen and not judged):
                continue
            seen.add(st.stat)
            values = [row["value"] for row in got.get("values") or []]
            value = values[0] if len(values) == 1 else None
            ok = value is not None and st.holds(value)
            v.server.append(
                StatVerdict(
                    f"server {st.stat}",
                    st.text,
                    st.severity,
                    value,
                    STAT_UNITS.get(st.stat, ""),
                    ok,
                    st.line,
                    f"during {tool}",
                )
            )
            if got.get("error"):
                v.reasons.append(f"server-side {st.stat} ({tool}): {got['error']}")
            elif value is not None and st.stat in QUANTILES and buckets:
                lo = max((b for b in buckets if b < value), default=0.0)
                hi = min((b for b in buckets if b >= value), default=math.inf)
                v.server[-1].bucket = (lo, hi)
            if judged and not ok:
                why = "no data" if value is None else f"{shown(value, STAT_UNITS.get(st.stat, ''))}"
                v.reasons.append(f"server-side {st.stat} {why} breaks {st.text} during {tool}")
                if st.severity == "fail" or value is None:
                    v.status = "fail"
                elif v.status == "pass":
                    v.status = "warn"


def alerts_during_run(t: Target, v: Verdict, evidence: dict | None) -> None:
    """A generated alert of this target that went pending or firing while the load ran."""
    for a in ((evidence or {}).get("alerts") or {}).get("alerts") or []:
        if a.get("target") != t.name:
            continue
        if "firing_at" in a:
            v.reasons.append(f"alert {a['alert']} fired at +{clock(a['firing_at'])} of the run")
        elif "pending_at" in a:
            v.reasons.append(
                f"alert {a['alert']} was pending from +{clock(a['pending_at'])} (not long enough to fire)"
            )


def judge_regression(t: Target, now: Series | None, baseline: list[Series] | None, v: Verdict) -> None:
    """`regression: {p95: "< +10%"}`: the relative change of each statistic of `now` (the
    target's merged series) against the same selection in the baseline."""
    before = select(t, baseline or [])
    then = merge(before) if before and sum(s.count for s in before) else None
    if then is None:
        v.status = "fail"
        v.reasons.append(
            "no baseline samples for "
            + (v.selector or "the selection")
            + (
                ": no run history to compare with (pass --history, or --baseline RUN)"
                if baseline is None
                else " in the baseline run"
            )
        )
    for stat, rule in sorted(t.regression.items()):
        change = None
        if now is not None and then is not None:
            a, _ = measure(stat, now, t.measure)
            b, _ = measure(stat, then, t.measure)
            if a is not None and b:
                change = a / b - 1
        ok = change is not None and rule.holds(change)
        v.stats.append(StatVerdict(f"{stat} change", rule.text, "fail", change, "change", ok, t.line))
        if not ok:
            v.status = "fail"


def judge_scaling(t: Target, series: list[Series], v: Verdict, targets: TargetsFile) -> None:
    """`scaling: {from: a, to: b}, throughput_per_user: ">= 0.9x"`: requests per user-second at
    profile b over the same at profile a, per tool that ran both (tools are never mixed)."""
    assert t.scaling is not None
    rule = t.scaling.per_user
    a, b = t.scaling.from_, t.scaling.to
    v.selector = f"all HTTP endpoints, profiles {a} -> {b}"
    tools = sorted({s.tool for s in series if s.kind == "http"})
    judged = False
    for tool in tools:
        per_user, counted = [], 0
        for name in (a, b):
            chosen = [s for s in series if s.tool == tool and s.kind == "http" and s.profile == name]
            merged = merge(chosen) if chosen else None
            profile = targets.profiles.get(name)
            load = profile.mean if profile else 0
            if merged is None or not merged.count or not merged.elapsed or load <= 0:
                per_user.append(None)
                continue
            per_user.append(merged.count / merged.elapsed / load)
            counted += merged.count
        if None in per_user:
            continue
        v.samples += counted
        judged = True
        ratio = per_user[1] / per_user[0]
        ok = rule.holds(ratio)
        v.stats.append(StatVerdict(f"{tool} throughput per user", rule.text, "fail", ratio, "x", ok, t.line))
        v.reasons.append(f"{tool}: {per_user[0]:.3f}/s per user at {a}, {per_user[1]:.3f}/s at {b}")
        if not ok:
            v.status = "fail"
    if not judged:
        have = sorted({s.profile or "?" for s in series if s.kind == "http"})
        v.status = "fail"
        v.reasons = [
            f"no samples: a scaling target needs one tool's runs of both profiles {a} and {b}; "
            f"these results hold {', '.join(have) or 'no HTTP runs'}"
        ]


EXTERNAL_UNITS = {"percent": "ratio", "duration": "s", "rate": "/s", "size": "B"}  # bound kind -> shown()


def judge_external(t: Target, v: Verdict, base: Path, evidence: dict | None = None) -> None:
    source = t.external
    if source is not None and source.promql:
        judge_promql(t, v, evidence)
        return
    if source is None or not source.json:
        v.status, v.reasons = "fail", ["no samples: the target names no source"]
        return
    try:
        node: Any = json.loads(spec_files.read_text(base, source.json))
        for key in source.keys:  # $.runs[0].seconds -> "runs", 0, "seconds" (plan.py)
            node = node[key]
        value = float(node)
    except OSError as exc:
        v.status, v.reasons = "fail", [f"no samples: {source.json}: {exc}"]
        return
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        v.status, v.reasons = "fail", [f"no samples: {source.json} {source.path or ''} not readable"]
        return
    ok = source.bound.holds(value)
    v.samples = 1
    unit = EXTERNAL_UNITS.get(source.unit, "")
    v.stats.append(StatVerdict(source.metric or "value", source.bound.text, "fail", value, unit, ok, t.line))
    v.status = "pass" if ok else "fail"


def judge_promql(t: Target, v: Verdict, evidence: dict | None) -> None:
    """A `source: {promql}` target from the queried evidence: every series the query returns
    must hold the bound; no server, an error or an empty answer fails and says so."""
    assert t.external is not None and t.external.promql is not None
    bound, query = t.external.bound, t.external.promql
    v.selector = f"PromQL {query}"
    got = ((evidence or {}).get("promql") or {}).get(t.name)
    name = t.external.metric or "value"
    unit = EXTERNAL_UNITS.get(t.external.unit, "")
    if got is None:
        v.status = "fail"
        v.reasons = [
            f"no samples: no Prometheus was queried for {query!r}; pass --prometheus URL or "
            "set PROMETHEUS_URL (on the demo target `perfspec run` starts one)"
        ]
        v.stats.append(StatVerdict(name, bound.text, "fail", None, unit, False, t.line))
        return
    if got.get("error"):
        v.status, v.reasons = "fail", [f"{got['error']} (query: {query})"]
        v.stats.append(StatVerdict(name, bound.text, "fail", None, unit, False, t.line))
        return
    rows = got.get("values") or []
    if not rows:
        v.status = "fail"
        v.reasons = [f"no samples: the query returned no series at the end of the run (query: {query})"]
        v.stats.append(StatVerdict(name, bound.text, "fail", None, unit, False, t.line))
        return
    v.samples = len(rows)
    for row in rows:
        labels = ", ".join(f"{k}={val}" for k, val in sorted(row["labels"].items()))
        ok = bound.holds(row["value"])
        v.stats.append(
            StatVerdict(
                name + (f"{{{labels}}}" if labels else ""),
                bound.text,
                "fail",
                row["value"],
                unit,
                ok,
                t.line,
            )
        )
    v.status = "pass" if all(s.ok for s in v.stats) else "fail"
    v.reasons.append(f"query: {query}")


def exit_code(verdicts: list[Verdict], strict: bool = False, scored=None) -> int:
    """0 every target passed (warn bands allowed); 1 a target failed, or none was judged at all
    (nothing measured what the spec asks: a CI gate must not go green), or with `strict` a warn.
    With the spec's `score` (`scored`, runtime/score.py) the score's status decides instead of
    each target's: a fail (a low score or a failed key target) exits 1, a warn only with strict."""
    if verdicts and not any(v.judged() for v in verdicts):
        return 1
    if scored is not None:
        return 1 if scored.status == "fail" or (strict and scored.status == "warn") else 0
    if any(v.status == "fail" for v in verdicts):
        return 1
    if strict and any(v.status == "warn" for v in verdicts):
        return 1
    return 0


def _digest(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise ResultError(str(path), f"cannot read: {exc.strerror}") from None
    return h.hexdigest()


def read_results(paths: list[Path], allow_partial: bool = False) -> tuple[list[Series], dict]:
    """Every result file in the paths (folders are searched); per k6 file its dropped iterations.
    `allow_partial`: a cut-off or garbled k6 line is skipped and counted (meta["lost"])."""
    from .readers import read_file

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(f for pattern in RESULT_PATTERNS for f in p.rglob(pattern) if f.is_file())
        elif p.exists():
            files.append(p)
        else:
            raise ResultError(str(p), "no such file or folder")
    unique: dict[Path, Path] = {}
    for f in files:  # a file named twice (or inside two given folders) is read once
        unique.setdefault(f.resolve(), f)
    files = list(unique.values())
    series: list[Series] = []
    meta: dict = {"k6": [], "files": [str(f) for f in files], "aborted": {}, "stopped": {}, "lost": {}}
    seen: dict[str, Path] = {}
    for f in files:
        digest = _digest(f)
        if digest in seen:  # a copied shard would count every request twice
            raise ResultError(
                str(f),
                f"has the same content as {seen[digest]}: a result counted "
                "twice would double its throughput; remove the copy",
            )
        seen[digest] = f
        found = read_file(f, lossy=allow_partial)
        lost = next((s.extra["lost_lines"] for s in found if s.extra.get("lost_lines")), None)
        if lost:
            meta["lost"][str(f)] = lost
        for s in found:
            if s.extra.get("aborted"):
                meta["aborted"][s.tool] = s.extra["aborted"]
        first = next((s for s in found if s.extra.get("stopped_users")), None)  # every series has it
        for reason, n in first.extra["stopped_users"].items() if first else ():
            by_tool = meta["stopped"].setdefault(first.tool, {})
            by_tool[reason] = by_tool.get(reason, 0) + n
        k6 = [s for s in found if s.tool == "k6"]
        if k6:
            meta["k6"].append(
                {
                    "file": str(f),
                    "profile": k6[0].profile,
                    "dropped_iterations": int(k6[0].extra.get("dropped_iterations", 0)),
                    "requests": sum(s.count for s in k6),
                }
            )
        series += found
    return series, meta

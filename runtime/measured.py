"""Measured targets: the series a target selects, merged per tool, judged on every statistic, over
every full window, and with what the run says about itself (dropped iterations, a closed model,
an aborted or partial tool, a warm-up left out, a tool that did not run)."""

from __future__ import annotations

import math

from .conditions import coarse, failed_calls, on_stop_note, run_conditions, stopped_users
from .contracts import StatBound, Target, TargetsFile
from .histogram import half_width
from .results import Series
from .timeline import Timeline
from .verdict import QUANTILES, STAT_UNITS, StatVerdict, Verdict, shown

# merge() of the same series, asked for by the verdict, its per-tool parts, the history record
# and the report in one check: made once. Keyed by the inputs' identities, each entry holding its
# inputs (so no identity is reused while it is cached); a merged series is never changed after.
_MERGED: dict[tuple[int, ...], tuple[list[Series], Series]] = {}


def merge(series: list[Series]) -> Series:
    key = tuple(map(id, series))
    hit = _MERGED.get(key)
    if hit is not None:
        return hit[1]
    out = _merge(series)
    if len(_MERGED) >= 64:
        _MERGED.pop(next(iter(_MERGED)))
    _MERGED[key] = (list(series), out)
    return out


def _merge(series: list[Series]) -> Series:
    if len(series) == 1:  # nothing to add up: the same counts, histograms and seconds, shared
        s = series[0]
        return Series(
            s.tool,
            s.kind,
            s.name,
            s.file,
            "merged",
            count=s.count,
            failures=s.failures,
            statuses=dict(s.statuses),
            errors=dict(s.errors),
            histogram=s.histogram,
            ttfb=s.ttfb,
            timeline=s.timeline,
            elapsed=s.elapsed or None,
        )
    out = Series(series[0].tool, series[0].kind, series[0].name, series[0].file, "merged")
    elapsed_by_run: dict[tuple, float] = {}
    for s in series:
        out.count += s.count
        out.failures += s.failures
        out.histogram.merge(s.histogram)
        out.ttfb.merge(s.ttfb)
        for k, v in s.statuses.items():
            out.statuses[k] = out.statuses.get(k, 0) + v
        for k, v in s.errors.items():
            out.errors[k] = out.errors.get(k, 0) + v
        if s.elapsed:
            # shards of one run overlap in time: the run's elapsed is their longest; SQL series
            # (query x level) run one after another: their times add up
            sql = s.kind == "query"
            key = (s.tool, s.file, s.name, s.workers) if sql else (s.tool, s.profile)
            elapsed_by_run[key] = max(elapsed_by_run.get(key, 0.0), s.elapsed)
    out.elapsed = sum(elapsed_by_run.values()) or None
    out.timeline = Timeline.merge([s.timeline for s in series])
    return out


def select(target: Target, series: list[Series]) -> list[Series]:
    endpoints, queries = set(target.endpoints), set(target.queries)
    out = []
    for s in series:
        if s.kind == "http" and s.name in endpoints:
            if target.profile and s.profile not in (None, target.profile):
                continue
            out.append(s)
        elif s.kind == "query" and s.name in queries:
            if target.workers and s.workers != target.workers:
                continue
            out.append(s)
    return out


def measure(stat: str, s: Series, measure_kind: str) -> tuple[float | None, str]:
    hist = s.ttfb if measure_kind == "ttfb" else s.histogram
    if stat in QUANTILES:
        v = hist.quantile(QUANTILES[stat])
        return (v / 1e9 if v is not None else None), "s"
    if stat == "avg":
        m = hist.mean()
        return (m / 1e9 if m is not None else None), "s"
    if stat in ("min", "max"):
        v = hist.min() if stat == "min" else hist.max()
        return (v / 1e9 if v is not None else None), "s"
    if stat == "throughput":
        return (s.count / s.elapsed if s.elapsed and s.count else None), "/s"
    if stat == "error_rate":
        return (s.failures / s.count if s.count else None), "ratio"
    if stat == "success_rate":
        return (1 - s.failures / s.count if s.count else None), "ratio"
    raise ValueError(stat)


def time_slice(s: Series, lo: float, hi: float = math.inf) -> Series:
    """The series' samples from second `lo` (inclusive) to `hi` (exclusive) since its start, from
    its per-second timeline: a warm-up left out, a cold start, the rest of a run."""
    if not s.timeline:
        return s
    kept = s.timeline.slice(lo, hi)
    out = Series(
        s.tool,
        s.kind,
        s.name,
        s.file,
        s.shard,
        s.profile,
        s.workers,
        statuses=dict(s.statuses),
        errors=dict(s.errors),
        ttfb=s.ttfb,
        extra=s.extra,
    )
    out.count, out.failures = kept.totals()
    out.histogram = kept.histogram()
    out.timeline = kept
    whole = s.elapsed or 0.0
    out.elapsed = max(0.0, min(hi, whole) - min(lo, whole)) or None
    return out


def judge_measured(
    t: Target, series: list[Series], v: Verdict, targets: TargetsFile, meta: dict
) -> Series | None:
    """Judge the target's bounds per tool (or merged with `merge_tools`); returns the merged
    series (None: no samples)."""
    chosen = select(t, series)
    what = t.selection
    v.selector = what
    ran = {s.profile for s in series if s.kind == "http"}
    if not chosen and t.profile and t.endpoints and ran and None not in ran and t.profile not in ran:
        v.status = "warn"  # a target of another profile: this run did not attempt it
        v.reasons.append(
            f"not judged: the target is for profile {t.profile}; these results are "
            f"of profile {', '.join(sorted(ran))}"
        )
        v.stats = unmeasured(t)
        return None
    on_stop_note(t, series, v)
    chosen, rest = part_of_run(t, chosen, v, targets)
    if not chosen or sum(s.count for s in chosen) == 0:
        v.status = "fail"
        errors = {k for s in chosen for k in s.errors}
        v.reasons.append(f"no samples for {what}" + (f" ({'; '.join(sorted(errors))})" if errors else ""))
        if t.endpoints:
            v.reasons += [f"{tool} {why}" for tool, why in sorted(meta.get("missing", {}).items())]
            skipped = sorted(meta.get("skipped", {}).items())
            v.reasons += [f"{tool} did not run: {why}" for tool, why in skipped]
            v.reasons += stopped_users(meta)
        v.stats = unmeasured(t)
        return None
    merged = merge(chosen)
    v.samples, v.histogram, v.timeline = merged.count, merged.histogram, merged.timeline
    tools = sorted({s.tool for s in chosen})
    split = len(tools) > 1 and not t.merge_tools
    parts = (
        [(tool, merge([s for s in chosen if s.tool == tool])) for tool in tools]
        if split
        else [(None, merged)]
    )
    failed = warned = False
    for tool, part in parts:
        f2, w2 = judge_part(t, tool, part, [r for r in rest if tool is None or r.tool == tool], v)
        failed, warned = failed or f2, warned or w2
    if split:
        v.timelines = {tool: part.timeline for tool, part in parts if tool}
        v.reasons.append(f"judged per tool ({', '.join(tools)}), never blended (`merge_tools: true` merges)")
    failed, warned = failed or _missed(v, "fail"), warned or _missed(v, "warn")
    problems = {(s.name, p): None for s in chosen for p in s.extra.get("problems") or []}  # once per engine
    for name, problem in problems:
        failed = True
        v.reasons.append(f"plan of {name}: {problem}")
    for f2, w2 in (
        failed_calls(t, merged, v),
        run_conditions(t, chosen, merged, v, targets, meta),
        coarse(chosen, v),
    ):
        failed, warned = failed or f2, warned or w2
    v.status = "fail" if failed else "warn" if warned else "pass"
    return merged


def _missed(v: Verdict, severity: str) -> bool:
    return any(not s.ok and s.severity == severity for s in v.stats)


def unmeasured(t: Target) -> list[StatVerdict]:
    return [StatVerdict(st.stat, st.text, st.severity, None, "", False, st.line) for st in t.stats]


def part_of_run(
    t: Target, chosen: list[Series], v: Verdict, targets: TargetsFile
) -> tuple[list[Series], list[Series]]:
    """The part of each series a target judges (`during`, else without the profile's warm-up),
    and for `vs_rest` the rest of the run."""
    if t.during:  # an explicit part of the run (the warm-up is not left out of it)
        lo, hi = t.during[0], math.inf if t.during[1] is None else t.during[1]
        rest = [p for s in chosen for p in (time_slice(s, 0, lo), time_slice(s, hi)) if p.count]
        v.reasons.append(f"during {lo:g}s..{'' if hi == math.inf else f'{hi:g}s'} of the run only")
        return [time_slice(s, lo, hi) for s in chosen], rest
    warmups = {
        s.profile: profile.warmup if (profile := targets.profiles.get(s.profile or "")) else 0 for s in chosen
    }
    if any(warmups.values()):
        v.reasons.append(
            "warm-up left out: the first "
            + ", ".join(f"{w:g}s of {p}" for p, w in sorted(warmups.items(), key=str) if w)
        )
        return [time_slice(s, warmups.get(s.profile) or 0) for s in chosen], []
    return chosen, []


def judge_part(
    t: Target, tool: str | None, part: Series, rest: list[Series], v: Verdict
) -> tuple[bool, bool]:
    """One tool's (or the merged) statistics, ratios to the rest of the run, and windows; returns
    whether a window broke a fail bound / a warn band (the statistics' own misses are counted by
    the caller)."""
    kind = t.measure
    suffix = "" if tool is None else f" ({tool})"
    for st in t.stats:
        value, unit = measure(st.stat, part, kind)
        ok = value is not None and st.holds(value)
        if ok and unit == "s" and not part.extra.get("resolution"):
            ok = against_the_bound(st, value, v, suffix)
        v.stats.append(
            StatVerdict(st.stat + suffix, st.text, st.severity, value, unit, ok, st.line, limit=st.value)
        )
    for stat, rule in sorted(t.vs_rest.items()):
        a = measure(stat, part, kind)[0]
        b = measure(stat, merge(rest), kind)[0] if rest else None
        ratio = a / b if a is not None and b else None
        ok = ratio is not None and rule.holds(ratio)
        v.stats.append(
            StatVerdict(
                f"{stat} vs rest{suffix}", rule.text, "fail", ratio, "x", ok, t.line, limit=rule.value
            )
        )
    failed = warned = False
    for severity, why in windowed(t, part) if t.window else []:
        failed |= severity == "fail"
        warned |= severity == "warn"
        v.reasons.append(why if tool is None else f"{tool}: {why}")
    return failed, warned


def against_the_bound(st: StatBound, value: float, v: Verdict, suffix: str) -> bool:
    """A latency read from the 3-digit histogram is within half a unit of its third digit of the
    true one (2000ms stands for 1995..2005ms): it holds only when its whole range holds (rounded
    up for `<`, down for `>`), and a bound met by less than that says so."""
    half = half_width(value * 1e9) / 1e9
    edge = value + half if st.op in ("<", "<=") else value - half
    if st.op == "==" or st.holds(edge):
        return True
    v.reasons.append(
        f"{st.stat}{suffix} {shown(value, 's')} is {shown(value - half, 's')} to "
        f"{shown(value + half, 's')} at the histogram's resolution (3 significant digits): "
        f"{st.text} is not shown to hold"
    )
    return False


def windowed(t: Target, s: Series) -> list[tuple[str, str]]:
    """`for: 10s`: every bound (and warn band) must also hold over every full window of the run's
    per-second time series. Returns (severity, reason) per broken bound; a run shorter than one
    window is a warning that no window was judged."""
    width = int(t.window or 0)
    tl = s.timeline
    if width <= 0:
        return []
    span = int(tl.secs[-1] - tl.secs[0] + 1) if tl else 0
    if span < width:
        return [("warn", f"no full {width}s window in {span}s of samples: the `for` window was not judged")]
    out = []
    first = int(tl.secs[0])
    for st in t.stats:
        starts, values = tl.windows(width, st.stat)
        for start, value in zip(starts, values, strict=True):
            if value is None and st.stat != "throughput":
                continue  # a window without requests has no latency or ratio to break
            value = value or 0.0
            if not st.holds(value):
                out.append(
                    (
                        st.severity,
                        f"{st.stat} {shown(value, STAT_UNITS.get(st.stat, ''))} "
                        f"breaks {st.text} in the {width}s window starting at second {start - first}",
                    )
                )
                break
    return out

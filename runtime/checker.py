"""The checker: every target judged against merged results: pass / warn / fail, with evidence.

Series a target selects are merged (histograms summed, never percentiles averaged). A target
with no samples fails. SQL targets also fail when the query's plan broke its expectation or the
query could not run. Rate targets measured on a closed-model run, or on a k6 run that dropped
iterations, are at best warn.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import files as spec_files
from .histogram import Histogram
from .results import ResultError, Series

QUANTILES = {"p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p99.9": 0.999}
LATENCY = {"avg", "min", "max", *QUANTILES}


def shown(measured: float | None, unit: str, digits: int = 3) -> str:
    """A measured value with its unit: seconds as ms, ratios as %, rates as /s."""
    if measured is None:
        return "no data"
    if unit == "s":
        return f"{measured * 1000:.{digits}f}ms"
    if unit == "ratio":
        return f"{measured * 100:.{digits}f}%"
    if unit == "/s":
        return f"{measured:.2f}/s"
    if unit == "change":
        return f"{measured * 100:+.2f}%"
    if unit == "x":
        return f"{measured:.3f}x"
    return f"{measured:g}{unit}"


@dataclass
class StatVerdict:
    stat: str
    bound: str
    severity: str  # fail | warn: what breaking this bound means
    measured: float | None
    unit: str
    ok: bool
    line: int
    note: str = ""  # shown after the value, e.g. which run window and bucket

    def shown(self) -> str:
        return shown(self.measured, self.unit)


@dataclass
class Verdict:
    name: str
    status: str  # pass | warn | fail
    line: int
    spec: str
    samples: int
    stats: list[StatVerdict] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    selector: str = ""
    histogram: Histogram | None = None
    timeline: list[tuple[int, int, int, Histogram]] = field(default_factory=list)
    server: list[StatVerdict] = field(default_factory=list)  # the service's own view (Prometheus)

    def message(self) -> str:
        parts = [f"{s.stat} {s.shown()} ({'warn bound' if s.severity == 'warn' else 'bound'} {s.bound})"
                 for s in self.stats if not s.ok or self.status == "pass"]
        parts += [f"{s.stat} {s.shown()} ({s.note})" for s in self.server]
        return "; ".join(parts + self.reasons)


def merge(series: list[Series]) -> Series:
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
            key = (s.tool, s.file) if s.tool == "sql" else (s.tool, s.profile)
            key = (*key, s.name, s.workers) if s.tool == "sql" else key
            elapsed_by_run[key] = max(elapsed_by_run.get(key, 0.0), s.elapsed)
    out.elapsed = sum(elapsed_by_run.values()) or None
    slots: dict[int, list] = {}
    for s in series:
        for t, c, f, h in s.timeline:
            slot = slots.setdefault(t, [0, 0, Histogram()])
            slot[0] += c
            slot[1] += f
            slot[2].merge(h)
    out.timeline = [(t, c, f, h) for t, (c, f, h) in sorted(slots.items())]
    return out


def select(target: dict, series: list[Series]) -> list[Series]:
    endpoints, queries = set(target.get("endpoints") or []), set(target.get("queries") or [])
    out = []
    for s in series:
        if s.kind == "http" and s.name in endpoints:
            if target.get("profile") and s.profile not in (None, target["profile"]):
                continue
            out.append(s)
        elif s.kind == "query" and s.name in queries:
            if target.get("workers") and s.workers != target["workers"]:
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


def holds(op: str, measured: float, bound: float) -> bool:
    return {"<": measured < bound, "<=": measured <= bound, ">": measured > bound,
            ">=": measured >= bound, "==": math.isclose(measured, bound, rel_tol=1e-9)}[op]


def judge(targets: dict, series: list[Series], meta: dict | None = None,
          base: Path | None = None, baseline: list[Series] | None = None) -> list[Verdict]:
    """Every target's verdict. `baseline`: the series of the run regression targets compare to."""
    meta = meta or {}
    out = []
    for t in targets["targets"]:
        v = Verdict(t["name"], "pass", t["line"], targets["spec"], 0)
        if meta.get("on_demo") and t.get("demo") is False:
            v.status = "warn"  # never a pass: it was not judged
            v.reasons.append("not judged: the spec marks this target `demo: false` and the run used "
                             "the embedded demo target")
            v.stats = [StatVerdict(st["stat"], st["text"], st["severity"], None, "", False, st["line"])
                       for st in t["stats"]]
        elif t["kind"] == "measured":
            now = judge_measured(t, series, v, targets, meta)
            not_judged = now is None and v.status == "warn"  # another profile's target
            if (t.get("extra") or {}).get("regression") and not not_judged:
                judge_regression(t, now, baseline, v)
            if now is not None:
                judge_server_side(t, v, meta.get("prometheus"))
        elif t["kind"] == "external":
            judge_external(t, v, base or Path.cwd(), meta.get("prometheus"))
        else:
            judge_scaling(t, series, v, targets)
        alerts_during_run(t, v, meta.get("prometheus"))
        out.append(v)
    return out


STAT_UNITS = {"avg": "s", "min": "s", "max": "s", "error_rate": "ratio", "success_rate": "ratio",
              "throughput": "/s", **{q: "s" for q in QUANTILES}}


def judge_server_side(t: dict, v: Verdict, evidence: dict | None) -> None:
    """The service's own statistics over each tool's run window, beside the client's; judged too
    when the spec says `server_side: judge`."""
    view = t.get("server")
    per_tool = ((evidence or {}).get("server") or {}).get(t["name"])
    if not view or not per_tool:
        return
    judged = view.get("mode") == "judge"
    buckets = view.get("buckets") or []
    for tool, stats in sorted(per_tool.items()):
        seen = set()
        for st in t["stats"]:
            got = stats.get(st["stat"])
            if got is None or (st["stat"] in seen and not judged):
                continue
            seen.add(st["stat"])
            values = [row["value"] for row in got.get("values") or []]
            value = values[0] if len(values) == 1 else None
            ok = value is not None and holds(st["op"], value, st["value"])
            v.server.append(StatVerdict(f"server {st['stat']}", st["text"], st["severity"], value,
                                        STAT_UNITS.get(st["stat"], ""), ok, st["line"], f"during {tool}"))
            if got.get("error"):
                v.reasons.append(f"server-side {st['stat']} ({tool}): {got['error']}")
            elif value is not None and st["stat"] in QUANTILES and buckets:
                lo = max((b for b in buckets if b < value), default=0.0)
                hi = min((b for b in buckets if b >= value), default=math.inf)
                v.server[-1].note += f", in bucket {shown(lo, 's', 0)}-{shown(hi, 's', 0)}"
            if judged and not ok:
                why = "no data" if value is None else f"{shown(value, STAT_UNITS.get(st['stat'], ''))}"
                v.reasons.append(f"server-side {st['stat']} {why} breaks {st['text']} during {tool}")
                if st["severity"] == "fail" or value is None:
                    v.status = "fail"
                elif v.status == "pass":
                    v.status = "warn"


def alerts_during_run(t: dict, v: Verdict, evidence: dict | None) -> None:
    """A generated alert of this target that went pending or firing while the load ran."""
    for a in ((evidence or {}).get("alerts") or {}).get("alerts") or []:
        if a.get("target") != t["name"]:
            continue
        if "firing_at" in a:
            v.reasons.append(f"alert {a['alert']} fired at +{clock(a['firing_at'])} of the run")
        elif "pending_at" in a:
            v.reasons.append(f"alert {a['alert']} was pending from +{clock(a['pending_at'])} (not long "
                             "enough to fire)")


def clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def judge_regression(t: dict, now: Series | None, baseline: list[Series] | None, v: Verdict) -> None:
    """`regression: {p95: "< +10%"}`: the relative change of each statistic of `now` (the
    target's merged series) against the same selection in the baseline."""
    rules = t["extra"]["regression"]
    before = select(t, baseline or [])
    then = merge(before) if before and sum(s.count for s in before) else None
    if then is None:
        v.status = "fail"
        v.reasons.append("no baseline samples for " + (v.selector or "the selection") + (
            ": pass the baseline run with --baseline" if baseline is None else " in the baseline run"))
    for stat, rule in sorted(rules.items()):
        change = None
        if now is not None and then is not None:
            a, _ = measure(stat, now, t.get("measure", "latency"))
            b, _ = measure(stat, then, t.get("measure", "latency"))
            if a is not None and b:
                change = a / b - 1
        ok = change is not None and holds(rule["op"], change, rule["value"])
        v.stats.append(StatVerdict(f"{stat} change", rule["text"], "fail", change, "change", ok, t["line"]))
        if not ok:
            v.status = "fail"


def judge_scaling(t: dict, series: list[Series], v: Verdict, targets: dict) -> None:
    """`scaling: {from: a, to: b}, throughput_per_user: ">= 0.9x"`: requests per user-second at
    profile b over the same at profile a, per tool that ran both (tools are never mixed)."""
    extra = t["extra"]
    rule = extra["throughput_per_user"]
    profiles = targets.get("profiles", {})
    a, b = extra["from"], extra["to"]
    v.selector = f"all HTTP endpoints, profiles {a} -> {b}"
    tools = sorted({s.tool for s in series if s.kind == "http"})
    judged = False
    for tool in tools:
        per_user, counted = [], 0
        for name in (a, b):
            chosen = [s for s in series if s.tool == tool and s.kind == "http" and s.profile == name]
            merged = merge(chosen) if chosen else None
            load = (profiles.get(name) or {}).get("mean") or 0
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
        ok = holds(rule["op"], ratio, rule["value"])
        v.stats.append(StatVerdict(f"{tool} throughput per user", rule["text"], "fail", ratio, "x", ok,
                                   t["line"]))
        v.reasons.append(f"{tool}: {per_user[0]:.3f}/s per user at {a}, {per_user[1]:.3f}/s at {b}")
        if not ok:
            v.status = "fail"
    if not judged:
        have = sorted({s.profile or "?" for s in series if s.kind == "http"})
        v.status = "fail"
        v.reasons = [f"no samples: a scaling target needs one tool's runs of both profiles {a} and {b}; "
                     f"these results hold {', '.join(have) or 'no HTTP runs'}"]


def judge_measured(t: dict, series: list[Series], v: Verdict, targets: dict, meta: dict) -> Series | None:
    """Judge the target's bounds on its merged series; returns that series (None: no samples)."""
    chosen = select(t, series)
    what = ", ".join(t.get("endpoints") or t.get("queries") or []) or "nothing"
    v.selector = what
    ran = {s.profile for s in series if s.kind == "http"}
    if not chosen and t.get("profile") and t.get("endpoints") and ran and None not in ran \
            and t["profile"] not in ran:
        v.status = "warn"  # a target of another profile: this run did not attempt it
        v.reasons.append(f"not judged: the target is for profile {t['profile']}; these results are "
                         f"of profile {', '.join(sorted(ran))}")
        for st in t["stats"]:
            v.stats.append(StatVerdict(st["stat"], st["text"], st["severity"], None, "", False, st["line"]))
        return None
    if not chosen or sum(s.count for s in chosen) == 0:
        v.status = "fail"
        errors = {k for s in chosen for k in s.errors}
        v.reasons.append(f"no samples for {what}" + (f" ({'; '.join(sorted(errors))})" if errors else ""))
        for st in t["stats"]:
            v.stats.append(StatVerdict(st["stat"], st["text"], st["severity"], None, "", False, st["line"]))
        return None
    merged = merge(chosen)
    v.samples, v.histogram, v.timeline = merged.count, merged.histogram, merged.timeline
    for st in t["stats"]:
        value, unit = measure(st["stat"], merged, t.get("measure", "latency"))
        ok = value is not None and holds(st["op"], value, st["value"])
        v.stats.append(StatVerdict(st["stat"], st["text"], st["severity"], value, unit, ok, st["line"]))
    failed = any(not s.ok and s.severity == "fail" for s in v.stats)
    warned = any(not s.ok and s.severity == "warn" for s in v.stats)
    for s in chosen:
        for problem in s.extra.get("problems") or []:
            failed = True
            v.reasons.append(f"plan of {s.name}: {problem}")
    top = ", ".join(f"{k} x{n}" for k, n in sorted(merged.errors.items(), key=lambda kv: -kv[1])[:3])
    if merged.failures and any(not s.ok and s.stat in ("error_rate", "success_rate") for s in v.stats):
        v.reasons.append(f"{merged.failures} of {merged.count} calls failed; commonest causes: {top}")
    # latency histograms hold failed calls too: a target that bounds no error rate must not pass
    # on the latency of failures
    if merged.failures and not any(st["stat"] in ("error_rate", "success_rate") for st in t["stats"]):
        if merged.failures == merged.count:
            failed = True
            v.reasons.append(f"every one of the {merged.count} calls failed ({top}): no successful samples")
        else:
            warned = True
            v.reasons.append(f"{merged.failures} of {merged.count} calls failed ({top}) and the target "
                             "bounds no error_rate; the latency includes them")
    if t.get("window"):
        bad = windowed(t, merged)
        if bad:
            failed = True
            v.reasons.append(bad)
    if any(st["stat"] == "throughput" for st in t["stats"]):
        models = {targets.get("profiles", {}).get(s.profile, {}).get("model") for s in chosen if s.profile}
        if "closed" in models and not failed:
            warned = True
            v.reasons.append("throughput measured on a closed-model run: it depends on the users' pace")
    for tool, why in sorted(meta.get("aborted", {}).items()):
        if any(s.tool == tool for s in chosen):
            failed = True  # an aborted run judges nothing it did not finish
            v.reasons.append(f"{tool} run aborted: {why}")
    for tool, why in sorted(meta.get("partial", {}).items()):
        if any(s.tool == tool for s in chosen) and not failed:
            warned = True  # never a pass on what a tool measured before it stopped
            v.reasons.append(f"{tool} did not finish ({why}): judged on partial results")
    dropped = sum(m.get("dropped_iterations", 0) for m in meta.get("k6", []))
    if dropped and any(s.tool == "k6" for s in chosen):
        warned = True
        v.reasons.append(f"k6 dropped {dropped} iterations: the load generator fell behind")
    v.status = "fail" if failed else "warn" if warned else "pass"
    return merged


def windowed(t: dict, merged: Series) -> str | None:
    """`for: 10s`: every full window of the time series must hold the latency bounds."""
    width = int(t["window"])
    slots = merged.timeline
    if not slots or width <= 0:
        return None
    for st in t["stats"]:
        if st["stat"] not in QUANTILES or st["severity"] != "fail":
            continue
        for i in range(len(slots)):
            h = Histogram()
            for sec, _c, _f, hist in slots[i:]:
                if sec >= slots[i][0] + width:
                    break
                h.merge(hist)
            if slots[-1][0] - slots[i][0] + 1 < width:
                break
            q = h.quantile(QUANTILES[st["stat"]])
            if q is not None and not holds(st["op"], q / 1e9, st["value"]):
                return (f"{st['stat']} {q / 1e6:.3f}ms breaks {st['text']} in the {width}s window "
                        f"starting at second {slots[i][0]}")
    return None


def judge_external(t: dict, v: Verdict, base: Path, evidence: dict | None = None) -> None:
    extra = t.get("extra", {})
    source = extra.get("source", {})
    if "promql" in source:
        judge_promql(t, v, evidence)
        return
    if "json" not in source:
        v.status, v.reasons = "fail", ["no samples: the target names no source"]
        return
    try:
        node: Any = json.loads(spec_files.read_text(base, source["json"]))
        for key in [k for k in source.get("path", "$").lstrip("$").split(".") if k]:
            node = node[key]
        value = float(node)
    except OSError as exc:
        v.status, v.reasons = "fail", [f"no samples: {source['json']}: {exc}"]
        return
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        v.status, v.reasons = "fail", [f"no samples: {source['json']} {source.get('path', '')} not readable"]
        return
    ok = holds(extra["op"], value, extra["value"])
    v.samples = 1
    name = extra.get("metric") or "value"
    v.stats.append(StatVerdict(name, extra["text"], "fail", value, "", ok, t["line"]))
    v.status = "pass" if ok else "fail"


def judge_promql(t: dict, v: Verdict, evidence: dict | None) -> None:
    """A `source: {promql}` target from the queried evidence: every series the query returns
    must hold the bound; no server, an error or an empty answer fails and says so."""
    extra = t["extra"]
    query = extra["source"]["promql"]
    v.selector = f"PromQL {query}"
    got = ((evidence or {}).get("promql") or {}).get(t["name"])
    name = extra.get("metric") or "value"
    unit = {"percent": "ratio", "duration": "s", "rate": "/s"}.get(extra.get("unit", ""), "")
    if got is None:
        v.status = "fail"
        v.reasons = [f"no samples: no Prometheus was queried for {query!r}; pass --prometheus URL or "
                     "set PROMETHEUS_URL (on the demo target `perfspec run` starts one)"]
        v.stats.append(StatVerdict(name, extra["text"], "fail", None, unit, False, t["line"]))
        return
    if got.get("error"):
        v.status, v.reasons = "fail", [f"{got['error']} (query: {query})"]
        v.stats.append(StatVerdict(name, extra["text"], "fail", None, unit, False, t["line"]))
        return
    rows = got.get("values") or []
    if not rows:
        v.status = "fail"
        v.reasons = [f"no samples: the query returned no series at the end of the run (query: {query})"]
        v.stats.append(StatVerdict(name, extra["text"], "fail", None, unit, False, t["line"]))
        return
    v.samples = len(rows)
    for row in rows:
        labels = ", ".join(f"{k}={val}" for k, val in sorted(row["labels"].items()))
        ok = holds(extra["op"], row["value"], extra["value"])
        v.stats.append(StatVerdict(name + (f"{{{labels}}}" if labels else ""), extra["text"], "fail",
                                   row["value"], unit, ok, t["line"]))
    v.status = "pass" if all(s.ok for s in v.stats) else "fail"
    v.reasons.append(f"query: {query}")


def exit_code(verdicts: list[Verdict], strict: bool = False) -> int:
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


def read_results(paths: list[Path]) -> tuple[list[Series], dict]:
    """Every result file in the paths (folders are searched); per k6 file its dropped iterations."""
    from .readers import read_file

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(f for pattern in ("locust-*.json", "sql-*.json", "k6*.ndjson")
                            for f in p.rglob(pattern) if f.is_file())
        elif p.exists():
            files.append(p)
        else:
            raise ResultError(str(p), "no such file or folder")
    unique: dict[Path, Path] = {}
    for f in files:  # a file named twice (or inside two given folders) is read once
        unique.setdefault(f.resolve(), f)
    files = list(unique.values())
    series: list[Series] = []
    meta: dict = {"k6": [], "files": [str(f) for f in files], "aborted": {}}
    seen: dict[str, Path] = {}
    for f in files:
        digest = _digest(f)
        if digest in seen:  # a copied shard would count every request twice
            raise ResultError(str(f), f"has the same content as {seen[digest]}: a result counted "
                              "twice would double its throughput; remove the copy")
        seen[digest] = f
        found = read_file(f)
        for s in found:
            if s.extra.get("aborted"):
                meta["aborted"][s.tool] = s.extra["aborted"]
        k6 = [s for s in found if s.tool == "k6"]
        if k6:
            meta["k6"].append({"file": str(f), "profile": k6[0].profile,
                               "dropped_iterations": int(k6[0].extra.get("dropped_iterations", 0))})
        series += found
    return series, meta

"""Regression targets judged against the run history: is this run's statistic outside what the
last N comparable runs make likely?

The test works on the logarithm of each run's statistic (latency changes are relative). The last
N passing runs give a mean m and a spread s; the change d = log y - m of the new run's value y
has the interval d +- t(0.95, N-1) * s * sqrt(1 + 1/N): a 90 % prediction interval (Student's
t: with 5 runs it is honest about how little 5 runs tell), whose each end is a one-sided 95 %
bound. The spread is never taken below the new run's own sampling error (a quantile's error
from the order statistics of its histogram, a mean's from its standard deviation) nor below the
histogram's resolution (0.5 %): a history of near-identical runs does not make every 0.1 %
wobble significant.

The verdict asks the bound's own question, one-sided: a bound `< +10%` fails when the estimate
breaks it and the change is significantly upwards (the interval's low end above 0: at most 5 %
of runs like the history's do that); `> -5%` mirrors it. An estimate that breaks the bound
without that is a warn ("within noise"); a change within the bound passes.
bench/regression_power.py measures the false-positive rate and the detection rate on a real
server and tool.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from .contracts import Bound, Target
from .histogram import Histogram
from .history_store import Record
from .measured import measure, merge, select
from .results import Series
from .verdict import QUANTILES, StatVerdict, Verdict

LEVEL = 0.90  # two-sided coverage of the interval shown: each end a one-sided 95 % bound
RESOLUTION = 0.005  # the histogram's relative resolution: 3 significant digits
MIN_RUNS = 3  # fewer comparable runs leave no spread to judge with: a warn says how many there are
DEFAULT_LAST = 5


@dataclass(frozen=True)
class Change:
    estimate: float  # relative change of the statistic, 0.124 = +12.4 %
    low: float  # its 95 % interval
    high: float
    runs: int

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0

    def interval(self) -> str:
        return f"{LEVEL * 100:.0f} % CI {self.low * 100:+.1f} … {self.high * 100:+.1f} %"


def t_quantile(df: int) -> float:
    """Student's t at (1 + LEVEL) / 2 for `df` degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf((1 + LEVEL) / 2, df))


def breaks(rule: Bound, change: Change) -> bool:
    """Whether the change breaks the bound beyond noise: the estimate breaks it and the interval
    lies on the bound's bad side of 0 (up for `<`, down for `>`; either for `==`)."""
    if rule.holds(change.estimate):
        return False
    if rule.op in ("<", "<="):
        return change.low > 0
    if rule.op in (">", ">="):
        return change.high < 0
    return change.significant


def spread_of(stat: str, hist: Histogram, count: int, value: float) -> float:
    """The relative sampling error of one run's statistic (a standard error of its log)."""
    n = hist.total or count
    if n <= 1 or value <= 0:
        return 0.0
    if stat in QUANTILES:
        q = QUANTILES[stat]
        step = math.sqrt(n * q * (1 - q))  # one standard error of the rank (binomial)
        lo = hist.quantile(max(0.0, (n * q - step) / n))
        hi = hist.quantile(min(1.0, (n * q + step) / n))
        if not lo or not hi:
            return 0.0
        return (math.log(hi) - math.log(lo)) / 2
    if stat == "avg":
        items = hist.to_list()
        mean = sum(v * c for v, c in items) / n
        var = sum(c * (v - mean) ** 2 for v, c in items) / max(1, n - 1)
        return math.sqrt(var / n) / mean if mean > 0 else 0.0
    return 0.0  # max, throughput, error rate: only the history's spread speaks


def compare(now: float, now_spread: float, before: list[float]) -> Change:
    """The change of `now` against the runs `before` (all > 0), with its interval (LEVEL)."""
    logs = [math.log(x) for x in before]
    n = len(logs)
    mean = statistics.fmean(logs)
    s = statistics.stdev(logs) if n >= 2 else 0.0
    se = max(s, now_spread, RESOLUTION) * math.sqrt(1 + 1 / n)
    d = math.log(now) - mean
    half = t_quantile(max(1, n - 1)) * se
    return Change(math.expm1(d), math.expm1(d - half), math.expm1(d + half), n)


def comparable(
    records: list[Record], target: str, tool: str, stat: str, meta: dict, last: int, branch: str | None
) -> list[float]:
    """The statistic in the last `last` passing runs of the same profile (and branch), this run
    excluded."""
    out = []
    for r in records:
        if r.run_id == meta.get("run_id") or not r.passed or r.profile != meta.get("profile"):
            continue
        if branch is not None and r.branch != branch:
            continue
        value = r.value(target, tool, stat)
        if value is not None and value > 0:
            out.append(value)
    return out[-last:] if last > 0 else []


def judge_history(t: Target, series: list[Series], records: list[Record], meta: dict, v: Verdict) -> None:
    """Each `regression` statistic of each tool's selection against the history."""
    last = t.against.last if t.against else DEFAULT_LAST
    branch = t.against.branch if t.against else None
    chosen = select(t, series)
    tools = sorted({s.tool for s in chosen if s.count})
    of = f"last {{n}} runs{' of ' + branch if branch else ''}"
    for tool in tools:
        now = merge([s for s in chosen if s.tool == tool])
        label = f"{tool} " if len(tools) > 1 else ""
        for stat, rule in sorted(t.regression.items()):
            value, _ = measure(stat, now, t.measure)
            before = comparable(records, t.name, tool, stat, meta, last, branch)
            name = f"{label}{stat} change"
            if value is None or value <= 0:
                v.stats.append(StatVerdict(name, rule.text, "fail", None, "change", False, t.line))
                v.status = "fail"
                v.reasons.append(f"{label}{stat}: no data in this run to compare with the history")
                continue
            if len(before) < MIN_RUNS:
                if v.status == "pass":
                    v.status = "warn"
                v.reasons.append(
                    f"{label}{stat}: not judged against history: {len(before)} comparable "
                    f"run{'s' if len(before) != 1 else ''} ({MIN_RUNS} needed: passing runs of profile "
                    f"{meta.get('profile') or '-'}{', branch ' + branch if branch else ''} with {tool})"
                )
                continue
            hist = now.ttfb if t.measure == "ttfb" else now.histogram
            change = compare(value, spread_of(stat, hist, now.count, value), before)
            verdict_of(v, name, label + stat, rule, change, t.line, of.format(n=change.runs))


def verdict_of(v: Verdict, name: str, what: str, rule: Bound, change: Change, line: int, of: str) -> None:
    holds = rule.holds(change.estimate)
    ok = not breaks(rule, change)
    v.stats.append(
        StatVerdict(name, rule.text, "fail", change.estimate, "change", ok, line, limit=rule.value)
    )
    head = f"{what} {change.estimate * 100:+.1f} % ({change.interval()}) vs {of}"
    if not ok:
        v.status = "fail"
        v.reasons.append(f"{head}: fail (bound {rule.text})")
    elif not holds:
        if v.status == "pass":
            v.status = "warn"
        v.reasons.append(f"{head}: beyond the bound {rule.text}, but within the history's noise")
    else:
        within = "within noise" if not change.significant else f"within the bound {rule.text}"
        v.reasons.append(f"{head}: {within}")

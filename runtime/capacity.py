"""`perfspec capacity`: the highest arrival rate at which every selected target still holds.

Steps are open-model k6 runs (constant arrival rate) of one profile's flows. The search doubles
the rate from `start` until a step fails (or `max` is reached), then bisects between the last
rate that held and the first that did not, until the interval is within `resolution` of its
lower end or the time budget is spent. A step is judged by the checker itself: the selected
targets' fail bounds (throughput bounds left out: the rate is what the search sets), with the
step's warm-up left out, and dropped iterations beyond the profile's `max_dropped` failing it
(the load could not even be offered: a collapse). The answer is an interval: capacity is at
least the highest rate that held and below the lowest that failed.
"""

from __future__ import annotations

import html
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .checker import judge
from .contracts import Profile, TargetsFile
from .measured import merge
from .results import Series
from .verdict import Verdict

RESOLUTION = 0.1  # stop bisecting when (failed - held) / held is at most this


@dataclass
class Step:
    rate: float
    held: bool
    seconds: float
    p95: float | None = None  # seconds, over the selected targets' endpoints
    p99: float | None = None
    error_rate: float | None = None
    dropped: int = 0
    why: list[str] = field(default_factory=list)
    folder: str = ""


@dataclass
class Result:
    spec: str
    profile: str
    targets: list[str]
    steps: list[Step]
    capacity: float | None  # highest rate that held (None: not even `start` held)
    above: float | None  # lowest rate that failed (None: `max` held)
    stopped: str  # why the search ended
    bounds: dict[str, float] = field(default_factory=dict)  # stat -> bound (seconds / ratio)

    def summary(self) -> str:
        if self.capacity is None:
            return f"capacity below {self.above:g}/s: the first step failed"
        if self.above is None:
            return f"capacity at least {self.capacity:g}/s: the highest rate tried held ({self.stopped})"
        return (
            f"capacity {self.capacity:g}/s (between {self.capacity:g}/s, which held, and "
            f"{self.above:g}/s, which did not; {self.stopped})"
        )


def step_targets(
    targets: TargetsFile | dict, names: list[str] | None, profile: str, warmup: float
) -> TargetsFile:
    """targets.json cut down to what judges a step: the chosen measured HTTP targets (default:
    those of the profile's endpoints not scoped to another profile), their fail bounds except
    throughput, the profile as an open model with the step's warm-up."""
    targets = TargetsFile.read(targets)
    chosen = []
    for t in targets.targets:
        if t.kind != "measured" or not t.endpoints:
            continue
        if names is not None and t.name not in names:
            continue
        if names is None and t.profile not in (None, profile):
            continue
        stats = tuple(st for st in t.stats if st.severity == "fail" and st.stat != "throughput")
        if stats:
            chosen.append(replace(t, stats=stats, window=None, profile=None))
    base = targets.profiles.get(profile) or Profile(
        model="open", seconds=0, peak=0, mean=0, unit="/s", tools=("k6",), max_dropped=0.01
    )
    step = replace(base, model="open", warmup=warmup, mean=0, seconds=0)
    return targets.replace_targets(chosen, {**targets.profiles, profile: step})


def judge_step(
    rate: float, seconds: float, series: list[Series], meta: dict, targets: TargetsFile
) -> tuple[Step, list[Verdict]]:
    verdicts = judge(targets, series, meta)
    held = bool(verdicts) and all(v.status != "fail" for v in verdicts)
    endpoints = {e for t in targets.targets for e in t.endpoints}
    mine = [s for s in series if s.kind == "http" and s.name in endpoints]
    merged = merge(mine) if mine else None
    step = Step(rate, held, seconds)
    if merged is not None and merged.count:
        p95, p99 = merged.histogram.quantile(0.95), merged.histogram.quantile(0.99)
        step.p95 = p95 / 1e9 if p95 is not None else None
        step.p99 = p99 / 1e9 if p99 is not None else None
        step.error_rate = merged.failures / merged.count
    step.dropped = sum(int(m.get("dropped_iterations") or 0) for m in meta.get("k6", []))
    for v in verdicts:
        if v.status == "fail":
            broken = [s.text() for s in v.stats if not s.ok and s.severity == "fail"]
            if step.dropped and any("dropped" in r for r in v.reasons):
                broken.append(f"k6 dropped {step.dropped} scheduled requests (every user busy)")
            broken += [r for r in v.reasons if "no samples" in r or "aborted" in r]
            step.why.append(f"{v.name}: " + "; ".join(broken))
    return step, verdicts


def search(
    run_step: Callable[[float], Step],
    start: float,
    top: float,
    budget: float,
    resolution: float = RESOLUTION,
    log: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[list[Step], float | None, float | None, str]:
    """Double, then bisect. `run_step(rate)` runs and judges one step. Returns the steps, the
    highest rate that held, the lowest that failed, and why the search stopped. Ctrl-C ends it
    with what is known so far."""
    began = clock()
    steps: list[Step] = []
    held: float | None = None
    failed: float | None = None
    stopped = "resolution reached"

    def over_budget(next_seconds: float) -> bool:
        return clock() - began + next_seconds > budget

    def attempt(rate: float) -> bool:
        nonlocal held, failed
        step = run_step(rate)
        steps.append(step)
        log(f"  {rate:g}/s: {'held' if step.held else 'FAILED'}" + (f" ({step.why[0]})" if step.why else ""))
        if step.held:
            held = rate
        else:
            failed = rate
        return step.held

    try:
        rate = start
        while attempt(rate):  # 1. double until a step fails
            if rate >= top:
                return steps, held, None, f"--max {top:g}/s reached"
            if over_budget(steps[-1].seconds):
                return steps, held, failed, "time budget spent"
            rate = min(rate * 2, top)
        while held is None and rate > start / 16:  # not even the start held: halve until one does
            if over_budget(steps[-1].seconds):
                return steps, None, failed, "time budget spent"
            rate = rate / 2
            attempt(rate)
        if held is None:
            return steps, None, failed, f"no rate down to {rate:g}/s held"
        while failed is not None and (failed - held) / held > resolution:  # 2. bisect
            if over_budget(steps[-1].seconds):
                stopped = "time budget spent"
                break
            attempt(round((held + failed) / 2, 2))
    except KeyboardInterrupt:
        stopped = "interrupted (Ctrl-C): the best rate known so far"
    return steps, held, failed, stopped


def write(result: Result, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    data = {"format": "perfspec-capacity/1", **asdict(result), "summary": result.summary()}
    paths = {"json": folder / "capacity.json", "html": folder / "capacity.html"}
    paths["json"].write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    paths["html"].write_text(html_page(result), encoding="utf-8")
    return paths


@dataclass
class Chart:
    """The plot's frame: rate on x, latency (ms) on the left axis, errors (%) on the right."""

    xmax: float
    ymax: float
    emax: float
    w: int = 720
    h: int = 360
    left: int = 60
    right: int = 60
    top: int = 20
    bottom: int = 70

    def x(self, rate: float) -> float:
        return self.left + (self.w - self.left - self.right) * rate / self.xmax

    def y(self, ms: float) -> float:
        return self.top + (self.h - self.top - self.bottom) * (1 - ms / self.ymax)

    def ye(self, pct: float) -> float:
        return self.top + (self.h - self.top - self.bottom) * (1 - pct / self.emax)

    def axes(self) -> list[str]:
        w, h, left, right, top, bottom = self.w, self.h, self.left, self.right, self.top, self.bottom
        mid = (top + h - bottom) / 2
        parts = [
            f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="#333"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="#333"/>',
            f'<line x1="{w - right}" y1="{top}" x2="{w - right}" y2="{h - bottom}" stroke="#999"/>',
        ]
        for i in range(6):
            r, ms, pct = self.xmax * i / 5, self.ymax * i / 5, self.emax * i / 5
            parts.append(
                f'<text x="{self.x(r):.1f}" y="{h - bottom + 16}" font-size="11" '
                f'text-anchor="middle">{r:.0f}</text>'
            )
            parts.append(
                f'<text x="{left - 6}" y="{self.y(ms) + 4:.1f}" font-size="11" '
                f'text-anchor="end">{ms:.0f}</text>'
            )
            parts.append(
                f'<text x="{w - right + 6}" y="{self.ye(pct) + 4:.1f}" font-size="11">{pct:.1f}</text>'
            )
        parts.append(
            f'<text x="{(left + w - right) / 2}" y="{h - bottom + 32}" font-size="12" '
            'text-anchor="middle">arrival rate (requests/s)</text>'
        )
        parts.append(
            f'<text x="14" y="{mid}" font-size="12" text-anchor="middle" '
            f'transform="rotate(-90 14 {mid})">latency (ms)</text>'
        )
        parts.append(
            f'<text x="{w - 14}" y="{mid}" font-size="12" text-anchor="middle" '
            f'transform="rotate(90 {w - 14} {mid})">errors (%)</text>'
        )
        return parts

    def legend(self) -> list[str]:
        out = []
        for i, (label, colour) in enumerate(
            (("p95", "#1f77b4"), ("p99", "#9467bd"), ("errors", "#d62728"), ("capacity", "#2ca02c"))
        ):
            lx = self.left + 10 + i * 90
            out.append(
                f'<line x1="{lx}" y1="{self.h - 30}" x2="{lx + 18}" y2="{self.h - 30}" '
                f'stroke="{colour}" stroke-width="2"/><text x="{lx + 22}" y="{self.h - 26}" '
                f'font-size="11">{label}</text>'
            )
        return out

    def hline(self, y: float, colour: str, dash: str, label: str = "") -> str:
        text = f'<text x="{self.left + 4}" y="{y - 4:.1f}" font-size="11" fill="{colour}">{label}</text>'
        return (
            f'<line x1="{self.left}" y1="{y:.1f}" x2="{self.w - self.right}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-dasharray="{dash}"/>' + (text if label else "")
        )


def _polyline(points: list[tuple[float, float]], colour: str, dots: bool = True) -> list[str]:
    if not points:
        return []
    out = [
        f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
        + " ".join(f"{a:.1f},{b:.1f}" for a, b in points)
        + '"/>'
    ]
    circles = [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>' for a, b in points]
    return out + (circles if dots else [])


def plot(result: Result) -> str:
    """Rate vs p95 / p99 (ms, left axis) and error rate (%, right axis) per step, the bounds as
    dashed lines, the capacity marked, each step's verdict as a square on the axis."""
    steps = sorted(result.steps, key=lambda s: s.rate)
    lat = [v for s in steps for v in (s.p95, s.p99) if v is not None] + [
        v for k, v in result.bounds.items() if k != "error_rate"
    ]
    errors = [s.error_rate or 0 for s in steps] + [result.bounds.get("error_rate", 0), 0.01]
    c = Chart(
        max((s.rate for s in steps), default=1) * 1.05,
        max(lat or [0.001]) * 1000 * 1.1,
        max(errors) * 100 * 1.1,
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{c.w}" height="{c.h}" role="img" '
        'aria-label="latency and errors by arrival rate">',
        *c.axes(),
    ]
    for key, colour in (("p95", "#1f77b4"), ("p99", "#9467bd")):
        parts += _polyline(
            [(c.x(s.rate), c.y(getattr(s, key) * 1000)) for s in steps if getattr(s, key) is not None], colour
        )
        if key in result.bounds:
            parts.append(
                c.hline(
                    c.y(result.bounds[key] * 1000),
                    colour,
                    "6 4",
                    f"{key} bound {result.bounds[key] * 1000:g}ms",
                )
            )
    parts += _polyline(
        [(c.x(s.rate), c.ye((s.error_rate or 0) * 100)) for s in steps if s.error_rate is not None],
        "#d62728",
        dots=False,
    )
    if "error_rate" in result.bounds:
        parts.append(c.hline(c.ye(result.bounds["error_rate"] * 100), "#d62728", "2 3"))
    if result.capacity is not None:
        cx = c.x(result.capacity)
        parts.append(
            f'<line x1="{cx:.1f}" y1="{c.top}" x2="{cx:.1f}" y2="{c.h - c.bottom}" stroke="#2ca02c" '
            f'stroke-width="2"/><text x="{cx + 4:.1f}" y="{c.top + 12}" font-size="12" '
            f'fill="#2ca02c">capacity {result.capacity:g}/s</text>'
        )
    for s in steps:
        parts.append(
            f'<rect x="{c.x(s.rate) - 3:.1f}" y="{c.h - c.bottom - 3}" width="6" height="6" '
            f'fill="{"#2ca02c" if s.held else "#d62728"}"/>'
        )
    return "".join([*parts, *c.legend(), "</svg>"])


def html_page(result: Result) -> str:
    """An offline page: the plot, then the step table."""
    rows = "".join(
        f"<tr><td>{s.rate:g}/s</td><td>{'held' if s.held else 'failed'}</td>"
        f"<td>{'' if s.p95 is None else f'{s.p95 * 1000:.1f}ms'}</td>"
        f"<td>{'' if s.p99 is None else f'{s.p99 * 1000:.1f}ms'}</td>"
        f"<td>{'' if s.error_rate is None else f'{s.error_rate * 100:.2f}%'}</td><td>{s.dropped}</td>"
        f"<td>{html.escape('; '.join(s.why))}</td></tr>"
        for s in result.steps
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>perfspec capacity: "
        f"{html.escape(result.spec)}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}</style></head><body>"
        f"<h1>Capacity of {html.escape(result.profile)}</h1><p>{html.escape(result.summary())}</p>"
        f"<p>targets: {html.escape(', '.join(result.targets))}</p>"
        + plot(result)
        + "<table><tr><th>rate</th><th>verdict</th><th>p95</th><th>p99</th><th>errors</th>"
        f"<th>dropped</th><th>why</th></tr>{rows}</table></body></html>\n"
    )


def bounds_of(targets: TargetsFile) -> dict[str, float]:
    """The strictest p95 / p99 / error_rate bound of the step's targets, for the plot."""
    out: dict[str, float] = {}
    for t in targets.targets:
        for st in t.stats:
            if st.stat in ("p95", "p99", "error_rate") and st.op in ("<", "<="):
                out[st.stat] = min(out.get(st.stat, math.inf), st.value)
    return out

"""What a verdict is made of: the measured value of each statistic, its bound, and the reasons."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .histogram import Histogram

QUANTILES = {"p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p99.9": 0.999}
LATENCY = {"avg", "min", "max", *QUANTILES}
STAT_UNITS = {
    "avg": "s",
    "min": "s",
    "max": "s",
    "error_rate": "ratio",
    "success_rate": "ratio",
    "throughput": "/s",
    **{q: "s" for q in QUANTILES},
}


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
    if unit == "B":  # a size, in the largest decimal unit under it: 250.0MB, not 2.5e+08
        scale = next((s for s in ("GB", "MB", "KB") if measured >= SIZES[s]), "B")
        return f"{measured / SIZES.get(scale, 1):.1f}{scale}"
    return f"{measured:g}{unit}"


SIZES = {"KB": 1e3, "MB": 1e6, "GB": 1e9}


def clock(seconds: float) -> str:
    """Seconds since a run's start as mm:ss."""
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


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
    limit: float | None = None  # the bound's value, in the measured unit
    bucket: tuple[float, float] | None = None  # a server-side quantile: the histogram bucket it lies in

    def shown(self) -> str:
        return shown(self.measured, self.unit)

    def server_text(self) -> str:
        """The service's own figure: a quantile of its histogram is known only to its bucket, so
        the bucket comes first and the interpolated value is said to be one."""
        if self.bucket is None:
            return f"{self.stat} {self.shown()} ({self.note})"
        lo, hi = (shown(b, self.unit, 0) for b in self.bucket)
        return (
            f"{self.stat} in bucket {lo}-{hi} ({self.note}; histogram_quantile interpolates "
            f"{self.shown()} inside the bucket: the true value lies anywhere in it)"
        )

    def text(self) -> str:
        """`p95 41.2ms (bound < 50ms)`; a broken bound says by how much: `... missed by 3.1ms`."""
        kind = "warn bound" if self.severity == "warn" else "bound"
        out = f"{self.stat} {self.shown()} ({kind} {self.bound}"
        if not self.ok and self.measured is not None and self.limit is not None:
            gap = abs(self.measured - self.limit)
            out += f": missed by {shown(gap, self.unit).lstrip('+')}"
        return out + ")"


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
    timelines: dict[str, list] = field(default_factory=dict)  # per tool, when two tools ran

    def parts(self) -> list[str]:
        """Every measured statistic (not only the broken ones), the server's view, the reasons."""
        out = [s.text() for s in self.stats]
        out += [s.server_text() for s in self.server]
        return out + self.reasons

    def message(self) -> str:
        return "; ".join(self.parts())

    def judged(self) -> bool:
        """Whether anything was measured against this target (a fail always counts as judged)."""
        return self.status == "fail" or any(s.measured is not None for s in self.stats)


def holds(op: str, measured: float, bound: float) -> bool:
    """The one comparison of a measured value with a bound (the compiler's Bound uses it too);
    `==` within floating-point noise."""
    return {
        "<": measured < bound,
        "<=": measured <= bound,
        ">": measured > bound,
        ">=": measured >= bound,
        "==": math.isclose(measured, bound, rel_tol=1e-9, abs_tol=1e-12),
    }[op]

"""Change points in a run history: E-divisive means (Matteson & James 2014), as MongoDB's CI and
Apache Otava use it to pin a shift in performance to the run (commit) where it began.

Binary segmentation: the split of a segment that maximises the energy distance between its two
sides is a change point when a permutation test says so (the same statistic over shuffled
values reaches it in at most `alpha` of the permutations); then each side is searched again.
The permutations are seeded: the same history gives the same change points.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np

from .history_store import Record
from .verdict import STAT_UNITS, shown


def _best_split(z: np.ndarray, min_size: int) -> tuple[int, float]:
    """(split index, its statistic) of one segment: the energy distance of the two sides,
    weighted by mk/(m+k), for every split leaving at least `min_size` values on each side."""
    n = len(z)
    d = np.abs(z[:, None] - z[None, :])
    c = np.zeros((n + 1, n + 1))
    c[1:, 1:] = d.cumsum(0).cumsum(1)
    tau = np.arange(min_size, n - min_size + 1)
    if not len(tau):
        return -1, 0.0
    m, k = tau.astype(float), (n - tau).astype(float)
    xx = c[tau, tau]
    xy = c[tau, n] - xx
    yy = c[n, n] - 2 * c[tau, n] + xx
    energy = 2 * xy / (m * k) - xx / (m * (m - 1)) - yy / (k * (k - 1))
    q = m * k / (m + k) * energy
    best = int(np.argmax(q))
    return int(tau[best]), float(q[best])


def edivisive(
    values: list[float], min_size: int = 2, alpha: float = 0.05, permutations: int = 199, seed: int = 1
) -> list[int]:
    """Indices where a new segment begins (sorted): the runs where a shift starts."""
    z = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    found: list[int] = []
    segments = [(0, len(z))]
    while segments:
        candidates = []
        for lo, hi in segments:
            if hi - lo >= 2 * min_size:
                at, q = _best_split(z[lo:hi], min_size)
                if at > 0:
                    candidates.append((q, lo, hi, lo + at))
        if not candidates:
            break
        q, lo, hi, at = max(candidates)
        part = z[lo:hi].copy()
        reached = 0
        for _ in range(permutations):
            rng.shuffle(part)
            reached += _best_split(part, min_size)[1] >= q
        if (reached + 1) / (permutations + 1) > alpha:
            break
        found.append(at)
        segments = [s for s in segments if s != (lo, hi)] + [(lo, at), (at, hi)]
    return sorted(found)


@dataclass(frozen=True)
class ChangePoint:
    index: int  # in the series: the first run after the shift
    run_id: str
    commit: str | None
    started: float
    before: float  # the median of the segment before and after
    after: float

    @property
    def size(self) -> float:
        return self.after / self.before - 1 if self.before else 0.0

    def text(self, stat: str) -> str:
        import datetime

        unit = STAT_UNITS.get(stat, "")
        when = datetime.datetime.fromtimestamp(self.started, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        commit = f"commit {self.commit}, " if self.commit else ""
        return (
            f"{self.size * 100:+.1f} % from run {self.run_id} ({commit}{when}): median "
            f"{shown(self.before, unit, 1)} before, {shown(self.after, unit, 1)} after"
        )


def headline(target) -> str | None:
    """The statistic a target's trend follows: its first fail bound's, else its first regression's."""
    first = next((s.stat for s in target.stats if s.severity == "fail"), None)
    return first or next(iter(sorted(target.regression)), None)


def series_of(records: list[Record], target: str, tool: str, stat: str) -> list[tuple[Record, float]]:
    return [(r, v) for r in records if (v := r.value(target, tool, stat)) is not None]


def change_points(points: list[tuple[Record, float]]) -> list[ChangePoint]:
    """The change points of one statistic's history, each with the medians around it."""
    values = [v for _, v in points]
    found = edivisive(values)
    edges = [0, *found, len(values)]
    out = []
    for i, at in enumerate(found, start=1):
        before, after = values[edges[i - 1] : at], values[at : edges[i + 1]]
        run = points[at][0]
        out.append(
            ChangePoint(
                at, run.run_id, run.commit, run.started, statistics.median(before), statistics.median(after)
            )
        )
    return out


def found_in(targets, records: list[Record]) -> list[str]:
    """`perfspec history --changes`: each change point of each measured target's headline
    statistic (per profile and tool), as lines; a line per series without one."""
    out = []
    for profile in sorted({r.profile or "" for r in records}):
        runs = [r for r in records if (r.profile or "") == profile]
        for t in targets.targets:
            stat = headline(t) if t.kind == "measured" else None
            tools = sorted({tool for r in runs for tool in r.targets.get(t.name) or {}})
            for tool in tools if stat else []:
                points = series_of(runs, t.name, tool, stat)
                where = f"profile {profile or '-'}, {t.name}, {tool} {stat}"
                found = change_points(points)
                out += [f"{where}: {c.text(stat)}" for c in found]
                if not found:
                    out.append(f"{where}: no change point in {len(points)} runs")
    return out

"""This run against its history, for the reports: each target's headline statistic over the runs
of the same profile, its change points, this run highlighted, and the "vs history" cell."""

from __future__ import annotations

import html
import statistics
from dataclasses import dataclass

from .changes import ChangePoint, change_points, headline, series_of
from .contracts import TargetsFile
from .history_store import Record
from .verdict import STAT_UNITS, shown

LAST = 5  # the "vs history" cell compares with the median of the last 5 passing runs


@dataclass
class Trend:
    target: str
    tool: str
    stat: str
    points: list[tuple[Record, float]]  # oldest first; this run last
    changes: list[ChangePoint]

    @property
    def unit(self) -> str:
        return STAT_UNITS.get(self.stat, "")

    def cell(self) -> str:
        """`p95 26.2ms vs 26.1ms (median of last 5): +0.4 %`, and a change point at this run."""
        *before, (_, now) = self.points
        passed = [v for r, v in before if r.passed][-LAST:]
        if not passed:
            return f"{self.stat}: no earlier passing run"
        median = statistics.median(passed)
        text = (
            f"{self.stat} {shown(now, self.unit, 1)} vs {shown(median, self.unit, 1)} "
            f"(median of last {len(passed)}): {(now / median - 1) * 100:+.1f} %"
            if median
            else f"{self.stat} {shown(now, self.unit, 1)}"
        )
        if self.changes and self.changes[-1].index == len(self.points) - 1:
            text += "; a change point at this run"
        return text

    def svg(self) -> str:
        """The statistic per run (x: runs, oldest left), change points as dashed lines, this run
        as a filled dot; failed runs as hollow red dots."""
        w, h, left, right, top, bottom = 660, 180, 56, 20, 20, 34
        values = [v for _, v in self.points]
        hi = max(values) * 1.1 or 1
        n = len(values)
        sx = lambda i: left + (i / (n - 1) if n > 1 else 0.5) * (w - left - right)  # noqa: E731
        sy = lambda y: h - bottom - y / hi * (h - top - bottom)  # noqa: E731
        parts = [
            f'<svg class="plot" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">',
            f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="#555"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="#555"/>',
            f'<text x="4" y="12" font-size="11">{html.escape(self.stat)} per run</text>',
            f'<text x="{left - 4}" y="{sy(hi / 1.1) + 3:.1f}" font-size="10" text-anchor="end">'
            f"{html.escape(shown(hi / 1.1, self.unit, 1))}</text>",
            f'<text x="{(left + w - right) / 2}" y="{h - 6}" font-size="11" text-anchor="middle">'
            f"runs of this profile, oldest first ({n})</text>",
        ]
        for c in self.changes:
            x = (sx(c.index - 1) + sx(c.index)) / 2
            parts.append(
                f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{h - bottom}" stroke="#e69500" '
                f'stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="{top + 10}" font-size="10" '
                f'fill="#e69500">{c.size * 100:+.0f} %</text>'
            )
        path = " ".join(f"{sx(i):.1f},{sy(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{path}"/>')
        for i, (r, v) in enumerate(self.points):
            last = i == n - 1
            fill = "#1f77b4" if last else ("#fff" if not r.passed else "#1f77b4")
            stroke = "#b00020" if not r.passed else "#1f77b4"
            parts.append(
                f'<circle cx="{sx(i):.1f}" cy="{sy(v):.1f}" r="{5 if last else 2.5}" fill="{fill}" '
                f'stroke="{stroke}"><title>{html.escape(r.run_id)}: '
                f"{html.escape(shown(v, self.unit, 2))}</title></circle>"
            )
        parts.append(
            f'<text x="{sx(n - 1) - 4:.1f}" y="{sy(values[-1]) - 8:.1f}" font-size="10" '
            'text-anchor="end">this run</text></svg>'
        )
        return "".join(parts)


def trends(targets: TargetsFile, records: list[Record], now: Record) -> list[Trend]:
    """Every measured target's headline statistic per tool over the runs of this run's profile."""
    runs = [r for r in records if r.profile == now.profile and r.run_id != now.run_id] + [now]
    out = []
    for t in targets.targets:
        stat = headline(t) if t.kind == "measured" else None
        if stat is None:
            continue
        for tool in sorted(now.targets.get(t.name) or {}):
            points = series_of(runs, t.name, tool, stat)
            if not points or points[-1][0] is not now:
                continue
            out.append(Trend(t.name, tool, stat, points, change_points(points)))
    return out


def cells(trends: list | None) -> dict[str, str] | None:
    """Each target's "vs history" cell; None without a history."""
    if trends is None:
        return None
    per: dict[str, list[str]] = {}
    tools = {}
    for tr in trends:
        tools.setdefault(tr.target, set()).add(tr.tool)
    for tr in trends:
        per.setdefault(tr.target, []).append((f"{tr.tool} " if len(tools[tr.target]) > 1 else "") + tr.cell())
    return {name: "; ".join(c) for name, c in per.items()}

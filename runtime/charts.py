"""The HTML report's charts as inline SVG (no script, no network): latency percentiles and
requests per second over time with a target's bounds, and the latency histogram."""

from __future__ import annotations

import html
import math

import numpy as np

from .timeline import Timeline


def svg_lines(
    lines: list[tuple[np.ndarray, np.ndarray]],
    names: list[str],
    unit: str,
    bounds: list[tuple[float, str, str]] | None = None,
) -> str:
    """A line chart as inline SVG (no script, no network): axes with ticks, one line per series
    (its x and y columns, x ascending), and each bound as a dashed horizontal line (red for a fail
    bound, amber for a warn band)."""
    w, h, left, right, top, bottom = 660, 220, 50, 130, 24, 36
    lines = [(xs, ys) for xs, ys in lines if len(xs)]
    if not lines:
        return "<p>no time series</p>"
    # scaled to the data, not to a bound far above it (1 ms lines under a 200 ms bound would lie
    # flat): a bound within 3x of the data's top is drawn, one further up is named above the chart
    top_of_data = max(float(ys.max()) for _xs, ys in lines) or 1
    drawn = [b for b in bounds or [] if b[0] <= 3 * top_of_data]
    above = [b for b in bounds or [] if b[0] > 3 * top_of_data]
    x0, x1 = min(float(xs[0]) for xs, _ys in lines), max(float(xs[-1]) for xs, _ys in lines) or 1
    y1 = _nice(max([top_of_data, *(b[0] for b in drawn)]) * 1.05)
    sx = lambda x: left + (x - x0) / ((x1 - x0) or 1) * (w - left - right)  # noqa: E731
    sy = lambda y: h - bottom - y / y1 * (h - top - bottom)  # noqa: E731
    colours = ["#1f77b4", "#7b3fa0", "#2ca02c", "#17becf"]  # never a bound's red or amber
    parts = [
        f'<svg class="plot" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">',
        f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="#555"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="#555"/>',
    ]
    for i in range(5):
        tx, ty = x0 + (x1 - x0) * i / 4, y1 * i / 4
        parts.append(
            f'<text x="{sx(tx):.1f}" y="{h - bottom + 13}" font-size="10" '
            f'text-anchor="middle">{tx:.0f}</text>'
        )
        parts.append(
            f'<text x="{left - 4}" y="{sy(ty) + 3:.1f}" font-size="10" text-anchor="end">{_tick(ty)}</text>'
        )
    parts.append(
        f'<text x="{(left + w - right) / 2}" y="{h - 6}" font-size="11" '
        'text-anchor="middle">seconds since start</text>'
    )
    parts.append(f'<text x="4" y="12" font-size="11">{html.escape(unit)}</text>')
    for i, (_value, label, severity) in enumerate(above):
        colour = "#b00020" if severity == "fail" else "#e69500"
        parts.append(
            f'<text x="{w - right + 4}" y="{top + 12 * i}" font-size="10" fill="{colour}">'
            f"{html.escape(label)}: above</text>"
        )
    for value, label, severity in drawn:
        colour = "#b00020" if severity == "fail" else "#e69500"
        parts.append(
            f'<line x1="{left}" y1="{sy(value):.1f}" x2="{w - right}" y2="{sy(value):.1f}" '
            f'stroke="{colour}" stroke-dasharray="5 4"/><text x="{w - right + 4}" '
            f'y="{sy(value) + 3:.1f}" font-size="10" fill="{colour}">{html.escape(label)}</text>'
        )
    for i, (xs, ys) in enumerate(lines):
        path = _points(xs, ys, sx, sy, w - left - right)
        parts.append(f'<polyline fill="none" stroke="{colours[i % 4]}" stroke-width="1.5" points="{path}"/>')
        parts.append(  # the legend along the top: never over a bound's label at the right
            f'<text x="{left + 150 + 110 * i}" y="12" font-size="11" fill="{colours[i % 4]}">'
            f"{html.escape(names[i])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _points(xs: np.ndarray, ys: np.ndarray, sx, sy, width: int) -> str:
    """A polyline's points, scaled. A line of more points than twice the plot's width in pixels
    (a 30-minute run has 1,800 seconds for 480 pixels) keeps, per pixel column, its lowest and its
    highest point in their order: the line drawn is the same, a one-second spike stays."""
    px, py = sx(xs.astype(float)), sy(ys.astype(float))
    if len(px) > 2 * width:
        column = np.floor(px).astype(np.int64)
        order = np.lexsort((py, column))  # per column, lowest y (highest value) first
        starts = np.flatnonzero(np.r_[True, column[order][1:] != column[order][:-1]])
        ends = np.r_[starts[1:], len(order)] - 1
        keep = np.unique(np.concatenate([order[starts], order[ends]]))  # in x order
        px, py = px[keep], py[keep]
    return " ".join(map("{:.1f},{:.1f}".format, px.tolist(), py.tolist()))


def _nice(value: float) -> float:
    """The axis' top: 1, 2, 2.5 or 5 times a power of ten at or above `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value)


def _tick(value: float) -> str:
    """A tick label as people write numbers: 1,050 / 25 / 2.5 / 0.25, never 1.05e+03."""
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10 or value == 0:
        return f"{value:.0f}"
    return f"{value:.2g}" if value < 1 else f"{value:.1f}".rstrip("0").rstrip(".")


def svg_histogram(histogram) -> str:
    if histogram is None or not histogram.counts:
        return ""
    values = np.fromiter(histogram.counts, float, len(histogram.counts))
    counts = np.fromiter(histogram.counts.values(), float, len(histogram.counts))
    # 40 log-spaced bins between min and max
    lo, hi = max(int(values.min()), 1), max(int(values.max()), 2)
    span = (math.log(hi) - math.log(lo)) or 1
    where = ((np.log(np.maximum(values, 1)) - math.log(lo)) / span * 39).astype(int).clip(0, 39)
    bins = [int(b) for b in np.bincount(where, weights=counts, minlength=40)]
    top = max(bins) or 1
    bars = "".join(
        f'<rect x="{40 + i * 12}" y="{170 - b / top * 150:.1f}" width="10" '
        f'height="{b / top * 150:.1f}" fill="#1f77b4"/>'
        for i, b in enumerate(bins)
    )
    mid = math.sqrt(lo * hi)
    axis = (
        '<line x1="40" y1="170" x2="520" y2="170" stroke="#555"/>'
        '<line x1="40" y1="20" x2="40" y2="170" stroke="#555"/>'
        f'<text x="36" y="24" font-size="10" text-anchor="end">{top}</text>'
        '<text x="36" y="173" font-size="10" text-anchor="end">0</text>'
        + "".join(
            f'<text x="{x}" y="182" font-size="10" text-anchor="middle">{_tick(v / 1e6)} ms</text>'
            for x, v in ((40, lo), (280, mid), (520, hi))
        )
    )
    return (
        f'<svg class="plot" width="540" height="200" role="img">{axis}{bars}'
        f'<text x="40" y="196" font-size="11">latency (log scale): calls per bin, '
        f"{histogram.total} samples</text></svg>"
    )


def charts(
    timeline: list,
    histogram,
    per_tool: dict | None = None,
    bounds: list[tuple[float, str, str]] | None = None,
) -> str:
    """Latency (p50, p95 per second; per tool when two tools ran) with the target's bounds,
    requests per second, and the latency histogram."""
    lines = per_tool if per_tool and len(per_tool) > 1 else {"": timeline}
    latency, names, rates = [], [], []
    for tool, slots in sorted(lines.items()):
        tl = Timeline.from_slots(slots)
        for q, values in zip(
            (0.5, 0.95), tl.quantiles((0.5, 0.95), missing=0), strict=True
        ):  # every second at once
            latency.append((tl.secs, values / 1e6))
            names.append(f"p{round(q * 100)}" + (f" {tool}" if tool else ""))
        rates.append((tl.secs, tl.calls))
        rates.append((tl.secs, tl.fails))  # failures over time, as both peers show
    charts = ""
    if len(timeline or []) >= 2:  # one second (an on_start call) is no line: the histogram says it
        charts += svg_lines(latency, names, "latency (ms)", bounds)
        rate_names = [f"{what} {t}".strip() for t in sorted(lines) for what in ("requests/s", "failed/s")]
        charts += svg_lines(rates, rate_names, "per second")
    return charts + svg_histogram(histogram)

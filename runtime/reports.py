"""Reports of a check: terminal table, JUnit XML, Markdown, GitHub annotations, JSON, HTML."""

from __future__ import annotations

import functools
import html
import json
import os
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import jinja2
from markupsafe import Markup

from .checker import Verdict
from .text import printable, xml_text
from .verdict import clock

MARK = {"pass": "PASS", "warn": "WARN", "fail": "FAIL"}


def terminal(verdicts: list[Verdict], stream=None, width: int | None = None) -> None:
    """The verdict table, at most 100 columns (fewer on a narrower terminal); a reason several
    targets share (the closed-model note, judged per tool) is printed once under the table and
    named by its number in their rows."""
    import shutil

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    shared = [r for r, n in Counter(r for v in verdicts for r in dict.fromkeys(v.reasons)).items() if n > 1]
    number = {r: i for i, r in enumerate(shared, 1)}
    table = Table(title="perfspec check")
    for col in ("verdict", "target, spec line", "samples", "measured"):
        table.add_column(col)
    colour = {"pass": "green", "warn": "yellow", "fail": "red"}
    for v in verdicts:  # Text cells: names and messages are never read as markup
        own = [part for part in v.parts() if part not in number]  # shared reasons: once, below
        notes = sorted({number[r] for r in v.reasons if r in number})
        own += [f"note {', '.join(map(str, notes))} below"] if notes else []
        table.add_row(
            Text(MARK[v.status], style=colour[v.status]),
            Text(printable(v.name) + "\n" + printable(f"{v.spec}:{v.line}")),
            str(v.samples),
            Text("\n".join(printable(x) for x in own)),
        )
    width = width or min(100, shutil.get_terminal_size((100, 24)).columns)
    console = Console(file=stream, width=width, emoji=False, highlight=False)
    console.print(table)
    for r, i in number.items():
        console.print(Text(printable(f"note {i}: {r}")))


def alert_lines(evidence: dict | None, spec: str) -> list[str]:
    """What Prometheus said of the spec's alerts during the run, for the terminal."""
    info = (evidence or {}).get("alerts")
    if not info:
        return []
    if info.get("error"):
        return [f"alerts: unknown ({printable(info['error'])})"]
    if info.get("loaded") is False:
        return [
            f"alerts: the spec's rules (group {printable(info.get('group', ''))!r}) are not loaded in "
            f"Prometheus at {printable(evidence.get('url', ''))}: load alerts.rules.yml to see them"
        ]
    lines = []
    for a in info.get("alerts") or []:
        state = "fired" if "firing_at" in a else "pending only"
        at = a.get("firing_at", a.get("pending_at", 0))
        lines.append(
            f"alert {printable(a['alert'])} {state} at +{clock(at)}"
            + (f" (target {printable(a['target'])})" if a.get("target") else "")
        )
    return lines or [f"alerts: none of {printable(spec)}'s alerts went pending or firing during the run"]


def junit(verdicts: list[Verdict], notes: list[str] | None = None) -> str:
    """JUnit XML built with xml.etree: one testcase per target (classname and file = the spec)."""
    fails = sum(v.status == "fail" for v in verdicts)
    suite = ET.Element(
        "testsuite", name="perfspec", tests=str(len(verdicts)), failures=str(fails), skipped="0"
    )
    if notes:
        props = ET.SubElement(suite, "properties")
        for note in notes:
            ET.SubElement(props, "property", name="perfspec.note", value=xml_text(note))
    for v in verdicts:
        spec, message = xml_text(v.spec), xml_text(v.message())
        case = ET.SubElement(
            suite, "testcase", classname=spec, name=xml_text(v.name), file=spec, line=str(v.line)
        )
        if v.status == "fail":
            ET.SubElement(case, "failure", message=message)
        elif v.status == "warn":
            ET.SubElement(case, "system-out").text = "warn: " + message
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def markdown(verdicts: list[Verdict], notes: list[str] | None = None, history: list | None = None) -> str:
    icon = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail"}
    counts = {k: sum(v.status == k for v in verdicts) for k in icon}
    from .trend import cells as history_cells

    cells = history_cells(history)
    out = [f"### perfspec: {counts['pass']} pass, {counts['warn']} warn, {counts['fail']} fail", ""]
    out += [f"> note: {_md(n)}" for n in notes or []] + ([""] if notes else [])
    if cells is None:
        out += ["| verdict | target | samples | measured | spec |", "|---|---|---|---|---|"]
    else:
        out += ["| verdict | target | samples | measured | vs history | spec |", "|---|---|---|---|---|---|"]
    for v in verdicts:
        extra = "" if cells is None else f" {_md(cells.get(v.name, '-'))} |"
        out.append(
            f"| {icon[v.status]} | {_md(v.name)} | {v.samples} | {_md(v.message())} |{extra} "
            f"`{_md(v.spec)}:{v.line}` |"
        )
    return "\n".join(out) + "\n"


def _gh(text: str) -> str:
    text = printable(text)  # line breaks, separators and escapes shown as text: one line per command
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh(text).replace(":", "%3A").replace(",", "%2C")


def annotations(verdicts: list[Verdict]) -> str:
    out = []
    for v in verdicts:
        if v.status == "pass":
            continue
        level = "error" if v.status == "fail" else "warning"
        out.append(
            f"::{level} file={_gh_prop(v.spec)},line={v.line},title={_gh_prop('perfspec ' + v.name)}"
            f"::{_gh(v.message())}"
        )
    return "\n".join(out) + ("\n" if out else "")


def as_json(verdicts: list[Verdict]) -> str:
    return (
        json.dumps(
            [
                {
                    "target": v.name,
                    "status": v.status,
                    "spec": v.spec,
                    "line": v.line,
                    "samples": v.samples,
                    "reasons": v.reasons,
                    "stats": [
                        {
                            "stat": s.stat,
                            "bound": s.bound,
                            "severity": s.severity,
                            "measured": s.measured,
                            "unit": s.unit,
                            "ok": s.ok,
                            "line": s.line,
                        }
                        for s in v.stats
                    ],
                    **(
                        {
                            "server": [
                                {
                                    "stat": s.stat,
                                    "measured": s.measured,
                                    "unit": s.unit,
                                    "ok": s.ok,
                                    "where": s.note,
                                    **({"bucket": list(s.bucket)} if s.bucket else {}),
                                }
                                for s in v.server
                            ]
                        }
                        if v.server
                        else {}
                    ),
                }
                for v in verdicts
            ],
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


def _svg_lines(
    points: list[list[tuple[float, float]]],
    names: list[str],
    unit: str,
    bounds: list[tuple[float, str, str]] | None = None,
) -> str:
    """A line chart as inline SVG (no script, no network): axes with ticks, one line per series,
    and each bound as a dashed horizontal line (red for a fail bound, amber for a warn band)."""
    w, h, left, right, top, bottom = 660, 220, 50, 130, 24, 36
    xs = [x for pts in points for x, _ in pts]
    data = [y for pts in points for _, y in pts]
    if not xs:
        return "<p>no time series</p>"
    # scaled to the data, not to a bound far above it (1 ms lines under a 200 ms bound would lie
    # flat): a bound within 3x of the data's top is drawn, one further up is named above the chart
    top_of_data = max(data) or 1
    drawn = [b for b in bounds or [] if b[0] <= 3 * top_of_data]
    above = [b for b in bounds or [] if b[0] > 3 * top_of_data]
    x0, x1 = min(xs), max(xs) or 1
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
    for i, pts in enumerate(points):
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        parts.append(f'<polyline fill="none" stroke="{colours[i % 4]}" stroke-width="1.5" points="{path}"/>')
        parts.append(  # the legend along the top: never over a bound's label at the right
            f'<text x="{left + 150 + 110 * i}" y="12" font-size="11" fill="{colours[i % 4]}">'
            f"{html.escape(names[i])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _nice(value: float) -> float:
    """The axis' top: 1, 2, 2.5 or 5 times a power of ten at or above `value`."""
    import math

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


def _svg_histogram(histogram) -> str:
    if histogram is None or not histogram.counts:
        return ""
    items = histogram.to_pairs()
    # 40 log-spaced bins between min and max
    import math

    lo, hi = max(items[0][0], 1), max(items[-1][0], 2)
    bins = [0] * 40
    for value, count in items:
        i = int((math.log(max(value, 1)) - math.log(lo)) / ((math.log(hi) - math.log(lo)) or 1) * 39)
        bins[min(max(i, 0), 39)] += count
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


def _charts(
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
        both = [(t, h.quantiles((0.5, 0.95))) for t, _c, _f, h in slots]  # one pass per second
        for i, q in enumerate((0.5, 0.95)):
            latency.append([(t, (qs[i] or 0) / 1e6) for t, qs in both])
            names.append(f"p{round(q * 100)}" + (f" {tool}" if tool else ""))
        rates.append([(t, float(c)) for t, c, _f, _h in slots])
        rates.append([(t, float(f)) for t, _c, f, _h in slots])  # failures over time, as both peers show
    charts = ""
    if len(timeline or []) >= 2:  # one second (an on_start call) is no line: the histogram says it
        charts += _svg_lines(latency, names, "latency (ms)", bounds)
        rate_names = [f"{what} {t}".strip() for t in sorted(lines) for what in ("requests/s", "failed/s")]
        charts += _svg_lines(rates, rate_names, "per second")
    return charts + _svg_histogram(histogram)


def _bounds(v: Verdict) -> list[tuple[float, str, str]]:
    """The target's latency bounds in ms, each once: (value, label, fail | warn)."""
    out: dict[tuple[str, float], tuple[float, str, str]] = {}
    for s in v.stats:
        if s.unit == "s" and s.limit is not None:
            stat = s.stat.split(" ")[0]
            out.setdefault((stat, s.limit), (s.limit * 1000, f"{stat} {s.bound}", s.severity))
    return list(out.values())


def endpoint_sections(series: list) -> list[dict]:
    """Per endpoint and tool (shards merged): latency percentiles and rps over time, histogram."""
    from .measured import merge

    groups: dict[tuple[str, str, str], list] = {}
    for s in series:
        if s.kind == "http" and s.count:
            groups.setdefault((s.name, s.tool, s.profile or ""), []).append(s)
    out = []
    for (name, tool, profile), members in sorted(groups.items()):
        m = members[0] if len(members) == 1 else merge(members)  # one shard: nothing to merge
        failed = f", {m.failures} failed" if m.failures else ""
        what = f"{tool}{', profile ' + profile if profile else ''}: {m.count} requests{failed}"
        out.append(
            {
                "name": name,
                "what": what,
                "charts": Markup(_charts(m.timeline, m.histogram)),
                "row": endpoint_row(name, tool, profile, m),
            }
        )
    return out


def endpoint_row(name: str, tool: str, profile: str, m) -> list[str]:
    """One line of the per-endpoint table, as Locust's first screen has it."""
    ms = lambda ns: "-" if ns is None else f"{ns / 1e6:.1f}"  # noqa: E731
    h = m.histogram
    rps = f"{m.count / m.elapsed:.1f}" if m.elapsed else "-"
    quantiles = [ms(h.quantile(q)) for q in (0.5, 0.95, 0.99)]
    return [name, tool, profile, str(m.count), str(m.failures), rps, ms(h.mean()), *quantiles, ms(h.max())]


def run_details(manifest: dict | None) -> list[tuple[str, str]]:
    """The run's manifest as rows of a table: times as UTC dates, tools and exits in words."""
    import datetime

    if not manifest:
        return []
    when = lambda t: datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")  # noqa: E731
    rows = []
    for key, value in manifest.items():
        if key in ("files",):
            value = f"{len(value)} result files, each with its SHA-256"
        elif key in ("started", "finished") and isinstance(value, int | float):
            value = when(value)
        elif key == "windows" and isinstance(value, dict):
            value = "; ".join(f"{k} {when(a)} to {when(b)[11:]}" for k, (a, b) in value.items())
        elif isinstance(value, dict):
            value = "; ".join(
                f"{k}: {json.dumps(v) if isinstance(v, dict | list) else v}" for k, v in value.items()
            )
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        rows.append((key, str(value)))
    return rows


def html_report(
    verdicts: list[Verdict],
    title: str,
    manifest: dict | None = None,
    series: list | None = None,
    notes: list[str] | None = None,
    history: list | None = None,
) -> str:
    """The offline report, from templates/report.html.j2 with autoescape: every spec or result
    text is escaped by Jinja; only the SVG charts (built here, their own text escaped) are markup."""
    sections = [
        {
            "name": v.name,
            "selector": v.selector,
            "charts": Markup(_charts(v.timeline, v.histogram, v.timelines, _bounds(v))),
        }
        for v in verdicts
        if v.timeline or v.histogram is not None
    ]
    return _template().render(
        title=title,
        verdicts=verdicts,
        marks=MARK,
        sections=sections,
        notes=notes or [],
        endpoints=endpoint_sections(series or []),
        details=run_details(manifest),
        history=[
            {
                "target": h.target,
                "tool": h.tool,
                "stat": h.stat,
                "cell": h.cell,
                "changes": h.changes,
                "chart": Markup(h.svg()),
            }
            for h in history or []
        ],
    )


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("report.html.j2")


def write_all(
    verdicts: list[Verdict],
    folder: Path,
    title: str,
    manifest: dict | None = None,
    series: list | None = None,
    notes: list[str] | None = None,
    history: list | None = None,
) -> dict[str, Path]:
    """Every report; `notes` (e.g. unverified evidence) are said once in each; `history`: each
    target's trend over the run history (runtime/trend.py), None when there is none."""
    notes = notes or []
    folder.mkdir(parents=True, exist_ok=True)
    out = {
        "junit": folder / "junit.xml",
        "markdown": folder / "summary.md",
        "json": folder / "verdicts.json",
        "html": folder / "report.html",
    }
    out["junit"].write_text(junit(verdicts, notes), encoding="utf-8")
    out["markdown"].write_text(markdown(verdicts, notes, history), encoding="utf-8")
    out["json"].write_text(as_json(verdicts), encoding="utf-8")
    out["html"].write_text(html_report(verdicts, title, manifest, series, notes, history), encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(markdown(verdicts, notes, history))
    return out

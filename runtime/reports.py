"""Reports of a check: terminal table, JUnit XML, Markdown, GitHub annotations, JSON, HTML."""

from __future__ import annotations

import functools
import json
import os
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import jinja2
from markupsafe import Markup

from .charts import charts
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
                "charts": Markup(charts(m.timeline, m.histogram)),
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
            "charts": Markup(charts(v.timeline, v.histogram, v.timelines, _bounds(v))),
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

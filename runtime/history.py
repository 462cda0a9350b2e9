"""`perfspec history`: the runs under results/, one row each, a column per target, and the trend.

Reads what every `perfspec run` leaves behind (results/<run-id>/manifest.json and
verdicts.json); a folder without both is not a run and is skipped. Each target's column shows
its headline statistic (the first fail bound's measured value) with the verdict; the trend row
is a sparkline over the runs shown and the change of the last run against the one before.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

from .checker import shown

SPARK = "▁▂▃▄▅▆▇█"
MARK = {"pass": "✓", "warn": "!", "fail": "✗"}


@dataclass
class Run:
    id: str
    started: float
    spec: str
    profile: str | None
    commit: str | None
    note: str | None
    partial: bool
    verdicts: list[dict]

    @property
    def date(self) -> str:
        return datetime.datetime.fromtimestamp(self.started, datetime.UTC).strftime("%Y-%m-%d %H:%M")


def collect(root: Path, spec: str | None = None) -> list[Run]:
    """Runs under `root`, oldest first; only those of `spec` when given."""
    runs = []
    for manifest_path in sorted(root.glob("*/manifest.json")):
        verdicts_path = manifest_path.parent / "verdicts.json"
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            verdicts = json.loads(verdicts_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # an interrupted run that never got judged, or not a run at all
        if not isinstance(manifest, dict) or not isinstance(verdicts, list):
            continue
        if spec is not None and manifest.get("spec") != spec:
            continue
        runs.append(
            Run(
                manifest_path.parent.name,
                float(manifest.get("started") or 0),
                str(manifest.get("spec")),
                manifest.get("profile"),
                manifest.get("commit"),
                manifest.get("note"),
                bool(manifest.get("partial")),
                verdicts,
            )
        )
    runs.sort(key=lambda r: (r.started, r.id))
    return runs


def headline(verdict: dict) -> tuple[float | None, str, str]:
    """(value, unit, label) of a target's first fail-severity statistic (else its first)."""
    stats = verdict.get("stats") or []
    chosen = next((s for s in stats if s.get("severity") == "fail"), stats[0] if stats else None)
    if chosen is None:
        return None, "", ""
    return chosen.get("measured"), chosen.get("unit") or "", str(chosen.get("stat"))


def sparkline(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        else:
            out.append(SPARK[int((v - lo) / (hi - lo) * (len(SPARK) - 1)) if hi > lo else 0])
    return "".join(out)


def table(runs: list[Run], targets: list[str] | None = None) -> tuple[list[str], list[list[str]]]:
    """Headers and rows: one row per run, then the trend row."""
    names: list[str] = []
    for run in runs:
        for v in run.verdicts:
            if v.get("target") not in names:
                names.append(v.get("target"))
    if targets:
        names = [n for n in names if n in targets]
    labels = {}
    for n in names:
        for run in runs:
            for v in run.verdicts:
                if v.get("target") == n and headline(v)[2]:
                    labels.setdefault(n, f"{n} {headline(v)[2]}")
    headers = ["date (UTC)", "run", "profile", "verdicts", *[labels.get(n, n) for n in names], "notes"]
    rows, series = [], {n: [] for n in names}
    for run in runs:
        by_name = {v.get("target"): v for v in run.verdicts}
        counts = {k: sum(v.get("status") == k for v in run.verdicts) for k in MARK}
        row = [
            run.date,
            run.id,
            run.profile or "-",
            f"{counts['pass']} pass, {counts['warn']} warn, {counts['fail']} fail",
        ]
        for n in names:
            v = by_name.get(n)
            if v is None:
                row.append("-")
                series[n].append(None)
                continue
            value, unit, _ = headline(v)
            series[n].append(value)
            row.append(f"{shown(value, unit, 1)} {MARK.get(v.get('status'), '?')}")
        notes = [
            x
            for x in (
                run.note,
                f"commit {run.commit}" if run.commit else None,
                "partial" if run.partial else None,
            )
            if x
        ]
        row.append("; ".join(notes) or "-")
        rows.append(row)
    trend = ["trend", "", "", ""]
    for n in names:
        values = series[n]
        cell = sparkline(values)
        known = [v for v in values if v is not None]
        if len(known) >= 2 and known[-2]:
            cell += f" {(known[-1] / known[-2] - 1) * 100:+.1f}%"
        trend.append(cell)
    trend.append("")
    if runs:
        rows.append(trend)
    return headers, rows


def markdown(headers: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"

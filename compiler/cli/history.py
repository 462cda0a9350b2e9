"""`perfspec history`: the runs of a spec, their trend, and the change points in it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .app import EXIT_BAD_INPUT, app, err, load_all, out
from .judging import targets_data


@app.command()
def history(
    spec: Annotated[Path | None, typer.Argument(help="only the runs of this spec")] = None,
    results: Annotated[Path, typer.Option("--results", help="the results root of perfspec run")] = Path(
        "results"
    ),
    last: Annotated[int, typer.Option("--last", help="show the last N runs")] = 20,
    targets: Annotated[str | None, typer.Option("--targets", help="comma-separated target names")] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="also write the table as Markdown")
    ] = None,
    changes: Annotated[
        bool,
        typer.Option(
            "--changes", help="find the runs where each target's statistic shifted (E-divisive means)"
        ),
    ] = False,
    store: Annotated[
        str | None,
        typer.Option(
            "--history",
            help="the history --changes reads: a folder or postgresql://... (default: --results)",
        ),
    ] = None,
) -> None:
    """The run history: one row per run, each target's headline statistic, and the trend; with
    --changes, the change points of each target's statistic."""
    from perfspec.runtime import history as hist

    if changes:
        _changes(spec, store or str(results))
        return

    if not results.is_dir():
        err.print(f"error: {results}: no such folder", markup=False)
        err.print("  hint: runs land in results/ (perfspec run --out DIR); pass --results DIR", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    wanted = None
    if spec is not None:
        [checked] = load_all([spec])
        wanted = checked.file
    runs = hist.collect(results, wanted)[-last:] if last > 0 else []
    if not runs:
        out.print(f"no judged runs under {results}" + (f" for {wanted}" if wanted else ""), markup=False)
        return
    names = [t.strip() for t in targets.split(",")] if targets else None
    headers, rows = hist.table(runs, names)
    from rich.table import Table

    table = Table(title=f"perfspec history: {len(runs)} runs" + (f" of {wanted}" if wanted else ""))
    for h in headers:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*row, style="bold" if row[0] == "trend" else None)
    Console(width=max(160, 24 * len(headers))).print(table, markup=False)
    if markdown is not None:
        markdown.write_text(hist.markdown(headers, rows), encoding="utf-8")
        out.print(f"wrote {markdown}", markup=False, highlight=False)


def _changes(spec: Path | None, location: str) -> None:
    from perfspec.runtime.changes import found_in
    from perfspec.runtime.history_store import HistoryError, open_store

    from ..plan import build_plan

    if spec is None:
        err.print("error: --changes needs the spec whose targets it follows", markup=False)
        err.print("  hint: perfspec history specs/api.yaml --changes", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    [checked] = load_all([spec])
    try:
        records = open_store(location).records(checked.file)
    except HistoryError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if not records:
        out.print(f"no runs of {checked.file} in the history {location}", markup=False)
        return
    out.print(f"change points in {len(records)} runs of {checked.file} ({location}):", markup=False)
    for line in found_in(targets_data(build_plan(checked)), records):
        out.print(f"  {line}", markup=False, highlight=False)

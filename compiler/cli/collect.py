"""`perfspec collect`: a k6 run's remote-written results read back from Prometheus (a k6-operator
TestRun's runners, or any `k6 run --out experimental-prometheus-rw --tag testid=ID`)."""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Annotated

import typer

from .app import EXIT_BAD_INPUT, app, err, out


def _when(text: str) -> float:
    """Epoch seconds, an ISO 8601 time, or a duration ago (30m, 2h)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units and text[:-1].replace(".", "", 1).isdigit():
        return time.time() - float(text[:-1]) * units[text[-1]]
    stamp = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=datetime.UTC)).timestamp()


@app.command()
def collect(
    prometheus: Annotated[str, typer.Option("--prometheus", help="Prometheus base URL the runners wrote to")],
    testid: Annotated[str, typer.Option("--testid", help="the runs' testid tag (the TestRun's name)")],
    since: Annotated[
        str, typer.Option("--since", help="when the run started: epoch seconds, ISO 8601, or ago (45m)")
    ] = "1h",
    out_dir: Annotated[Path, typer.Option("--out", help="folder for k6-histograms.json")] = Path("results"),
    profile: Annotated[str | None, typer.Option("--profile", help="the profile the run ran")] = None,
) -> None:
    """Read a k6 run's native histograms back from Prometheus into a result file for `perfspec check`."""
    from perfspec.runtime import k6_remote

    try:
        started = _when(since)
    except ValueError:
        err.print(f"error: --since {since!r} is not a time", markup=False)
        err.print(
            "  hint: epoch seconds, an ISO 8601 time (2026-11-29T04:00:00Z) or a duration ago (45m)",
            markup=False,
        )
        raise typer.Exit(EXIT_BAD_INPUT) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        doc = k6_remote.collect(prometheus, testid, started, out_dir / k6_remote.RESULT, profile, settle=3)
    except k6_remote.PrometheusError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    requests = sum(s["count"] for s in doc["series"].values())
    if not requests:
        err.print(f"error: no k6 samples with testid={testid} in {prometheus} since {since}", markup=False)
        err.print("  hint: the TestRun's `--tag testid=` names it; check --since", markup=False)
        raise typer.Exit(1)
    out.print(
        f"wrote {out_dir / k6_remote.RESULT}: {requests:,} requests of {len(doc['series'])} endpoints",
        markup=False,
        highlight=False,
    )

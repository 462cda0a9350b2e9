"""`perfspec check` and what judging a run needs: its manifest, the Prometheus evidence, reports."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .app import EXIT_BAD_INPUT, app, err, load_all, out

if TYPE_CHECKING:  # the runtime loads when a command uses it: --version and -h start fast
    from perfspec.runtime.contracts import TargetsFile


def targets_json(plan) -> str:
    """The spec's targets.json, as `perfspec build` writes it."""
    from ..backends.targets import TargetsBackend

    [art] = TargetsBackend().emit(plan)
    return art.content


def targets_data(plan) -> TargetsFile:
    """The spec's targets as its targets.json holds them (written and read through the contract)."""
    from perfspec.runtime.contracts import TargetsFile

    return TargetsFile.read(json.loads(targets_json(plan)))


@dataclass(frozen=True)
class Judged:
    """What judging reads of a spec: its file, its name and its targets (its targets.json, read
    through the contract), from its plan or from check_cache."""

    file: str
    name: str
    targets: TargetsFile

    @classmethod
    def of(cls, plan) -> Judged:
        return cls.read(plan.file, plan.name, targets_json(plan))

    @classmethod
    def read(cls, file: str, name: str, targets: str) -> Judged:
        """From the spec's file, name and targets.json text."""
        from perfspec.runtime.contracts import TargetsFile

        return cls(file, name, TargetsFile.read(json.loads(targets)))


def _find_manifest(result_paths: list[Path]) -> dict | None:
    """The run's manifest.json beside or above a results folder."""
    for p in result_paths:
        for candidate in (p / "manifest.json", p.parent / "manifest.json"):
            if candidate.is_file():
                try:
                    found = json.loads(candidate.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue
                if isinstance(found, dict):
                    return found
    return None


def _partial_tools(manifest: dict | None, result_paths: list[Path]) -> dict[str, str]:
    """Per tool why its results are partial (killed, timed out, interrupted), from the run's
    manifest: the one given, or manifest.json beside or above a results folder."""
    if manifest is None:
        manifest = _find_manifest(result_paths)
    found = (manifest or {}).get("partial_tools") or {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def _skipped_and_missing(manifest: dict | None, files: list[str]) -> dict[str, dict[str, str]]:
    """From the run's manifest: tools that did not run the profile (and why), and tools that ran
    but left no result file, so a target without samples says which."""
    if not manifest:
        return {}
    patterns = {
        "locust": ("locust-*.json",),
        "k6": ("k6*.ndjson", "k6-histograms*.json"),
        "sql": ("sql-*.json",),
    }
    names = [Path(f).name for f in files]
    missing = {}
    for tool, info in (manifest.get("exit") or {}).items():
        code = info.get("code") if isinstance(info, dict) else None
        if tool in patterns and not any(Path(n).match(p) for n in names for p in patterns[tool]):
            wanted = " or ".join(patterns[tool])
            missing[tool] = (
                "could not be started (exit 127: not found), so it left no result file"
                if code == 127
                else f"ran (exit {code}) but its result file is missing ({wanted} not in the results)"
            )
    skipped = manifest.get("skipped") or {}
    return {
        "missing": missing,
        "skipped": {str(k): str(v) for k, v in skipped.items()} if isinstance(skipped, dict) else {},
    }


def _prometheus_evidence(
    targets: TargetsFile, result_paths: list[Path], manifest: dict | None, url: str | None, report_dir: Path
) -> dict | None:
    """What the checker reads from Prometheus: queried now from --prometheus URL (or
    $PROMETHEUS_URL / a target's `source.prometheus` when the results hold no evidence), else the
    run's own results/prometheus.json."""
    from perfspec.runtime import prometheus as prom

    if url is None:
        for p in result_paths:
            for candidate in (p / prom.EVIDENCE, p / "results" / prom.EVIDENCE):
                if candidate.is_file() and (found := prom.read_evidence(candidate)) is not None:
                    return found
        sources = [t.external for t in targets.targets if t.external is not None and t.external.promql]
        url = os.environ.get("PROMETHEUS_URL") or next(
            (u for s in sources if (u := prom.resolve_url(s.prometheus))), None
        )
    if not url:
        return None
    manifest = manifest or _find_manifest(result_paths) or {}
    windows = {
        k: v
        for k, v in (manifest.get("windows") or {}).items()
        if k in ("locust", "k6") and isinstance(v, list) and len(v) == 2
    }
    evidence = prom.collect(url, targets, windows)
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / prom.EVIDENCE).write_text(
        json.dumps(evidence, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return evidence


def _evidence(
    spec: Judged, targets: TargetsFile, result_paths: list[Path], allow_partial: bool
) -> tuple[list, dict, dict | None]:
    """The series and what the run says of itself, once the evidence is shown to be one run's of
    this spec and consistent (runtime/evidence.py); the run's manifest, None without one."""
    from perfspec.runtime import evidence
    from perfspec.runtime.checker import read_results

    series, meta = read_results(result_paths, allow_partial)
    found = evidence.find_manifest(result_paths)
    files = [Path(f) for f in meta["files"]]
    manifest = evidence.verify_run(found, files, Path(spec.file)) if found else None
    meta["unverified"] = found is None
    problems = evidence.consistency(series, {k: list(v) for k, v in targets.expected.items()})
    if problems:
        raise evidence.Contradictions(problems)
    return series, meta, manifest


def history_of(location: str | None, results: Path) -> str | None:
    """Where a run's history is: `--history`, else the results root of a perfspec run
    (RUNS/<run-id>/results -> RUNS: each run folder's history.json), else none."""
    if location is not None:
        return location
    folder = results if results.is_dir() else results.parent
    run_dir = folder.parent if folder.name == "results" else folder
    return str(run_dir.parent) if (run_dir / "manifest.json").is_file() else None


def _history_records(location: str | None, spec: Judged) -> list | None:
    from perfspec.runtime.history_store import HistoryError, open_store

    if location is None:
        return None
    try:
        return open_store(location).records(spec.file)
    except HistoryError as exc:
        err.print(f"error: {exc}", markup=False)
        err.print("  hint: --history names a folder or a postgresql:// URL", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _keep_in_history(location: str | None, record) -> None:
    """This run's record, once judged (a re-check replaces it): only runs perfspec ran."""
    from perfspec.runtime.history_store import HistoryError, open_store

    if location is None or record is None:
        return
    store = open_store(location)
    try:
        store.add(record)
    except (HistoryError, OSError) as exc:
        err.print(f"warning: the run was not kept in the history {store}: {exc}", markup=False)


def _trends(targets, series, manifest, verdicts, code: int, records: list | None):
    """(this run's history record, each target's trend for the reports); None for a run
    perfspec did not start (no run id) and trends None without a history."""
    from perfspec.runtime.history_store import summary
    from perfspec.runtime.trend import trends

    if not (manifest or {}).get("run_id"):
        return None, None
    record = summary(targets, series, manifest, verdicts, passed=code == 0)
    return record, (trends(targets, records, record) if records is not None else None)


def judge_and_report(
    spec: Judged,
    result_paths: list[Path],
    report_dir: Path,
    strict: bool,
    manifest: dict | None = None,
    baseline: Path | None = None,
    on_demo: bool = False,
    prometheus: str | None = None,
    allow_partial: bool = False,
    history: str | None = None,
) -> int:
    from perfspec.runtime import reports
    from perfspec.runtime.checker import exit_code, judge, read_results
    from perfspec.runtime.evidence import UNVERIFIED
    from perfspec.runtime.results import ResultError

    targets = spec.targets
    try:
        series, meta, found = _evidence(spec, targets, result_paths, allow_partial)
        manifest = manifest or found
        meta["on_demo"] = on_demo
        meta["allow_partial"] = allow_partial
        meta["partial"] = _partial_tools(manifest, result_paths)
        for tool, why in ((manifest or {}).get("aborted") or {}).items():
            meta["aborted"].setdefault(tool, why)  # k6 stopped by a threshold's abortOnFail
        meta.update(_skipped_and_missing(manifest, meta["files"]))
        before = read_results([baseline])[0] if baseline is not None else None
        meta["prometheus"] = _prometheus_evidence(targets, result_paths, manifest, prometheus, report_dir)
    except ResultError as exc:
        for line in str(exc).splitlines():
            err.print(f"error: {line}", markup=False)
        err.print(
            "  hint: judge the result folder of one perfspec run with the spec it ran "
            "(results/<run-id>/results/), as the run left it",
            markup=False,
        )
        raise typer.Exit(EXIT_BAD_INPUT) from None
    meta.update({k: (manifest or {}).get(k) for k in ("run_id", "profile")})
    records = _history_records(history, spec)
    verdicts = judge(
        targets,
        series,
        meta,
        base=Path(spec.file).parent,
        baseline=before,
        history=records if baseline is None else None,
    )
    from perfspec.runtime.score import score

    scored = score(verdicts, targets)
    code = exit_code(verdicts, strict, scored)
    record, trend = _trends(targets, series, manifest, verdicts, code, records)
    notes = [scored.text()] if scored else []  # first: it is the run's verdict
    notes += [UNVERIFIED] if meta["unverified"] else []
    if (manifest or {}).get("load"):  # --users / --rate: not the profile's own load
        notes.append(f"load set on the command line: {manifest['load']}")
    notes += [
        f"{file}: {len(lines)} cut-off or garbled line(s) skipped (--allow-partial): line "
        f"{', '.join(map(str, lines[:5]))}"
        for file, lines in sorted(meta["lost"].items())
    ]
    reports.terminal(verdicts)
    for note in notes:
        out.print(f"note: {note}", markup=False, highlight=False)
    for line in reports.alert_lines(meta["prometheus"], spec.name):
        out.print(line, markup=False, highlight=False)
    written = reports.write_all(
        verdicts, report_dir, f"perfspec: {spec.name}", manifest, series, notes, trend
    )
    if os.environ.get("GITHUB_ACTIONS"):
        sys.stdout.write(reports.annotations(verdicts))
    out.print(
        f"report: {written['html']}  (junit: {written['junit']}, markdown: {written['markdown']})",
        markup=False,
        highlight=False,
    )
    _keep_in_history(history, record)
    if code == 1 and not any(v.judged() for v in verdicts):
        out.print(
            "no target was judged: nothing measured what the spec asks (exit 1)",
            markup=False,
            highlight=False,
        )
    return code


def _judged(spec: Path) -> Judged:
    """The spec's targets: from check_cache when this spec was judged before (its warnings
    printed again as loading printed them), else loaded, validated and compiled (and kept)."""
    from . import check_cache
    from .app import name_scope, project_names

    key = check_cache.spec_key(spec)
    if (entry := check_cache.judged(key)) is not None:
        clash = name_scope(entry["name"]) in project_names({spec.resolve()})
        if not clash:  # else loading the spec refuses it, at its line
            for line in entry["warnings"]:
                err.print(line, markup=False, highlight=False)
            return Judged.read(entry["file"], entry["name"], entry["targets"])
    from ..plan import build_plan

    [checked] = load_all([spec])
    plan = build_plan(checked)
    targets = targets_json(plan)
    warnings = [w.format() for w in checked.warnings]
    if check_cache.spec_key(spec) == key:  # the bytes compiled are the bytes of the key
        check_cache.remember_judged(key, plan.file, plan.name, targets, warnings)
    return Judged.read(plan.file, plan.name, targets)


def beside(results: Path) -> Path:
    """Where the reports of these results go by default: never the current folder."""
    folder = results if results.is_dir() else results.parent
    return folder.parent / "report" if folder.name == "results" else folder / "report"


@app.command()
def check(
    spec: Annotated[Path, typer.Argument(help="the spec whose targets are judged", metavar="SPEC")],
    results: Annotated[list[Path], typer.Argument(help="result files or folders", metavar="RESULTS")],
    report_dir: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="folder for the reports (default: beside the results: RUN/report for RUN/results, "
            "else FOLDER/report)",
        ),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="warn counts as fail")] = False,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="one run regression targets compare against")
    ] = None,
    history: Annotated[
        str | None,
        typer.Option(
            "--history",
            help="the run history regression targets compare against and this run joins: a folder "
            "or postgresql://... (default: the results root of a perfspec run: each run's history.json)",
        ),
    ] = None,
    prometheus: Annotated[
        str | None,
        typer.Option(
            "--prometheus",
            help="query this Prometheus now (PromQL targets, the server-side view over "
            "the run's windows, alerts) instead of the run's results/prometheus.json",
        ),
    ] = None,
    allow_partial: Annotated[
        bool,
        typer.Option(
            "--allow-partial",
            help="judge a run a tool did not finish (killed, timed out, interrupted) "
            "and k6 lines cut off, at best as warn; without it such a run fails",
        ),
    ] = False,
) -> None:
    """Judge every target against real results: pass / warn / fail; exit 1 on a fail, a partial run
    or nothing judged, 2 on evidence that contradicts itself, its run or the spec."""
    raise typer.Exit(
        judge_and_report(
            _judged(spec),
            results,
            report_dir or beside(results[0]),
            strict,
            baseline=baseline,
            prometheus=prometheus,
            history=history_of(history, results[0]),
            allow_partial=allow_partial,
        )
    )

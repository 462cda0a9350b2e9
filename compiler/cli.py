"""The `perfspec` command line. Bad input exits 2 with positioned errors, never a traceback."""

from __future__ import annotations

import glob
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .errors import SpecError, SpecFailure
from .validate import CheckedSpec, check_file

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Declarative performance specs compiled into load tests, benchmarks, "
                       "alerts and CI.")
# markup, emoji and highlighting off: spec text and paths print as they are (`:100:` stays text)
out = Console(soft_wrap=True, markup=False, emoji=False, highlight=False)
err = Console(stderr=True, soft_wrap=True, markup=False, emoji=False, highlight=False)

EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3

SpecArgs = Annotated[list[Path] | None, typer.Argument(
    help="spec files (default: specs/*.yaml)", show_default=False)]

def spec_paths(paths: list[Path] | None) -> list[Path]:
    if paths:
        return list(paths)
    found = sorted(Path(p) for p in glob.glob("specs/*.yaml"))
    if not found:
        err.print("error: no spec given and no specs/*.yaml here", markup=False)
        err.print("  hint: pass a spec file, e.g. perfspec validate specs/quickstart.yaml",
                  markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    return found


def report(errors: list[SpecError]) -> None:
    for e in errors:
        err.print(e.format(), markup=False, highlight=False)


def load_all(paths: list[Path]) -> list[CheckedSpec]:
    """Validate every spec, report every error of every file, exit 2 if any."""
    checked, errors = [], []
    for p in paths:
        try:
            c = check_file(p)
        except SpecFailure as exc:
            errors.extend(exc.errors)
            continue
        checked.append(c)
        report(c.warnings)
    if errors:
        report(errors)
        n = sum(1 for e in errors if e.severity == "error")
        err.print(f"{n} error{'s' if n != 1 else ''}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    return checked


@app.command()
def validate(specs: SpecArgs = None) -> None:
    """Check specs: structure, units, references, selectors; every error with file:line:col."""
    checked = load_all(spec_paths(specs))
    for c in checked:
        out.print(f"{c.file}: ok ({len(c.spec.targets)} targets)", markup=False, highlight=False)


@app.command()
def build(
    specs: SpecArgs = None,
    out_dir: Annotated[Path, typer.Option("--out", help="output folder")] = Path("generated"),
    only: Annotated[str | None, typer.Option(
        "--only", help="comma-separated backends, e.g. locust,k6")] = None,
    check: Annotated[bool, typer.Option(
        "--check", help="write nothing; exit 1 when generated files are stale or missing")] = False,
) -> None:
    """Compile specs into load tests, benchmarks, alert rules and CI (deterministic output)."""
    from .backends import all_backends
    from .emit import MANIFEST, emit
    from .plan import build_plan

    backends = all_backends()
    chosen = list(backends) if only is None else [b.strip() for b in only.split(",") if b.strip()]
    unknown = [b for b in chosen if b not in backends]
    if unknown:
        err.print(f"error: unknown backend {', '.join(unknown)}; known: {', '.join(backends)}",
                  markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    artifacts = {}
    for checked in load_all(spec_paths(specs)):
        plan = build_plan(checked)
        artifacts[plan.file] = [a for name in chosen for a in backends[name].emit(plan)]
    result = emit(artifacts, out_dir, check=check)
    for why in result.ignored:
        err.print(f"warning: {out_dir / MANIFEST} entry {why}", markup=False)
    for rel in result.outside:
        err.print(f"error: {out_dir / rel} leads outside {out_dir} (a symlink?); nothing was written",
                  markup=False)
        err.print("  hint: replace the symlink with a folder, or build into another folder with --out",
                  markup=False)
    for rel in result.refused:
        err.print(f"error: {out_dir / rel} exists and perfspec did not generate it; it is left "
                  "untouched", markup=False)
        err.print("  hint: move the file away, or build into another folder with --out",
                  markup=False)
    if (result.refused or result.outside) and not check:
        raise typer.Exit(EXIT_BAD_INPUT)
    if check:
        for rel in result.stale:
            err.print(f"stale: {out_dir / rel}", markup=False)
        if result.stale or result.refused:
            err.print("generated files are stale; run: perfspec build", markup=False)
            raise typer.Exit(EXIT_FAIL)
        out.print(f"{len(result.unchanged)} generated files up to date", markup=False)
        return
    for rel in result.written:
        out.print(f"wrote {out_dir / rel}", markup=False, highlight=False)
    for rel in result.removed:
        out.print(f"removed {out_dir / rel} (no longer generated)", markup=False, highlight=False)
    out.print(f"{len(result.written)} written, {len(result.unchanged)} unchanged", markup=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the spec language (schemas/perfspec.schema.json)."""
    from .spec import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n")


@app.command()
def explain(spec: Annotated[Path, typer.Argument(help="one spec file")]) -> None:
    """Summarise a spec: what will be generated, every profile and target, their spec lines."""
    from .explain import render

    [checked] = load_all([spec])
    render(checked, out)


def _targets_data(plan) -> dict:
    from .backends.targets import TargetsBackend

    [art] = TargetsBackend().emit(plan)
    return json.loads(art.content)


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
    patterns = {"locust": "locust-*.json", "k6": "k6*.ndjson", "sql": "sql-*.json"}
    names = [Path(f).name for f in files]
    missing = {}
    for tool, info in (manifest.get("exit") or {}).items():
        code = info.get("code") if isinstance(info, dict) else None
        if tool in patterns and code != 127 and not any(Path(n).match(patterns[tool]) for n in names):
            missing[tool] = (f"ran (exit {code}) but its result file is missing ({patterns[tool]} not "
                             "found in the results)")
    skipped = manifest.get("skipped") or {}
    return {"missing": missing, "skipped": {str(k): str(v) for k, v in skipped.items()}
            if isinstance(skipped, dict) else {}}


def _prometheus_evidence(targets: dict, result_paths: list[Path], manifest: dict | None,
                         url: str | None, report_dir: Path) -> dict | None:
    """What the checker reads from Prometheus: queried now from --prometheus URL (or
    $PROMETHEUS_URL / a target's `source.prometheus` when the results hold no evidence), else the
    run's own results/prometheus.json."""
    from perfspec.runtime import prometheus as prom

    if url is None:
        for p in result_paths:
            for candidate in (p / prom.EVIDENCE, p / "results" / prom.EVIDENCE):
                if candidate.is_file() and (found := prom.read_evidence(candidate)) is not None:
                    return found
        sources = [((t.get("extra") or {}).get("source") or {}) for t in targets["targets"]]
        url = os.environ.get("PROMETHEUS_URL") or next(
            (u for s in sources if s.get("promql") and (u := prom.resolve_url(s.get("prometheus")))), None)
    if not url:
        return None
    manifest = manifest or _find_manifest(result_paths) or {}
    windows = {k: v for k, v in (manifest.get("windows") or {}).items()
               if k in ("locust", "k6") and isinstance(v, list) and len(v) == 2}
    evidence = prom.collect(url, targets, windows)
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / prom.EVIDENCE).write_text(json.dumps(evidence, indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
    return evidence


def _judge_and_report(plan, result_paths: list[Path], report_dir: Path, strict: bool,
                      manifest: dict | None = None, baseline: Path | None = None,
                      on_demo: bool = False, prometheus: str | None = None) -> int:
    from perfspec.runtime import reports
    from perfspec.runtime.checker import exit_code, judge, read_results
    from perfspec.runtime.results import ResultError

    try:
        series, meta = read_results(result_paths)
        meta["on_demo"] = on_demo
        meta["partial"] = _partial_tools(manifest, result_paths)
        meta.update(_skipped_and_missing(manifest or _find_manifest(result_paths), meta["files"]))
        before = read_results([baseline])[0] if baseline is not None else None
    except ResultError as exc:
        err.print(f"error: {exc}", markup=False)
        err.print("  hint: pass the result files of a perfspec run (results/<run-id>/results/)",
                  markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    targets = _targets_data(plan)
    meta["prometheus"] = _prometheus_evidence(targets, result_paths, manifest, prometheus, report_dir)
    verdicts = judge(targets, series, meta, base=Path(plan.file).parent, baseline=before)
    reports.terminal(verdicts)
    for line in reports.alert_lines(meta["prometheus"], plan.name):
        out.print(line, markup=False, highlight=False)
    written = reports.write_all(verdicts, report_dir, f"perfspec: {plan.name}", manifest, series)
    if os.environ.get("GITHUB_ACTIONS"):
        sys.stdout.write(reports.annotations(verdicts))
    out.print(f"report: {written['html']}  (junit: {written['junit']}, markdown: "
              f"{written['markdown']})", markup=False, highlight=False)
    return exit_code(verdicts, strict)


@app.command()
def check(
    spec: Annotated[Path, typer.Argument(help="the spec whose targets are judged")],
    results: Annotated[list[Path], typer.Argument(help="result files or folders")],
    report_dir: Annotated[Path, typer.Option("--report", help="folder for the reports")] = Path("report"),
    strict: Annotated[bool, typer.Option("--strict", help="warn counts as fail")] = False,
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", help="results of the run regression targets compare against")] = None,
    prometheus: Annotated[str | None, typer.Option(
        "--prometheus", help="query this Prometheus now (PromQL targets, the server-side view over "
        "the run's windows, alerts) instead of the run's results/prometheus.json")] = None,
) -> None:
    """Judge every target against real results: pass / warn / fail, exit 1 on any fail."""
    from .plan import build_plan

    [checked] = load_all([spec])
    raise typer.Exit(_judge_and_report(build_plan(checked), results, report_dir, strict, baseline=baseline,
                                       prometheus=prometheus))


@app.command()
def run(
    spec: Annotated[Path, typer.Argument(help="one spec file")] = Path("specs/quickstart.yaml"),
    profile: Annotated[str | None, typer.Option("--profile", help="load profile to run")] = None,
    only: Annotated[str, typer.Option("--only", help="suites: locust,k6,sql")] = "locust,k6,sql",
    out_dir: Annotated[Path, typer.Option("--out", help="results root")] = Path("results"),
    strict: Annotated[bool, typer.Option("--strict", help="warn counts as fail")] = False,
    demo_latency: Annotated[str | None, typer.Option(
        "--demo-latency", help="embedded demo target: inject latency, e.g. 300ms")] = None,
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", help="results of the run regression targets compare against")] = None,
    no_embedded: Annotated[bool, typer.Option(
        "--no-embedded", help="an unset host or DSN variable is an error (no demo target)")] = False,
    load_setup: Annotated[bool, typer.Option(
        "--load-setup", help="load the spec's setup SQL into the given database")] = False,
    note: Annotated[str | None, typer.Option("--note", help="a note kept in the run's history")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="Locust workers / k6 execution segments on this machine")] = 1,
    duration: Annotated[str | None, typer.Option(
        "--duration", help="cut the profile short, e.g. 30s (the SQL benchmark is not cut)")] = None,
    demo: Annotated[bool, typer.Option(
        "--demo", help="run on the embedded demo target and a throwaway PostgreSQL even where the "
        "spec's hosts and DSN have values")] = False,
    no_preflight: Annotated[bool, typer.Option(
        "--no-preflight", help="skip the check that every host answers before the load starts")] = False,
    prometheus: Annotated[str | None, typer.Option(
        "--prometheus", help="Prometheus URL for PromQL targets, the server-side view and the "
        "alerts (default $PROMETHEUS_URL; on the demo target an embedded server)")] = None,
) -> None:
    """Run the suites (embedded demo target + throwaway PostgreSQL when no host is set), then check."""
    import datetime

    from perfspec.runtime.runner import PreflightFailed, execute, spec_hash

    from .plan import build_plan

    [checked] = load_all([spec])
    plan = build_plan(checked)
    suites = [x.strip() for x in only.split(",") if x.strip()]
    bad = [x for x in suites if x not in ("locust", "k6", "sql")]
    if bad:
        err.print(f"error: unknown suite {', '.join(bad)}; choose from locust, k6, sql", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    chosen = profile or plan.default_profile
    if chosen is not None and chosen not in plan.profiles:
        err.print(f"error: unknown profile {chosen!r}; the spec has {', '.join(plan.profiles)}",
                  markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    cap = None
    if duration is not None:
        from .units import UnitError, parse_quantity

        try:
            cap = parse_quantity(duration, ("duration",)).value
        except UnitError as exc:
            err.print(f"error: --duration {duration!r}: {exc}", markup=False)
            err.print("  hint: write a duration with its unit, e.g. 30s or 2m", markup=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if cap <= 0:
            err.print("error: --duration must be more than 0s", markup=False)
            raise typer.Exit(EXIT_BAD_INPUT)
    run_id = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{plan.stem}"
    run_dir = out_dir / run_id
    _write_artifacts(plan, run_dir)
    p = plan.profiles.get(chosen) if chosen else None
    info = {
        "file": plan.file, "stem": plan.stem, "sha256": spec_hash(Path(checked.file)),
        "profile": chosen, "hosts": plan.hosts, "dsn": plan.sql.dsn if plan.sql else None,
        "seconds": min(p.seconds, cap) if p and cap else p.seconds if p else 0, "duration": cap,
        "locust_profiles": [n for n, pp in plan.profiles.items() if "locust" in pp.tools],
        "k6_profiles": [n for n, pp in plan.profiles.items() if "k6" in pp.tools],
        "no_embedded": no_embedded, "load_setup": load_setup, "note": note, "workers": workers,
        "demo": demo, "no_preflight": no_preflight, "prometheus": prometheus,
        "matchers": dict(plan.alerts.service.matchers) if plan.alerts else {},
        "hosts_used": sorted({e.host for e in plan.endpoints.values() if e.host in plan.hosts}),
        "host_lines": {n: f"{plan.file}:{checked.source.line(('hosts', n))}" for n in plan.hosts},
        "host_health": {n: h.health for n, h in checked.spec.hosts.items() if h.health},
        "db_line": str(plan.sql.database_source) if plan.sql else None,
        "stages": [{"kind": st.kind, "start": st.start, "end": st.end, "seconds": st.seconds}
                   for st in (p.stages if p else [])],
        "unit": p.unit if p else "users",
    }
    log = lambda text: out.print(text, markup=False, highlight=False)  # noqa: E731
    log(f"run {run_id}: {plan.file}, profile {chosen}, suites {', '.join(suites)}")
    try:
        manifest = execute(info, run_dir, suites, ["--latency", demo_latency] if demo_latency else [], log,
                           console=out)
    except PreflightFailed as exc:  # a host does not answer: no load was sent
        for line in exc.lines:
            err.print(line, markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except RuntimeError as exc:  # the embedded demo target or PostgreSQL could not start
        err.print(f"error: {exc}", markup=False)
        err.print("  hint: set the hosts' and database's environment variables to run against "
                  "real servers, or install pgserver", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    on_demo = demo or any("embedded demo target" in str(h) for h in manifest.get("hosts", {}).values())
    code = _judge_and_report(plan, [run_dir / "results"], run_dir, strict, manifest, baseline, on_demo)
    if manifest.get("partial"):
        log("partial run: the results above cover only what finished")
    from perfspec.runtime.capacity_run import last_capacity

    if (known := last_capacity(out_dir, plan.file)) is not None:
        log(f"last capacity search ({known[0]}): {known[1]}")
    raise typer.Exit(code)


def _write_artifacts(plan, run_dir: Path) -> None:
    """Every artifact of the spec under <run>/artifacts/, as the run used them."""
    from .backends import all_backends

    for a in [a for b in all_backends().values() for a in b.emit(plan)]:
        target = run_dir / "artifacts" / a.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(a.content, encoding="utf-8")


def _rate(option: str, text: str) -> float:
    from .units import UnitError, parse_quantity

    try:
        q = parse_quantity(text, ("rate", "duration") if option in ("--budget", "--step", "--warmup")
                           else ("rate",))
    except UnitError as exc:
        err.print(f"error: {option} {text!r}: {exc}", markup=False)
        err.print("  hint: write a rate like 50/s, or a duration like 30s", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if q.value < 0 or (q.value == 0 and option != "--warmup"):
        err.print(f"error: {option} must be more than 0", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    return q.value


@app.command()
def capacity(
    spec: Annotated[Path, typer.Argument(help="one spec file")] = Path("specs/quickstart.yaml"),
    profile: Annotated[str | None, typer.Option(
        "--profile", help="the profile whose flows are driven (default: capacity.profile)")] = None,
    start: Annotated[str | None, typer.Option("--start", help="first arrival rate (default 20/s)")] = None,
    max_rate: Annotated[str | None, typer.Option("--max", help="highest rate tried (default 2000/s)")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="time for the search (default 3m)")] = None,
    step: Annotated[str | None, typer.Option("--step", help="length of each step (default 10s)")] = None,
    warmup: Annotated[str | None, typer.Option("--warmup", help="start of each step left out (2s)")] = None,
    targets: Annotated[str | None, typer.Option(
        "--targets", help="comma-separated targets that must hold (default: the profile's)")] = None,
    max_users: Annotated[int | None, typer.Option(
        "--max-users", min=1, help="k6 users per step (default: from the rate and the bounds)")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="results root")] = Path("results"),
    demo_latency: Annotated[str | None, typer.Option(
        "--demo-latency", help="embedded demo target: inject latency, e.g. 300ms")] = None,
) -> None:
    """Find the highest arrival rate at which every selected target holds (k6 steps, then bisection)."""
    import datetime

    from perfspec.runtime.capacity_run import execute

    from .plan import build_plan

    [checked] = load_all([spec])
    plan = build_plan(checked)
    asked = plan.capacity  # the spec's question; options override each part
    chosen = profile or (asked.profile if asked else plan.default_profile)
    if asked is not None:
        start = start or asked.start.text
        max_rate = max_rate or asked.max.text
        budget, step = budget or asked.budget.text, step or asked.step.text
        warmup = warmup or asked.warmup.text
        targets = targets or (",".join(asked.targets) if asked.targets else None)
    start, max_rate, budget = start or "20/s", max_rate or "2000/s", budget or "3m"
    step, warmup = step or "10s", warmup or "2s"
    if chosen is None or chosen not in plan.profiles or "k6" not in plan.profiles[chosen].tools:
        k6_profiles = [n for n, p in plan.profiles.items() if "k6" in p.tools]
        err.print(f"error: profile {chosen!r} is not one k6 runs; choose from "
                  f"{', '.join(k6_profiles) or 'none'}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    names = [n.strip() for n in targets.split(",") if n.strip()] if targets else None
    unknown = [n for n in names or [] if n not in {t.name for t in plan.targets}]
    if unknown:
        err.print(f"error: unknown target(s) {', '.join(unknown)}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    run_id = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{plan.stem}-capacity"
    run_dir = out_dir / run_id
    _write_artifacts(plan, run_dir)
    lo, hi = _rate("--start", start), _rate("--max", max_rate)
    info = {"file": plan.file, "stem": plan.stem, "profile": chosen, "hosts": plan.hosts,
            "start": lo, "max": max(lo, hi), "budget": _rate("--budget", budget),
            "seconds": _rate("--step", step), "warmup": _rate("--warmup", warmup), "targets": names,
            "max_users": max_users, "targets_data": _targets_data(plan),
            "demo_args": ["--latency", demo_latency] if demo_latency else []}
    log = lambda text: out.print(text, markup=False, highlight=False)  # noqa: E731
    try:
        result = execute(info, run_dir, log)
    except RuntimeError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    from rich.table import Table

    table = Table(title=f"perfspec capacity: {plan.name}, profile {chosen}")
    for col in ("rate", "verdict", "p95", "p99", "errors", "dropped", "why"):
        table.add_column(col)
    for st in result.steps:
        table.add_row(f"{st.rate:g}/s", "held" if st.held else "FAILED",
                      "" if st.p95 is None else f"{st.p95 * 1000:.1f}ms",
                      "" if st.p99 is None else f"{st.p99 * 1000:.1f}ms",
                      "" if st.error_rate is None else f"{st.error_rate * 100:.2f}%", str(st.dropped),
                      "; ".join(st.why)[:200])
    out.print(table)
    log(result.summary())
    raise typer.Exit(0 if result.capacity is not None else 1)


@app.command()
def history(
    spec: Annotated[Path | None, typer.Argument(help="only the runs of this spec")] = None,
    results: Annotated[Path, typer.Option(
        "--results", help="the results root of perfspec run")] = Path("results"),
    last: Annotated[int, typer.Option("--last", help="show the last N runs")] = 20,
    targets: Annotated[str | None, typer.Option("--targets", help="comma-separated target names")] = None,
    markdown: Annotated[Path | None, typer.Option(
        "--markdown", help="also write the table as Markdown")] = None,
) -> None:
    """The run history: one row per run, each target's headline statistic, and the trend."""
    from perfspec.runtime import history as hist

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
    from rich.console import Console
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


demo_app = typer.Typer(help="The demo target service.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")


@demo_app.command("serve", context_settings={"allow_extra_args": True,
                                             "ignore_unknown_options": True})
def demo_serve(ctx: typer.Context) -> None:
    """Serve the demo target (options: --port, --dsn, --latency 50ms, --error-ratio, --login-rate)."""
    from perfspec.runtime.demo.__main__ import main as demo_main

    raise typer.Exit(demo_main(list(ctx.args)))


def main() -> None:
    """Entry point: typer app with internal errors turned into a short report."""
    try:
        app()
    except SpecFailure as exc:
        report(exc.errors)
        raise SystemExit(EXIT_BAD_INPUT) from None
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        raise SystemExit(130) from None
    except Exception:  # noqa: BLE001 - the last line of defence
        err.print("internal error, please report it with the details below:", markup=False)
        err.print(traceback.format_exc(), markup=False, highlight=False)
        raise SystemExit(EXIT_INTERNAL) from None


if __name__ == "__main__":  # pragma: no cover
    main()

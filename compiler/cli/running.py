"""`perfspec run`, `perfspec capacity` and `perfspec history`."""

from __future__ import annotations

import datetime
import enum
from pathlib import Path
from typing import Annotated

import typer

from .app import EXIT_BAD_INPUT, app, err, load_all, out
from .judging import Judged, judge_and_report, targets_data


class K6Output(enum.StrEnum):
    stream = "stream"
    ndjson = "ndjson"
    prometheus = "prometheus"


@app.command()
def run(
    spec: Annotated[Path, typer.Argument(help="one spec file")] = Path("specs/quickstart.yaml"),
    profile: Annotated[str | None, typer.Option("--profile", help="load profile to run")] = None,
    only: Annotated[str, typer.Option("--only", help="suites: locust,k6,sql")] = "locust,k6,sql",
    out_dir: Annotated[Path, typer.Option("--out", help="results root")] = Path("results"),
    strict: Annotated[bool, typer.Option("--strict", help="warn counts as fail")] = False,
    demo_latency: Annotated[
        str | None, typer.Option("--demo-latency", help="embedded demo target: inject latency, e.g. 300ms")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="one run regression targets compare against")
    ] = None,
    history: Annotated[
        str | None,
        typer.Option(
            "--history",
            help="the run history regression targets compare against and this run joins: a folder "
            "or postgresql://... (default: OUT, each run's OUT/RUN/history.json)",
        ),
    ] = None,
    no_embedded: Annotated[
        bool, typer.Option("--no-embedded", help="an unset host or DSN variable is an error (no demo target)")
    ] = False,
    load_setup: Annotated[
        bool, typer.Option("--load-setup", help="load the spec's setup SQL into the given database")
    ] = False,
    note: Annotated[str | None, typer.Option("--note", help="a note kept in the run's history")] = None,
    allow_partial: Annotated[
        bool,
        typer.Option(
            "--allow-partial",
            help="judge what a tool measured before "
            "it was killed, timed out or interrupted, at best as warn; without it such a run fails",
        ),
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Locust workers / k6 execution segments on this machine")
    ] = 1,
    duration: Annotated[
        str | None,
        typer.Option("--duration", help="cut the profile short, e.g. 30s (the SQL benchmark is not cut)"),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="run on the embedded demo target and a throwaway PostgreSQL even where the "
            "spec's hosts and DSN have values",
        ),
    ] = False,
    no_preflight: Annotated[
        bool,
        typer.Option("--no-preflight", help="skip the check that every host answers before the load starts"),
    ] = False,
    prometheus: Annotated[
        str | None,
        typer.Option(
            "--prometheus",
            help="Prometheus URL for PromQL targets, the server-side view and the "
            "alerts (default $PROMETHEUS_URL; on the demo target an embedded server)",
        ),
    ] = None,
    users: Annotated[
        int | None,
        typer.Option(
            "--users",
            "--vus",
            min=1,
            help="hold this many users (k6 VUs) for the profile's length instead of its stages",
        ),
    ] = None,
    rate: Annotated[
        str | None,
        typer.Option("--rate", help="run the profile's flows at this arrival rate, e.g. 200/s (k6 only)"),
    ] = None,
    k6_output: Annotated[
        K6Output,
        typer.Option(
            "--k6-output",
            help="k6 results: stream (the default: k6's samples read through a pipe as it runs into "
            "per-second histograms, 3 digits, no file of samples), ndjson (every sample on disk; grows "
            "with requests) or prometheus (remote-written native histograms: +-4.4%; into "
            "$PERFSPEC_K6_PROMETHEUS or a throwaway Prometheus)",
        ),
    ] = K6Output.stream,
) -> None:
    """Run the suites (embedded demo target + throwaway PostgreSQL when no host is set), then check."""
    from perfspec.runtime.runner import spec_hash

    from ..plan import build_plan

    [checked] = load_all([spec])
    plan = build_plan(checked)
    suites, chosen = _suites_and_profile(plan, only, profile)
    load = _load_override(plan, chosen, users, rate)
    if load.get("rate") and "locust" in suites:
        suites = [s for s in suites if s != "locust"]
        out.print("locust skipped: --rate is an arrival rate, which only k6 runs", markup=False)
    run_id, run_dir = new_run_folder(out_dir, plan.stem)
    _write_artifacts(plan, run_dir)
    info = {
        **_run_info(checked, plan, chosen, _duration(duration)),
        "sha256": spec_hash(Path(checked.file)),
        "no_embedded": no_embedded,
        "run_id": run_id,
        "load_setup": load_setup,
        "note": note,
        "workers": workers,
        "demo": demo,
        "no_preflight": no_preflight,
        "prometheus": prometheus,
        "k6_output": k6_output.value,
        **load,
    }
    log = lambda text: out.print(text, markup=False, highlight=False)  # noqa: E731
    log(f"run {run_id}: {plan.file}, profile {chosen}, suites {', '.join(suites)}")
    manifest = _execute(info, run_dir, suites, ["--latency", demo_latency] if demo_latency else [], log)
    on_demo = demo or any("embedded demo target" in str(h) for h in manifest.get("hosts", {}).values())
    code = judge_and_report(
        Judged.of(plan),
        [run_dir / "results"],
        run_dir,
        strict,
        manifest,
        baseline,
        on_demo,
        allow_partial=allow_partial,
        history=history or str(out_dir),
    )
    if manifest.get("partial"):
        log("partial run: the results above cover only what finished")
    from perfspec.runtime.capacity_run import last_capacity

    if (known := last_capacity(out_dir, plan.file)) is not None:
        log(f"last capacity search ({known[0]}): {known[1]}")
    raise typer.Exit(code)


def _execute(info: dict, run_dir: Path, suites: list[str], demo_args: list[str], log) -> dict:
    """The runner, its refusals turned into exit 2 with the reason."""
    from perfspec.runtime.runner import NotServedByDemo, PreflightFailed, execute

    try:
        return execute(info, run_dir, suites, demo_args, log, console=out)
    except PreflightFailed as exc:  # a host does not answer: no load was sent
        for line in exc.lines:
            err.print(line, markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except NotServedByDemo as exc:  # its message says which variable to set
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except RuntimeError as exc:  # the embedded demo target or PostgreSQL could not start
        err.print(f"error: {exc}", markup=False)
        err.print(
            "  hint: set the hosts' and database's environment variables to run against "
            "real servers, or install pgserver",
            markup=False,
        )
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _load_override(plan, chosen: str | None, users: int | None, rate: str | None) -> dict:
    """--users N / --rate R as the run request says them: the load and the stage it shows."""
    if users is None and rate is None:
        return {}
    if users is not None and rate is not None:
        err.print("error: --users and --rate both given; choose one", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    p = plan.profiles.get(chosen) if chosen else None
    seconds = p.seconds if p else 0
    if users is not None:
        if p is not None and p.model == "open":
            err.print(f"error: --users: profile {chosen} is an open model (an arrival rate)", markup=False)
            err.print("  hint: use --rate, e.g. --rate 100/s", markup=False)
            raise typer.Exit(EXIT_BAD_INPUT)
        stage = {"kind": "hold", "start": users, "end": users, "seconds": seconds}
        return {"users": users, "stages": [stage], "unit": "users"}
    from ..units import UnitError, parse_quantity

    try:
        per_second = parse_quantity(rate, ("rate",)).value
    except UnitError as exc:
        err.print(f"error: --rate {rate!r}: {exc}", markup=False)
        err.print("  hint: write a rate, e.g. 200/s", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    stage = {"kind": "hold", "start": per_second, "end": per_second, "seconds": seconds}
    return {"rate": per_second, "stages": [stage], "unit": "/s"}


def _suites_and_profile(plan, only: str, profile: str | None) -> tuple[list[str], str | None]:
    suites = [x.strip() for x in only.split(",") if x.strip()]
    bad = [x for x in suites if x not in ("locust", "k6", "sql")]
    if bad:
        err.print(f"error: unknown suite {', '.join(bad)}; choose from locust, k6, sql", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    has = {"sql": plan.sql is not None, "locust": bool(plan.endpoints), "k6": bool(plan.endpoints)}
    suites = [x for x in suites if has[x]]  # what the spec has: no `sql` in the header of an HTTP-only spec
    chosen = profile or plan.default_profile
    if chosen is not None and chosen not in plan.profiles:
        err.print(f"error: unknown profile {chosen!r}; the spec has {', '.join(plan.profiles)}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    return suites, chosen


def _duration(duration: str | None) -> float | None:
    """--duration as seconds; a clear error (exit 2) for what does not parse or is not above 0."""
    if duration is None:
        return None
    from ..units import UnitError, parse_quantity

    try:
        cap = parse_quantity(duration, ("duration",)).value
    except UnitError as exc:
        err.print(f"error: --duration {duration!r}: {exc}", markup=False)
        err.print("  hint: write a duration with its unit, e.g. 30s or 2m", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if cap <= 0:
        err.print("error: --duration must be more than 0s", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    return cap


def _run_info(checked, plan, chosen: str | None, cap: float | None) -> dict:
    """What the runner needs of the spec: hosts, the DSN, the profile's length and stages, which
    tool runs which profile, where hosts and the database are written."""
    from perfspec.runtime.contracts import RUN_REQUEST_VERSION

    p = plan.profiles.get(chosen) if chosen else None
    return {
        "version": RUN_REQUEST_VERSION,
        "file": plan.file,
        "stem": plan.stem,
        "profile": chosen,
        "hosts": plan.hosts,
        "dsn": plan.sql.dsn if plan.sql else None,
        "seconds": min(p.seconds, cap) if p and cap else p.seconds if p else 0,
        "duration": cap,
        "locust_profiles": [n for n, pp in plan.profiles.items() if "locust" in pp.tools],
        "k6_profiles": [n for n, pp in plan.profiles.items() if "k6" in pp.tools],
        "matchers": dict(plan.alerts.service.matchers) if plan.alerts else {},
        "hosts_used": sorted({e.host for e in plan.endpoints.values() if e.host in plan.hosts}),
        # per host, what its endpoints call: the embedded demo target stands in only for hosts
        # whose calls it serves (runtime/runner.py embedded_needs)
        "routes": {
            h: sorted(
                {
                    (
                        e.method,
                        "".join(p[1] if p[0] == "text" else f"{{{p[1]}}}" for p in e.path),
                        e.name,
                    )
                    for e in plan.endpoints.values()
                    if e.host == h
                }
            )
            for h in plan.hosts
        },
        "host_lines": {n: f"{plan.file}:{checked.source.line(('hosts', n))}" for n in plan.hosts},
        "host_health": {n: h.health for n, h in checked.spec.hosts.items() if h.health},
        "db_line": str(plan.sql.database_source) if plan.sql else None,
        "stages": [
            {"kind": st.kind, "start": st.start, "end": st.end, "seconds": st.seconds}
            for st in (p.stages if p else [])
        ],
        "unit": p.unit if p else "users",
    }


def _capacity_question(plan, given: dict) -> dict:
    """The spec's `capacity:` question with the options given on the command line over it, checked
    (a profile k6 runs, known targets, rates and durations that parse)."""
    asked = plan.capacity
    defaults = {"start": "20/s", "max": "2000/s", "budget": "3m", "step": "10s", "warmup": "2s"}
    if asked is not None:
        defaults = {
            "start": asked.start.text,
            "max": asked.max.text,
            "budget": asked.budget.text,
            "step": asked.step.text,
            "warmup": asked.warmup.text,
        }
    texts = {k: given[k] or v for k, v in defaults.items()}
    chosen = given["profile"] or (asked.profile if asked else plan.default_profile)
    if chosen is None or chosen not in plan.profiles or "k6" not in plan.profiles[chosen].tools:
        k6_profiles = [n for n, p in plan.profiles.items() if "k6" in p.tools]
        err.print(
            f"error: profile {chosen!r} is not one k6 runs; choose from {', '.join(k6_profiles) or 'none'}",
            markup=False,
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    targets = given["targets"] or (",".join(asked.targets) if asked and asked.targets else None)
    names = [n.strip() for n in targets.split(",") if n.strip()] if targets else None
    unknown = [n for n in names or [] if n not in {t.name for t in plan.targets}]
    if unknown:
        err.print(f"error: unknown target(s) {', '.join(unknown)}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    lo, hi = _rate("--start", texts["start"]), _rate("--max", texts["max"])
    return {
        "profile": chosen,
        "targets": names,
        "start": lo,
        "max": max(lo, hi),
        "budget": _rate("--budget", texts["budget"]),
        "seconds": _rate("--step", texts["step"]),
        "warmup": _rate("--warmup", texts["warmup"]),
    }


def new_run_folder(out_dir: Path, stem: str) -> tuple[str, Path]:
    """A run's id and its own folder, created exclusively: the time to the millisecond and a random
    part, so two runs started together (parallel CI jobs sharing a results folder) never share
    one and never read each other's evidence."""
    import secrets

    out_dir.mkdir(parents=True, exist_ok=True)
    while True:
        now = datetime.datetime.now()
        run_id = f"{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}{secrets.token_hex(2)}-{stem}"
        try:
            (out_dir / run_id).mkdir()
        except FileExistsError:
            continue
        return run_id, out_dir / run_id


def _write_artifacts(plan, run_dir: Path) -> None:
    """Every artifact of the spec under <run>/artifacts/, as the run used them."""
    from ..backends import all_backends

    for a in [a for b in all_backends().values() for a in b.emit(plan)]:
        target = run_dir / "artifacts" / a.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(a.content, encoding="utf-8")


def _rate(option: str, text: str) -> float:
    from ..units import UnitError, parse_quantity

    try:
        q = parse_quantity(
            text, ("rate", "duration") if option in ("--budget", "--step", "--warmup") else ("rate",)
        )
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
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="the profile whose flows are driven (default: capacity.profile)"),
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="first arrival rate (default 20/s)")] = None,
    max_rate: Annotated[str | None, typer.Option("--max", help="highest rate tried (default 2000/s)")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="time for the search (default 3m)")] = None,
    step: Annotated[str | None, typer.Option("--step", help="length of each step (default 10s)")] = None,
    warmup: Annotated[str | None, typer.Option("--warmup", help="start of each step left out (2s)")] = None,
    targets: Annotated[
        str | None,
        typer.Option("--targets", help="comma-separated targets that must hold (default: the profile's)"),
    ] = None,
    max_users: Annotated[
        int | None,
        typer.Option("--max-users", min=1, help="k6 users per step (default: from the rate and the bounds)"),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="results root")] = Path("results"),
    demo_latency: Annotated[
        str | None, typer.Option("--demo-latency", help="embedded demo target: inject latency, e.g. 300ms")
    ] = None,
) -> None:
    """Find the highest arrival rate at which every selected target holds (k6 steps, then bisection)."""

    from perfspec.runtime.capacity_run import execute

    from ..plan import build_plan

    [checked] = load_all([spec])
    plan = build_plan(checked)
    given = {
        "profile": profile,
        "start": start,
        "max": max_rate,
        "budget": budget,
        "step": step,
        "warmup": warmup,
        "targets": targets,
    }
    question = _capacity_question(plan, given)
    run_id, run_dir = new_run_folder(out_dir, f"{plan.stem}-capacity")
    _write_artifacts(plan, run_dir)
    info = {
        "file": plan.file,
        "stem": plan.stem,
        "hosts": plan.hosts,
        **question,
        "max_users": max_users,
        "targets_data": targets_data(plan),
        "demo_args": ["--latency", demo_latency] if demo_latency else [],
    }
    log = lambda text: out.print(text, markup=False, highlight=False)  # noqa: E731
    try:
        result = execute(info, run_dir, log)
    except RuntimeError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    _capacity_table(plan.name, result)
    log(result.summary())
    raise typer.Exit(0 if result.capacity is not None else 1)


def _capacity_table(name: str, result) -> None:
    from rich.table import Table

    table = Table(title=f"perfspec capacity: {name}, profile {result.profile}")
    for col in ("rate", "verdict", "p95", "p99", "errors", "dropped", "why"):
        table.add_column(col)
    for st in result.steps:
        table.add_row(
            f"{st.rate:g}/s",
            "held" if st.held else "FAILED",
            "" if st.p95 is None else f"{st.p95 * 1000:.1f}ms",
            "" if st.p99 is None else f"{st.p99 * 1000:.1f}ms",
            "" if st.error_rate is None else f"{st.error_rate * 100:.2f}%",
            str(st.dropped),
            "; ".join(st.why)[:200],
        )
    out.print(table)

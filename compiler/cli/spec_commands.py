"""Commands on specs alone: validate, build, schema, explain, and the demo target."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .app import EXIT_BAD_INPUT, EXIT_FAIL, SpecArgs, app, err, load_all, out, spec_paths


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
    only: Annotated[
        str | None, typer.Option("--only", help="comma-separated backends, e.g. locust,k6")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="write nothing; exit 1 when generated files are stale or missing")
    ] = False,
) -> None:
    """Compile specs into load tests, benchmarks, alert rules and CI (deterministic output)."""
    paths = spec_paths(specs)
    if check:  # nothing changed since a check found everything fresh: answered before any import
        from . import check_cache

        check_key = check_cache.key(paths, [only or "*"], out_dir)
        if (known := check_cache.fresh(check_key, out_dir)) is not None:
            out.print(f"{known} generated files up to date", markup=False)
            return
    from ..backends import all_backends
    from ..emit import MANIFEST, emit
    from ..plan import build_plan

    backends = all_backends()
    chosen = list(backends) if only is None else [b.strip() for b in only.split(",") if b.strip()]
    unknown = [b for b in chosen if b not in backends]
    if unknown:
        err.print(f"error: unknown backend {', '.join(unknown)}; known: {', '.join(backends)}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    artifacts = {}
    for checked in load_all(paths):
        plan = build_plan(checked)
        artifacts[plan.file] = [a for name in chosen for a in backends[name].emit(plan)]
    result = emit(artifacts, out_dir, check=check)
    for why in result.ignored:
        err.print(f"warning: {out_dir / MANIFEST} entry {why}", markup=False)
    for rel in result.outside:
        err.print(
            f"error: {out_dir / rel} leads outside {out_dir} (a symlink?); nothing was written", markup=False
        )
        err.print(
            "  hint: replace the symlink with a folder, or build into another folder with --out", markup=False
        )
    for rel in result.refused:
        err.print(
            f"error: {out_dir / rel} exists and perfspec did not generate it; it is left untouched",
            markup=False,
        )
        err.print("  hint: move the file away, or build into another folder with --out", markup=False)
    if (result.refused or result.outside) and not check:
        raise typer.Exit(EXIT_BAD_INPUT)
    if check:
        for rel in result.stale:
            err.print(f"stale: {out_dir / rel}", markup=False)
        if result.stale or result.refused:
            err.print("generated files are stale; run: perfspec build", markup=False)
            raise typer.Exit(EXIT_FAIL)
        out.print(f"{len(result.unchanged)} generated files up to date", markup=False)
        check_cache.remember(check_key, out_dir, len(result.unchanged))
        return
    for rel in result.written:
        out.print(f"wrote {out_dir / rel}", markup=False, highlight=False)
    for rel in result.removed:
        out.print(f"removed {out_dir / rel} (no longer generated)", markup=False, highlight=False)
    out.print(f"{len(result.written)} written, {len(result.unchanged)} unchanged", markup=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the spec language (schemas/perfspec.schema.json)."""
    from ..spec import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n")


@app.command()
def explain(spec: Annotated[Path, typer.Argument(help="one spec file")]) -> None:
    """Summarise a spec: what will be generated, every profile and target, their spec lines."""
    from ..explain import render

    [checked] = load_all([spec])
    render(checked, out)


demo_app = typer.Typer(help="The demo target service.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")


@demo_app.command(
    "serve",
    add_help_option=False,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def demo_serve(ctx: typer.Context) -> None:
    """Serve the demo target (options: --port, --dsn, --latency 50ms, --error-ratio, --login-rate;
    -h lists them)."""
    from perfspec.runtime.demo.__main__ import main as demo_main

    try:
        code = demo_main(list(ctx.args))
    except SystemExit as exc:  # argparse: -h printed the options, or a bad option was named
        code = exc.code if isinstance(exc.code, int) else 2
    raise typer.Exit(code)

"""The typer app, its consoles and exit codes, and loading specs with every error reported."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ..errors import SpecError, SpecFailure
from .config import Config, ConfigError, read_config

if TYPE_CHECKING:  # the model (pydantic) loads when a spec is read: --version and -h start fast
    from ..validate import CheckedSpec

app = typer.Typer(
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Declarative performance specs compiled into load tests, benchmarks, alerts and CI.",
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            out.print(f"perfspec {version('perfspec')}", markup=False, highlight=False)
        except PackageNotFoundError:
            out.print("perfspec (not installed)", markup=False, highlight=False)
        raise typer.Exit(0)


CONFIG = Config()  # the project's settings (perfspec.toml or [tool.perfspec]), read per invocation


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="print the version and exit"),
    ] = False,
) -> None:
    """Declarative performance specs compiled into load tests, benchmarks, alerts and CI.

    Project defaults: perfspec.toml or [tool.perfspec] in pyproject.toml (specs, generated,
    results, report)."""
    global CONFIG
    try:
        CONFIG = read_config(Path.cwd())
    except ConfigError as exc:
        err.print(f"{exc.file}: error: {exc.message}", markup=False)
        err.print(f"  hint: {exc.hint}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    ctx.default_map = {**CONFIG.default_map(), **(ctx.default_map or {})}


# markup, emoji and highlighting off: spec text and paths print as they are (`:100:` stays text)
out = Console(soft_wrap=True, markup=False, emoji=False, highlight=False)
err = Console(stderr=True, soft_wrap=True, markup=False, emoji=False, highlight=False)

EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3

SpecArgs = Annotated[
    list[Path] | None,
    typer.Argument(
        help="spec files (default: specs/*.yaml, or the project's `specs` setting)",
        show_default=False,
        metavar="SPEC",
    ),
]


def spec_paths(paths: list[Path] | None) -> list[Path]:
    if paths:
        return list(paths)
    found = sorted({Path(p) for pattern in CONFIG.specs for p in glob.glob(pattern)})
    if not found:
        err.print(f"error: no spec given and no {' or '.join(CONFIG.specs)} here", markup=False)
        err.print("  hint: pass a spec file, e.g. perfspec validate specs/quickstart.yaml", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    return found


def report(errors: list[SpecError]) -> None:
    for e in errors:
        err.print(e.format(), markup=False, highlight=False)


def same_names(checked: list[CheckedSpec]) -> list[SpecError]:
    """Two specs of a project with one name (as Prometheus sees it: `a-b` is `a_b`) would merge
    their rule groups and recording rules in one Prometheus: the later one is refused. The given
    specs are compared with each other, and a spec of the project (its `specs` setting) also with
    the project's other specs."""
    seen = project_names({Path(c.file).resolve() for c in checked})
    out = []
    for c in checked:
        key = name_scope(c.spec.name)
        if key in seen:
            why = (
                f"spec name {c.spec.name!r} is also the name of {seen[key]}: their Prometheus rule "
                "groups and recording rules would merge"
            )
            out.append(c.source.error(("name",), why, "give each spec of the project its own name"))
        else:
            seen[key] = c.file
    return out


def name_scope(name: object) -> str:
    """A spec's name as Prometheus sees it (`a-b` is `a_b`)."""
    import re

    return re.sub(r"[^A-Za-z0-9_]", "_", str(name))


def project_names(given: set[Path]) -> dict[str, str]:
    """The names (as name_scope gives them) of the project's other specs, each with its file,
    when a given spec (resolved paths) is one of the project's; else none."""
    project = sorted({other for pattern in CONFIG.specs for other in glob.glob(pattern)})
    seen: dict[str, str] = {}
    if not given & {Path(p).resolve() for p in project}:
        return seen
    import yaml

    for other in project:
        if Path(other).resolve() in given:
            continue
        try:
            name = (yaml.safe_load(Path(other).read_text(encoding="utf-8")) or {}).get("name")
        except (OSError, UnicodeError, yaml.YAMLError, AttributeError):
            continue  # not readable as a spec: its own validation says why
        if name is not None:
            seen.setdefault(name_scope(name), other)
    return seen


def load_all(paths: list[Path]) -> list[CheckedSpec]:
    """Validate every spec, report every error of every file, exit 2 if any."""
    from ..validate import check_file

    checked, errors = [], []
    for p in paths:
        try:
            c = check_file(p)
        except SpecFailure as exc:
            errors.extend(exc.errors)
            continue
        checked.append(c)
        report(c.warnings)
    errors += same_names(checked)
    if errors:
        report(errors)
        n = sum(1 for e in errors if e.severity == "error")
        err.print(f"{n} error{'s' if n != 1 else ''}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    return checked

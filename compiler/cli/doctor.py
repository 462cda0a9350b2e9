"""`perfspec doctor`: every tool a run would use (where it was found, its version) and what is
missing, with the line that installs it (as `flutter doctor` does)."""

from __future__ import annotations

import sys

import typer

from .app import EXIT_FAIL, app, out


@app.command()
def doctor() -> None:
    """List the tools perfspec would use, their versions and where they are; name what is missing."""
    from importlib.metadata import version as package_version

    from perfspec.runtime import tools

    say = lambda text: out.print(text, markup=False, highlight=False)  # noqa: E731
    say(f"perfspec {package_version('perfspec')} on Python {sys.version.split()[0]} ({sys.executable})")
    missing_required = []
    for tool in tools.TOOLS:
        found = tools.find(tool.name)
        if found is None:
            mark = "MISSING" if tool.required else "missing"
            say(f"  {mark:8} {tool.name:11} for {tool.used_for}")
            say(f"  {'':8} {'':11} install: {tool.install}")
            if tool.required:
                missing_required.append(tool.name)
            continue
        where, origin = found
        say(f"  {'ok':8} {tool.name:11} {tools.version([where, *tool.version_args])}")
        say(f"  {'':8} {'':11} {where} ({origin})")
    for module, used_for, install in (
        ("asyncpg", "the SQL benchmark's asyncpg engine", "pip install 'perfspec[run]'"),
        ("pgserver", "a throwaway PostgreSQL for runs without a DSN", "pip install 'perfspec[run]'"),
    ):
        found_version = tools.python_package(module)
        if found_version is None:
            say(f"  {'missing':8} {module:11} for {used_for}")
            say(f"  {'':8} {'':11} install: {install}")
        else:
            say(f"  {'ok':8} {module:11} {found_version} (Python package)")
    if missing_required:
        say(f"the quickstart cannot run: {', '.join(missing_required)} missing (see the install lines above)")
        raise typer.Exit(EXIT_FAIL)
    say("everything the quickstart needs is here")

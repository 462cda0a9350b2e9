"""The `perfspec` command line. Bad input exits 2 with positioned errors, never a traceback.

`app` holds the typer app and its consoles; the commands live by what they work on:
spec_commands (validate, build, schema, explain, demo), judging (check), running (run,
capacity), history (runs, trend, change points), init (a new project), collect (k6 results
from Prometheus), doctor (the tools a run would use)."""

from __future__ import annotations

import traceback

from ..errors import SpecFailure
from .app import EXIT_BAD_INPUT, EXIT_INTERNAL, app, err, report

# isort: off
# importing the command modules registers their commands, in the order `--help` lists them
from . import spec_commands  # noqa: F401, E402
from . import judging, running  # noqa: F401, E402
from . import history  # noqa: F401, E402
from . import init  # noqa: F401, E402
from . import collect  # noqa: F401, E402
from . import doctor  # noqa: F401, E402
# isort: on

__all__ = ["app", "main"]


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

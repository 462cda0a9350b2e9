"""`perfspec init`: a project that runs from the first command.

Writes a starter spec (`specs/NAME.yaml`, runnable on the embedded demo target as written), the
JSON Schema the spec's modeline points at (`schemas/perfspec.schema.json`, so an editor with the
YAML language server completes and checks keys), a pre-commit configuration running
`perfspec validate` and `perfspec build --check`, and PERFSPEC.md (how to run it). Nothing is
overwritten: an existing file is named and left as it is.
"""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from .app import EXIT_BAD_INPUT, app, err, out

PRE_COMMIT = """\
# pre-commit (https://pre-commit.com): `pre-commit install`, then every commit validates the specs
# and checks that generated/ is fresh
repos:
  - repo: local
    hooks:
      - id: perfspec-validate
        name: perfspec validate
        entry: perfspec validate
        language: system
        files: ^specs/.*\\.ya?ml$
      - id: perfspec-build-check
        name: perfspec build --check
        entry: perfspec build --check
        language: system
        files: ^(specs|generated)/
        pass_filenames: false
"""

README = """\
# Performance targets

`specs/{name}.yaml` holds this project's performance targets; perfspec compiles it into Locust
and k6 tests, alert rules and a CI job, runs them and judges every target.

```bash
perfspec validate specs/{name}.yaml      # errors name file:line:col and a fix
perfspec run specs/{name}.yaml           # API_URL unset: against perfspec's demo target
API_URL=https://staging.example.com perfspec run specs/{name}.yaml
perfspec build                            # generated/: the files to review and commit
```

Editors with the YAML language server check the spec against `schemas/perfspec.schema.json`
(the modeline on its first line); refresh it after upgrading perfspec: `perfspec schema >
schemas/perfspec.schema.json`.
"""


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="the project folder")] = Path("."),
    name: Annotated[str, typer.Option("--name", help="the spec's name (specs/NAME.yaml)")] = "quickstart",
) -> None:
    """Start a project: a starter spec, its JSON Schema, a pre-commit configuration, PERFSPEC.md.

    The spec runs on the embedded demo as written; existing files are left as they are."""
    from ..spec import NAME_PATTERN, json_schema

    if not re.fullmatch(NAME_PATTERN, name):
        err.print(f"perfspec init: error: {name!r} is not a spec name", markup=False, highlight=False)
        err.print("  hint: letters, digits, _ - . (e.g. --name checkout-api)", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    starter = resources.files("perfspec.compiler.cli").joinpath("starter.yaml").read_text(encoding="utf-8")
    files = {
        Path("specs") / f"{name}.yaml": starter.replace("name: NAME", f"name: {name}"),
        Path("schemas") / "perfspec.schema.json": json.dumps(json_schema(), indent=2, sort_keys=True) + "\n",
        Path(".pre-commit-config.yaml"): PRE_COMMIT,
        Path("PERFSPEC.md"): README.format(name=name),
    }
    for rel, text in files.items():
        path = folder / rel
        if path.exists():
            out.print(f"kept {path} (it exists)", markup=False, highlight=False)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        out.print(f"wrote {path}", markup=False, highlight=False)
    spec = folder / "specs" / f"{name}.yaml"
    out.print(f"next: perfspec run {spec}", markup=False, highlight=False)


@app.command("import")
def import_(
    source: Annotated[Path, typer.Argument(help="an OpenAPI 3 document (YAML or JSON) or a HAR file")],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="the spec to write (default specs/NAME.yaml)")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="the spec's name")] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing spec")] = False,
) -> None:
    """A commented starter spec from an OpenAPI 3 document or a HAR recording.

    It validates as written: endpoints, classes from tags, example bodies, path parameters wired
    to what a create call returns, a smoke profile, placeholder targets."""
    from ..errors import SpecFailure
    from ..importers import IMPORT_ERRORS, draft_of, render
    from ..validate import check_text

    def fail(message: str, hint: str) -> None:
        err.print(f"{source}: error: {message}", markup=False, highlight=False)
        err.print(f"  hint: {hint}", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)

    from ..spec import NAME_PATTERN

    if name is not None and not re.fullmatch(NAME_PATTERN, name):
        fail(f"{name!r} is not a spec name", "letters, digits, _ - . (e.g. --name petstore)")
    try:
        draft, kind = draft_of(source)
    except OSError as exc:
        fail(f"cannot read the file ({exc.strerror})", "give the path of an OpenAPI document or a HAR file")
    except IMPORT_ERRORS as exc:
        fail(
            str(exc),
            'give an OpenAPI 3 or Swagger 2.0 document (openapi: 3.x, swagger: "2.0") '
            "or a HAR file (log.entries)",
        )
    except ValueError as exc:  # JSON or YAML that does not parse
        fail(
            f"not JSON or YAML ({type(exc).__name__})",
            "give an OpenAPI 3 or Swagger 2.0 document or a HAR file",
        )
    if name:
        draft.name = name
    target = out_file or Path("specs") / f"{draft.name}.yaml"
    schema_file = Path("schemas") / "perfspec.schema.json"  # what `perfspec init` writes
    schema = Path(os.path.relpath(schema_file, target.parent)).as_posix() if schema_file.is_file() else None
    try:
        text = render(draft, f"{kind} {source.name}", schema)
    except ValueError as exc:  # a bug of the importer: say so, write nothing
        fail(str(exc), "please report this with the source document")
    try:
        check_text(text, str(target))
    except SpecFailure as exc:  # a bug of the importer: say so, write nothing
        fail(
            "the imported spec does not validate: " + "; ".join(e.message for e in exc.errors[:3]),
            "please report this with the source document",
        )
    if target.exists() and not force:
        fail(f"{target} exists", "choose another --out, or --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    variables = sorted(
        {v for h in draft.hosts.values() for v in re.findall(r"\$\{(\w+)", str(h.get("url", "")))}
    )
    run = " ".join([*(f"{v}=https://..." for v in variables), "perfspec run", str(target)])
    out.print(
        f"wrote {target}: {len(draft.endpoints)} endpoints from the {kind} file "
        f"({len(draft.tasks)} in the flow's tasks); next, with the service's URL: {run}"
        + ("" if schema else "; editor completion: perfspec schema > schemas/perfspec.schema.json"),
        markup=False,
        highlight=False,
    )

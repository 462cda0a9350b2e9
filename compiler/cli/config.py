"""The project's perfspec settings: `perfspec.toml` (top-level keys) or `[tool.perfspec]` in
pyproject.toml, in the folder perfspec runs in. They change the defaults only: an option given on
the command line wins.

    specs = ["perf/*.yaml"]     # the specs commands take when none is named (default specs/*.yaml)
    generated = "build/perf"    # perfspec build --out
    results = "perf-results"    # perfspec run / capacity --out, history --results
    report = "perf-report"      # perfspec check --report (default: beside the results)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

KEYS = {"specs", "generated", "results", "report"}


class ConfigError(ValueError):
    def __init__(self, file: Path, message: str, hint: str) -> None:
        super().__init__(message)
        self.file, self.message, self.hint = file, message, hint


@dataclass(frozen=True)
class Config:
    specs: tuple[str, ...] = ("specs/*.yaml",)
    generated: str = "generated"
    results: str = "results"
    report: str | None = None  # None: beside the results (judging.beside)
    file: Path | None = None

    def default_map(self) -> dict[str, dict[str, str]]:
        """Click's per-command defaults (parameter names) from these settings."""
        return {
            "build": {"out_dir": self.generated},
            "run": {"out_dir": self.results},
            "capacity": {"out_dir": self.results},
            "history": {"results": self.results},
            **({"check": {"report_dir": self.report}} if self.report else {}),
        }


def read_config(folder: Path) -> Config:
    own, pyproject = folder / "perfspec.toml", folder / "pyproject.toml"
    if own.is_file():
        file, table = own, _load(own)
    elif pyproject.is_file():
        file, table = pyproject, _load(pyproject).get("tool", {}).get("perfspec")
        if table is None:
            return Config()
    else:
        return Config()
    where = "perfspec.toml" if file == own else "[tool.perfspec]"
    if not isinstance(table, dict):
        raise ConfigError(file, f"{where} is not a table", "write key = value lines")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise ConfigError(file, f"unknown key {unknown[0]!r} in {where}", f"keys: {', '.join(sorted(KEYS))}")
    specs = table.get("specs", ["specs/*.yaml"])
    if isinstance(specs, str):
        specs = [specs]
    if not (isinstance(specs, list) and specs and all(isinstance(s, str) and s for s in specs)):
        raise ConfigError(
            file, f"specs in {where} is not a list of paths or patterns", 'e.g. specs = ["perf/*.yaml"]'
        )
    for key in ("generated", "results", "report"):
        if key in table and not (isinstance(table[key], str) and table[key]):
            raise ConfigError(file, f"{key} in {where} is not a folder path", f'e.g. {key} = "perf/{key}"')
    return Config(
        tuple(specs),
        table.get("generated", "generated"),
        table.get("results", "results"),
        table.get("report"),
        file,
    )


def _load(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"cannot read ({exc})", "check the file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"invalid TOML: {exc}", "fix the TOML syntax") from None

"""Spec errors as values: every one names `file:line:col`, says what is wrong and how to fix it."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from perfspec.runtime.text import printable

Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True, order=True)
class SpecError:
    """One problem at one place in a spec file (line and column are 1-based)."""

    file: str
    line: int
    col: int
    message: str
    hint: str = ""
    severity: Severity = "error"

    def format(self) -> str:
        """One line (two with the hint); spec text in it is shown escaped, never raw."""
        head = (
            f"{printable(display_path(self.file))}:{self.line}:{self.col}: {self.severity}: "
            f"{printable(self.message)}"
        )
        return head + (f"\n  hint: {printable(self.hint)}" if self.hint else "")


class SpecFailure(Exception):
    """Raised when a spec cannot be used; holds every error found in one pass."""

    def __init__(self, errors: Iterable[SpecError]) -> None:
        self.errors = sorted(errors)
        super().__init__("\n".join(e.format() for e in self.errors))


def display_path(path: str) -> str:
    """Paths relative to the working directory when below it, as compilers print them."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` or empty, for misspelled keys and names."""
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def choices_hint(word: str, choices: Iterable[str], what: str) -> str:
    """A hint naming the closest choice, or listing the valid ones."""
    options = sorted(set(choices))
    guess = did_you_mean(word, options)
    if guess:
        return guess
    if not options:
        return f"no {what} defined yet"
    shown = ", ".join(options[:12]) + (", ..." if len(options) > 12 else "")
    return f"known {what}: {shown}"


@dataclass(frozen=True)
class SourceRef:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

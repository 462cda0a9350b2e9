"""What every part of the Prometheus backend shares: Prometheus text forms, alerts and cases."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from perfspec.runtime.verdict import QUANTILES

__all__ = ["QUANTILES"]

FAILS_WHEN = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!="}
STEP = 60  # seconds between the unit tests' samples and evaluations, unless a window is shorter
DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]


def duration(seconds: float) -> str:
    """A Prometheus duration: 300 -> 5m, 0.5 -> 500ms."""
    ms = int(round(seconds * 1000))
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def go_text(text: str) -> str:
    """Annotation text that Prometheus's template engine prints literally."""
    return text.replace("{{", '{{ "{{" }}')


def camel(text: str) -> str:
    words = [w for w in "".join(c if c.isascii() and c.isalnum() else " " for c in text).split()]
    out = "".join(w[:1].upper() + w[1:] for w in words)
    return out if out and not out[0].isdigit() else "T" + out


@dataclass
class Case:
    """One unit-test group: input series, and whether the alert fires on them."""

    name: str
    series: list[tuple[str, str]]
    fires: bool


@dataclass
class Alert:
    name: str
    expr: str
    for_: float
    labels: dict[str, str]
    annotations: dict[str, str]
    cases: list[Case] = field(default_factory=list)
    panel: dict[str, Any] | None = None  # title, query, threshold, unit
    note: str | None = None  # why it has no generated test


def matches(pattern: str, status: str) -> bool:
    """Whether a status label value matches `error_status` (fully, as Prometheus's =~ does)."""
    try:
        return re.fullmatch(pattern, status) is not None
    except re.error:
        return False

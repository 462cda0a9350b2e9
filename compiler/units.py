"""Quantities with explicit units: `150ms`, `99.5%`, `200/s`, `50 users`, `200MB`, `0.9x`.

Every number in a spec that means something physical carries its unit; a bare number where a
unit is needed is an error whose hint shows the spelling to use.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from perfspec.runtime.verdict import holds

Kind = Literal["duration", "percent", "rate", "users", "size", "ratio", "count"]

# unit text -> (kind, factor to the base unit). Base units: seconds, fraction, per second,
# users, bytes, ratio.
UNITS: dict[str, tuple[Kind, float]] = {
    "us": ("duration", 1e-6),
    "µs": ("duration", 1e-6),
    "ms": ("duration", 1e-3),
    "s": ("duration", 1.0),
    "m": ("duration", 60.0),
    "min": ("duration", 60.0),
    "h": ("duration", 3600.0),
    "d": ("duration", 86400.0),
    "%": ("percent", 0.01),
    "/s": ("rate", 1.0),
    "/m": ("rate", 1 / 60),
    "/min": ("rate", 1 / 60),
    "/h": ("rate", 1 / 3600),
    "rps": ("rate", 1.0),
    "qps": ("rate", 1.0),
    "users": ("users", 1.0),
    "user": ("users", 1.0),
    "vus": ("users", 1.0),
    "B": ("size", 1.0),
    "KB": ("size", 1e3),
    "MB": ("size", 1e6),
    "GB": ("size", 1e9),
    "KiB": ("size", 1024.0),
    "MiB": ("size", 1024.0**2),
    "GiB": ("size", 1024.0**3),
    "x": ("ratio", 1.0),
}

# the unit each kind is printed in, and an example used in hints
EXAMPLES: dict[str, str] = {
    "duration": "150ms",
    "percent": "99.5%",
    "rate": "200/s",
    "users": "50 users",
    "size": "200MB",
    "ratio": "0.9x",
    "count": "5",
}

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-zµ%/]+)?\s*$")
_BOUND = re.compile(r"^\s*(<=|>=|<|>|==)\s*(.*)$")
OPS = ("<", "<=", ">", ">=", "==")


class UnitError(ValueError):
    """A quantity that does not parse; carries a hint on how to write it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Quantity:
    """A number in its base unit (seconds, fraction, per second, users, bytes, ratio)."""

    value: float
    kind: Kind
    text: str

    def __str__(self) -> str:
        return self.text

    @property
    def signed(self) -> bool:
        return self.text.lstrip().startswith(("+", "-"))


@dataclass(frozen=True)
class Bound:
    """A comparison and a quantity, such as `< 200ms`."""

    op: str
    quantity: Quantity

    def __str__(self) -> str:
        return f"{self.op} {self.quantity.text}"

    def holds(self, measured: float) -> bool:
        return holds(self.op, measured, self.quantity.value)

    @property
    def upper(self) -> bool:
        """True for an upper bound (`<`, `<=`): smaller is better."""
        return self.op in ("<", "<=")


def _kinds_text(kinds: tuple[Kind, ...]) -> str:
    return " or ".join(EXAMPLES[k] for k in kinds)


def parse_quantity(raw: object, kinds: tuple[Kind, ...]) -> Quantity:
    """Parse `150ms` and the like; `kinds` lists what the field accepts."""
    if isinstance(raw, bool) or raw is None:
        raise UnitError(
            f"expected a quantity such as {_kinds_text(kinds)}, got {raw!r}",
            f"write a number with its unit, e.g. {EXAMPLES[kinds[0]]}",
        )
    if isinstance(raw, int | float):
        if "count" in kinds:
            return Quantity(float(raw), "count", str(raw))
        # a bare duration is a length of time (a profile, a window, a timeout): seconds, not the
        # milliseconds a latency bound suggests (parse_bound)
        unit = "s" if kinds[0] == "duration" else _unit_of(kinds[0])
        raise UnitError(
            f"{raw} has no unit",
            f"write {_fmt(raw)}{unit}" + (f" (units: {', '.join(_units_for(kinds))})"),
        )
    if not isinstance(raw, str):
        raise UnitError(
            f"expected a quantity such as {_kinds_text(kinds)}, got a {type(raw).__name__}",
            f"write a number with its unit, e.g. {EXAMPLES[kinds[0]]}",
        )
    m = _QUANTITY.match(raw)
    if not m:
        raise UnitError(
            f"cannot read {raw!r} as a quantity",
            f"write a number with its unit, e.g. {_kinds_text(kinds)}",
        )
    number, unit = float(m.group(1)), m.group(2)
    if not math.isfinite(number):
        raise UnitError(f"{raw!r} is not a finite number", f"write e.g. {EXAMPLES[kinds[0]]}")
    if unit is None:
        if "count" in kinds:
            return Quantity(number, "count", raw.strip())
        raise UnitError(
            f"{raw!r} has no unit",
            f"write {m.group(1)}{_unit_of(kinds[0])} (units: {', '.join(_units_for(kinds))})",
        )
    if unit not in UNITS:
        raise UnitError(
            f"unknown unit {unit!r} in {raw!r}",
            f"use one of: {', '.join(_units_for(kinds))}",
        )
    kind, factor = UNITS[unit]
    if not math.isfinite(number * factor) or abs(number) > 1e15:
        raise UnitError(f"{raw!r} is too large", f"write e.g. {EXAMPLES[kinds[0]]}")
    if kind not in kinds:
        raise UnitError(
            f"{raw!r} is a {kind}, but a {' or '.join(kinds)} is needed here",
            f"write e.g. {_kinds_text(kinds)}",
        )
    return Quantity(number * factor, kind, raw.strip())


def parse_bound(raw: object, kinds: tuple[Kind, ...]) -> Bound:
    """Parse `< 200ms`, `>= 99.5%`, `> 50/s`."""
    if not isinstance(raw, str):
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            raise UnitError(
                f"{raw} has no comparison and no unit",
                f"write e.g. '< {_fmt(raw)}{_unit_of(kinds[0])}'",
            )
        raise UnitError(
            f"expected a bound such as '< {EXAMPLES[kinds[0]]}', got {raw!r}",
            f"write a comparison and a quantity, e.g. '< {EXAMPLES[kinds[0]]}'",
        )
    m = _BOUND.match(raw)
    if not m:
        raise UnitError(
            f"{raw!r} has no comparison",
            f"start with one of < <= > >= ==, e.g. '>= {raw.strip()}' (quote it in YAML "
            "when it starts with > or <)",
        )
    return Bound(m.group(1), parse_quantity(m.group(2), kinds))


def parse_ramp(raw: object, kinds: tuple[Kind, ...]) -> tuple[Quantity, Quantity]:
    """Parse `0 -> 50 users` or `10/s -> 200/s`; a bare start takes the end's unit."""
    if not isinstance(raw, str) or "->" not in raw:
        raise UnitError(
            f"expected a ramp such as '0 -> 50 users', got {raw!r}",
            "write START -> END with a unit, e.g. '0 -> 50 users' or '10/s -> 200/s'",
        )
    left, right = (p.strip() for p in raw.split("->", 1))
    end = parse_quantity(right, kinds)
    m = _QUANTITY.match(left)
    if m and m.group(2) is None:
        start = Quantity(float(m.group(1)) * _factor_of(end), end.kind, left)
    else:
        start = parse_quantity(left, kinds)
    if start.kind != end.kind:
        raise UnitError(
            f"ramp {raw!r} mixes {start.kind} and {end.kind}",
            "give both ends the same unit, e.g. '10 -> 50 users'",
        )
    return start, end


def parse_cap(raw: object, kinds: tuple[Kind, ...]) -> Quantity:
    """A level such as `50 users` where a bare integer is also clear (`users: 50`)."""
    if isinstance(raw, int) and not isinstance(raw, bool) and "users" in kinds:
        return Quantity(float(raw), "users", f"{raw} users")
    return parse_quantity(raw, kinds)


def _factor_of(q: Quantity) -> float:
    m = _QUANTITY.match(q.text)
    assert m is not None and m.group(2) is not None
    return UNITS[m.group(2)][1]


def _unit_of(kind: Kind) -> str:
    return {
        "duration": "ms",
        "percent": "%",
        "rate": "/s",
        "users": " users",
        "size": "MB",
        "ratio": "x",
        "count": "",
    }[kind]


def _units_for(kinds: tuple[Kind, ...]) -> list[str]:
    return [u for u, (k, _) in UNITS.items() if k in kinds and u not in ("µs", "user")]


def _fmt(number: float) -> str:
    try:
        return f"{number:g}"
    except OverflowError:  # an int beyond float range, shown shortened
        text = str(number)
        return text[:12] + "..." if len(text) > 12 else text


def format_value(value: float, kind: str) -> str:
    """Render a base-unit value for humans, in the unit a person expects."""
    if kind == "duration":
        if value < 1e-3:
            return f"{value * 1e6:.3g}µs"
        if value < 1:
            return f"{value * 1e3:.4g}ms"
        return f"{value:.4g}s"
    if kind == "percent":
        return f"{value * 100:.4g}%"
    if kind == "rate":
        return f"{value:.4g}/s"
    if kind == "users":
        return f"{value:g} users"
    if kind == "size":
        for unit, factor in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
            if value >= factor:
                return f"{value / factor:.4g}{unit}"
        return f"{value:g}B"
    if kind == "ratio":
        return f"{value:.4g}x"
    return f"{value:g}"


def parse_span(text: str) -> tuple[float, float | None]:
    """`0s..5s` -> (0, 5); `30s..` -> (30, None): a part of a run in time since its start."""
    head, sep, tail = text.partition("..")
    if not sep:
        raise UnitError(f"{text!r} is not a span", "write start..end, e.g. 0s..5s, or 30s.. to the end")
    start = parse_quantity(head.strip(), ("duration",)).value
    end = parse_quantity(tail.strip(), ("duration",)).value if tail.strip() else None
    if end is not None and end <= start:
        raise UnitError(f"span {text!r} ends before it starts", "write the earlier time first, e.g. 0s..5s")
    return start, end

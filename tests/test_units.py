"""Units: every quantity carries its unit; a bare number where one is needed says how to write it."""

from __future__ import annotations

import pytest

from perfspec.compiler.units import UnitError, format_value, parse_bound, parse_quantity, parse_ramp


@pytest.mark.parametrize(
    "text,kinds,value,kind",
    [
        ("150ms", ("duration",), 0.150, "duration"),
        ("1.5s", ("duration",), 1.5, "duration"),
        ("2m", ("duration",), 120.0, "duration"),
        ("250us", ("duration",), 0.00025, "duration"),
        ("99.5%", ("percent",), 0.995, "percent"),
        ("200/s", ("rate",), 200.0, "rate"),
        ("20/min", ("rate",), 20 / 60, "rate"),
        ("500 rps", ("rate",), 500.0, "rate"),
        ("50 users", ("users",), 50.0, "users"),
        ("200MB", ("size",), 200e6, "size"),
        ("1GiB", ("size",), 2**30, "size"),
        ("0.9x", ("ratio",), 0.9, "ratio"),
    ],
)
def test_quantity_parses_to_base_units(text, kinds, value, kind) -> None:
    q = parse_quantity(text, kinds)
    assert q.kind == kind
    assert q.value == pytest.approx(value)
    assert q.text == text


def test_bare_number_where_unit_needed_hints_the_spelling() -> None:
    with pytest.raises(UnitError) as exc:
        parse_quantity(15, ("duration",))  # `for: 15` of a profile: a length of time, in seconds
    assert "no unit" in str(exc.value)
    assert exc.value.hint.startswith("write 15s")
    with pytest.raises(UnitError) as exc:
        parse_bound("< 150", ("duration",))  # a latency bound: milliseconds
    assert exc.value.hint.startswith("write 150ms")


def test_bound_requires_comparison_and_holds_correctly() -> None:
    b = parse_bound("< 200ms", ("duration",))
    assert b.holds(0.199) and not b.holds(0.2)
    assert parse_bound(">= 99.5%", ("percent",)).holds(0.995)
    with pytest.raises(UnitError) as exc:
        parse_bound("200ms", ("duration",))
    assert "no comparison" in str(exc.value)


def test_ramp_start_takes_the_end_unit() -> None:
    start, end = parse_ramp("0 -> 50 users", ("users", "rate"))
    assert (start.value, end.value, end.kind) == (0, 50, "users")
    start, end = parse_ramp("10/s -> 200/s", ("users", "rate"))
    assert (start.value, end.value) == (10, 200)
    with pytest.raises(UnitError):
        parse_ramp("10 users -> 200/s", ("users", "rate"))


def test_format_value_is_human() -> None:
    assert format_value(0.0123, "duration") == "12.3ms"
    assert format_value(0.995, "percent") == "99.5%"
    assert format_value(200e6, "size") == "200MB"

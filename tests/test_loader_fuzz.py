"""Random YAML and random structures into the loader and validator: only spec errors come out."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from perfspec.compiler.errors import SpecFailure
from perfspec.compiler.validate import check_text

KEYS = st.sampled_from(
    [
        "version",
        "name",
        "http",
        "endpoints",
        "flows",
        "targets",
        "profiles",
        "select",
        "p95",
        "users",
        "for",
        "rate",
        "stages",
        "ramp",
        "sql",
        "queries",
        "get",
        "class",
        "tasks",
        "hosts",
        "url",
        "alerts",
        "ci",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["< 200ms", "50 users", "1 -> 2 users", "{x}", "${A:-b}", "200/s", "p99.9"]),
)
STRUCTURES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(KEYS, st.text(max_size=8)), inner, max_size=5)
    ),
    max_leaves=40,
)


def _only_spec_errors(text: str) -> None:
    try:
        check_text(text, "fuzz.yaml")
    except SpecFailure as exc:
        assert exc.errors, "a failure always carries at least one error"
        for e in exc.errors:
            assert e.line >= 1 and e.col >= 1 and e.message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text_yields_only_spec_errors(text: str) -> None:
    _only_spec_errors(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STRUCTURES)
@example({"[key]": None})  # a key spelled like pydantic's marker for key errors
@example({"hosts": {"[key]": {"url": 1}}})
def test_random_structures_yield_only_spec_errors(data) -> None:
    _only_spec_errors(yaml.safe_dump(data, allow_unicode=True))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, STRUCTURES, max_size=6))
def test_random_spec_shaped_structures_yield_only_spec_errors(data) -> None:
    data = {"version": 1, "name": "fuzz", **data}
    _only_spec_errors(yaml.safe_dump(data, allow_unicode=True))


def test_merge_key_laughs_are_bounded_and_overlapping_merges_are_legal() -> None:
    import time

    levels = ["a0: &a0 {x: 1, y: 2}"]
    for i in range(1, 10):
        refs = ", ".join(f"*a{i - 1}" for _ in range(9))
        levels.append(f"a{i}: &a{i} {{<<: [{refs}], k{i}: {i}}}")
    text = "version: 1\nname: laughs\n" + "\n".join(levels) + "\n"
    started = time.monotonic()
    try:
        check_text(text, "laughs.yaml")
    except SpecFailure as exc:
        assert all(e.line >= 1 for e in exc.errors)
    assert time.monotonic() - started < 5
    # two merged mappings sharing a key: the first wins, as YAML says; no duplicate-key error
    overlap = (
        "version: 1\nname: overlap\n"
        "x-a: &a {users: 2, for: 5s}\nx-b: &b {users: 9, description: b}\n"
        "profiles:\n  smoke: {<<: [*a, *b]}\n"
    )
    try:
        check_text(overlap, "overlap.yaml")
    except SpecFailure as exc:
        assert not [e for e in exc.errors if "duplicate key" in e.message], exc.errors
        assert not [e for e in exc.errors if "profiles" in e.message and "users" in e.message]

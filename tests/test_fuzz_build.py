"""Fuzzing the model: random values at every place of a spec that uses every backend. Whatever
the validator accepts must build with every backend and be judged by the checker without an
internal error; whatever it refuses is refused with a position. A few hundred cases in the suite;
PERFSPEC_FUZZ_EXAMPLES=10000 for the full run."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfspec.compiler.backends import all_backends
from perfspec.compiler.backends.targets import TargetsBackend
from perfspec.compiler.errors import SpecFailure
from perfspec.compiler.plan import build_plan
from perfspec.compiler.validate import check_text
from perfspec.runtime.checker import judge

BASE = Path(__file__).resolve().parent / "hostile" / "base.yaml"
EXAMPLES = int(os.environ.get("PERFSPEC_FUZZ_EXAMPLES", "300"))


def _base() -> dict:
    data = yaml.safe_load(BASE.read_text())
    data["ci"]["github"]["on"] = data["ci"]["github"].pop(True)  # YAML 1.1 reads `on:` as true
    return data


def _places(data: Any, path: tuple = ()) -> list[tuple]:
    out = [path] if path else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += _places(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _places(v, (*path, i))
    return out


PLACES = _places(_base())
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**18, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "0s",
            "0ms",
            "-1s",
            "1e400s",
            "0%",
            "100%",
            "101%",
            "0/s",
            "1/s",
            "0 users",
            "99999999999999999999 users",
            "< 0ms",
            "> 100%",
            "0 -> 0 users",
            "10/s -> 0/s",
            "p99.9",
            "0.0.0.0",
            "${X}",
            "{uuid}",
            "[]",
            "{}",
            "0",
            "-0",
            "1e309",
        ]
    ),
)
VALUES = st.one_of(
    SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=6), SCALARS, max_size=2)
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PLACES), VALUES), min_size=1, max_size=3))
def test_accepted_specs_build_and_judge_refused_ones_name_a_place(changes) -> None:
    data = _base()
    for path, value in changes:
        node = data
        try:
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = copy.deepcopy(value)
        except (KeyError, IndexError, TypeError):
            continue
    try:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, OverflowError):
        return
    try:
        checked = check_text(text, str(BASE))
    except SpecFailure as exc:
        assert exc.errors and all(e.line >= 1 and e.col >= 1 and e.message for e in exc.errors)
        return
    plan = build_plan(checked)
    for backend in all_backends().values():
        backend.emit(plan)
    import json

    [targets] = TargetsBackend().emit(plan)
    judge(json.loads(targets.content), [], {}, base=BASE.parent)


def test_the_unchanged_base_spec_is_accepted() -> None:
    """Else every fuzzed case would be refused and the test above would prove nothing."""
    check_text(yaml.safe_dump(_base(), allow_unicode=True, sort_keys=False), str(BASE))

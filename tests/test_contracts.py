"""The typed target contract (runtime/contracts.py): the compiler writes targets.json through
it and the judge reads it back into the same definitions, for every target form perfspec has."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfspec.compiler.backends.targets import TargetsBackend, contract
from perfspec.compiler.plan import build_plan
from perfspec.compiler.validate import check_file
from perfspec.runtime.contracts import TARGETS_FORMAT, ContractError, Target, TargetsFile

from .conftest import ROOT

SPECS = sorted(ROOT.glob("specs/*.yaml")) + sorted(
    p for p in ROOT.glob("tests/golden/*/spec.yaml") if not p.parent.name.startswith("refused_")
)


def compiled(spec: Path):
    plan = build_plan(check_file(spec))
    [art] = TargetsBackend().emit(plan)
    return plan, json.loads(art.content)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_target_round_trips_through_the_contract(spec: Path) -> None:
    plan, data = compiled(spec)
    read = TargetsFile.read(data)
    assert read.to_json() == data  # nothing lost, nothing added, on the way through the file
    assert read.targets == tuple(contract(plan, t) for t in plan.targets)  # what the compiler meant
    assert all(type(t) is Target for t in read.targets)


def test_the_shipped_specs_and_golden_cases_hold_every_target_form() -> None:
    forms: set[str] = set()
    for spec in SPECS:
        for t in TargetsFile.read(compiled(spec)[1]).targets:
            forms.add(t.kind)
            forms.update(
                name for name in ("during", "vs_rest", "regression", "window", "server") if getattr(t, name)
            )
            forms.update(f"severity:{st.severity}" for st in t.stats)
            forms.update(["merge_tools"] if t.merge_tools else [])
            forms.update(["ttfb"] if t.measure == "ttfb" else [])
            if t.external is not None:
                forms.add("promql" if t.external.promql else "json")
    assert forms >= {
        "measured", "scaling", "external", "during", "vs_rest", "regression", "window", "server",
        "severity:fail", "severity:warn", "merge_tools", "ttfb", "promql", "json",
    }  # fmt: skip


def test_another_format_or_a_broken_file_is_refused_by_name() -> None:
    _, data = compiled(ROOT / "specs" / "quickstart.yaml")
    with pytest.raises(
        ContractError, match=r"'perfspec-targets/1' is not 'perfspec-targets/2'.*perfspec build"
    ):
        TargetsFile.read({**data, "format": "perfspec-targets/1"})
    broken = {
        **data,
        "targets": [{k: v for k, v in data["targets"][0].items() if k != "stats"} | {"stats": [{}]}],
    }
    with pytest.raises(ContractError, match=f"not {TARGETS_FORMAT}: KeyError"):
        TargetsFile.read(broken)


def test_every_statistic_is_a_key_of_a_target_and_judged() -> None:
    """A new statistic is one entry in runtime/verdict.py (QUANTILES for a percentile) and a field
    of StatBounds (its spec key): this holds the two equal, and the judge measures it."""
    from perfspec.compiler.spec import STATS
    from perfspec.compiler.spec.targets import StatBounds
    from perfspec.runtime.measured import measure
    from perfspec.runtime.results import Series
    from perfspec.runtime.verdict import STAT_UNITS

    keys = {f.alias or name for name, f in StatBounds.model_fields.items()}
    assert keys == set(STATS) == set(STAT_UNITS)
    series = Series("k6", "http", "ping", "f", "0", count=1, elapsed=1.0)
    series.histogram.add(1_000_000)
    assert all(measure(stat, series, "latency")[0] is not None for stat in STATS)

"""Mutation fuzz of the shipped specs: random deletions, duplications and type swaps of their YAML
nodes. Whatever the validator accepts must plan, build with every backend and be judged without
an internal error; whatever it refuses is refused with a position. A seeded sample in the suite;
PERFSPEC_MUTATION_CASES=2000 (and PERFSPEC_MUTATION_SEED) for a larger run."""

from __future__ import annotations

import copy
import json
import os
import random
import traceback
from pathlib import Path
from typing import Any

import yaml

from perfspec.compiler.backends import all_backends
from perfspec.compiler.backends.targets import TargetsBackend
from perfspec.compiler.errors import SpecFailure
from perfspec.compiler.plan import build_plan
from perfspec.compiler.validate import check_text
from perfspec.runtime.checker import judge

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
CASES = int(os.environ.get("PERFSPEC_MUTATION_CASES", "300"))
SEED = int(os.environ.get("PERFSPEC_MUTATION_SEED", "20261207"))
SWAPS: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    "",
    "x",
    "0s",
    "150ms",
    "99%",
    "200/s",
    "< 1ms",
    [],
    {},
    [1],
    {"a": 1},
    {"int": "150ms"},
    "{uuid}",
    "${X}",
]


def _nodes(data: Any, path: tuple = ()) -> list[tuple]:
    out = [path] if path else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += _nodes(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _nodes(v, (*path, i))
    return out


def _mutate(data: Any, rng: random.Random) -> str:
    """One mutation of a random node; returns what it did (for the failure message)."""
    path = rng.choice(_nodes(data))
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    key = path[-1]
    what = rng.choice(("delete", "duplicate", "swap", "empty"))
    if what == "delete":
        del parent[key]
    elif what == "duplicate":
        if isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        else:
            sibling = rng.choice(list(parent))
            parent[key] = copy.deepcopy(parent[sibling])
    elif what == "swap":
        parent[key] = copy.deepcopy(rng.choice(SWAPS))
    else:
        parent[key] = type(parent[key])() if isinstance(parent[key], list | dict | str) else None
    return f"{what} {'.'.join(map(str, path))}"


def _run_case(spec: Path, rng: random.Random) -> str | None:
    """An internal error's description, or None."""
    data = yaml.safe_load(spec.read_text())
    done = [_mutate(data, rng) for _ in range(rng.randint(1, 3)) if _nodes(data)]
    try:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, OverflowError, RecursionError):
        return None
    try:
        try:
            checked = check_text(text, str(spec.relative_to(ROOT)))
        except SpecFailure as exc:
            assert exc.errors and all(e.line >= 1 and e.col >= 1 and e.message for e in exc.errors)
            return None
        plan = build_plan(checked)
        for backend in all_backends().values():
            backend.emit(plan)
        [targets] = TargetsBackend().emit(plan)
        judge(json.loads(targets.content), [], {}, base=ROOT)
    except Exception:  # noqa: BLE001 - every exception here is an internal error to report
        return f"{spec.name}: {'; '.join(done)}\n{traceback.format_exc(limit=-3)}"
    return None


def test_mutated_shipped_specs_never_cause_an_internal_error(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    rng = random.Random(SEED)
    errors = []
    for _ in range(CASES):
        found = _run_case(rng.choice(SPECS), rng)
        if found:
            errors.append(found)
    assert not errors, f"{len(errors)} internal errors in {CASES} cases (seed {SEED}):\n\n" + "\n\n".join(
        errors[:5]
    )

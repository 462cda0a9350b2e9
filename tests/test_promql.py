"""perfspec's PromQL syntax check agrees with promtool on what is an expression."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from perfspec.compiler.promql import PromQLError, check
from tests.conftest import require_tool
from tests.hostile.corpus import strings

VALID = [
    "sum(queue_depth)",
    "up == 1",
    "vector(1)",
    "1e3",
    "0x1f",
    "-x ^ 2 ^ 3",
    "(x)",
    "x offset -5m",
    'sum(rate(http_requests_total{job="api",status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
    "histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))",
    "sum(rate(x[5m])) by (job) > bool 0",
    "a / on(job) group_left(instance) b",
    "rate(x[5m:1m] offset 1h)",
    "x @ start()",
    "topk(3, x)",
    'count_values("v", x)',
    '{__name__="x"}',
    'x{a="b",}',
    "max_over_time(x[1h30m])",
    "sum without (a, b) (x)",
    "x and y unless z or w",
    "time() - process_start_time_seconds",
    "sum(x) # a comment",
    "max(container_memory_usage_bytes / container_spec_memory_limit_bytes)",
]
INVALID = [
    'x"',
    "up == 1 PWNMARK",
    "sum(",
    ",x",
    "x{a=b}",
    "x[5m]]",
    '"} or vector(1) #',
    "a $ b",
    "sum(x) by",
    'x{a="b"',
    ")",
    "rate(x[5m)",
    "x +",
    "sum by (le (x)",
]


def promtool_accepts(tmp_path: Path, exprs: list[str]) -> list[bool]:
    promtool = require_tool("promtool")
    files = []
    for i, expr in enumerate(exprs):
        path = tmp_path / f"r{i}.yml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [{"record": "r", "expr": expr}]}]}))
        files.append(path)
    out = []
    for path in files:  # one file per call: promtool stops at the first broken one
        proc = subprocess.run(
            [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
        )
        out.append(proc.returncode == 0)
    return out


def ours(expr: str) -> bool:
    try:
        check(expr)
        return True
    except PromQLError:
        return False


@pytest.mark.tools
def test_known_expressions_are_judged_as_promtool_judges_them(tmp_path: Path) -> None:
    exprs = VALID + INVALID
    theirs = promtool_accepts(tmp_path, exprs)
    assert theirs == [True] * len(VALID) + [False] * len(INVALID)  # the lists say what they claim
    assert [ours(e) for e in exprs] == theirs


@pytest.mark.tools
def test_hostile_strings_promtool_refuses_are_refused(tmp_path: Path) -> None:
    corpus = [s for s in strings() if "\x00" not in s][::5]
    theirs = promtool_accepts(tmp_path, corpus)
    # never more lenient than promtool: whatever it refuses, the spec check refuses too
    lenient = [s for s, ok in zip(corpus, theirs, strict=True) if not ok and ours(s)]
    assert not lenient, lenient[:10]


@pytest.mark.parametrize("expr", ["", "   "])
def test_an_empty_expression_is_refused(expr: str) -> None:
    assert not ours(expr)

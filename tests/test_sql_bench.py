"""The generated asyncpg benchmark, run for real against PostgreSQL with the seed-000 fixtures."""

from __future__ import annotations

import asyncio
import glob
import importlib.util
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfspec.compiler.backends.sql import SqlBackend
from perfspec.compiler.plan import build_plan
from perfspec.compiler.validate import check_file
from perfspec.runtime.histogram import Histogram
from perfspec.runtime.readers import read_file

from .conftest import ROOT

SEED000 = ROOT / "generated" / "temponest_validation" / "sql_bench.py"


def run_bench(
    script: Path, out: Path, *args: str, env: dict | None = None, timeout: float = 240
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(script), "--out", str(out), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def result(out: Path) -> dict:
    files = glob.glob(str(out / "sql-*.json"))
    assert len(files) == 1, files
    return json.loads(Path(files[0]).read_text())


@pytest.mark.tools
def test_seed000_query_classes_run_for_real(fresh_db: str, tmp_path: Path) -> None:
    # one query of each seed-000 class: simple, indexed, JOIN, aggregation, concurrent load
    only = (
        "health_check,agent_by_id,agents_by_tenant,agent_schedules,count_by_tenant,"
        "concurrent_light,concurrent_heavy"
    )
    proc = run_bench(SEED000, tmp_path, "--dsn", fresh_db, "--setup", "--only", only)
    assert proc.returncode == 0, proc.stderr
    doc = result(tmp_path)
    assert doc["server_version"] and doc["unit"] == "ns"
    assert "password" not in json.dumps(doc).lower()
    q = doc["queries"]
    expected = {  # query -> {workers: calls}, as seed 000 states them
        "health_check": {1: 1000},
        "agent_by_id": {1: 1000},
        "agents_by_tenant": {1: 1000},
        "agent_schedules": {1: 500},
        "count_by_tenant": {1: 500},
        "concurrent_light": {10: 200, 50: 1000},
        "concurrent_heavy": {100: 1000},
    }
    for name, levels in expected.items():
        assert {int(k) for k in q[name]["levels"]} == set(levels), name
        for workers, calls in levels.items():
            level = q[name]["levels"][str(workers)]
            assert level["count"] == calls and level["failures"] == 0, (name, level["errors"])
            assert sum(c for _, c in level["histogram"]) == calls
            assert level["throughput"] > 0 and level["elapsed"] > 0
            assert level["processes"] == min(os.cpu_count() or 1, workers)
    # plans were explained and the expectations hold on the fixtures
    assert q["agent_by_id"]["problems"] == [] and q["agents_by_tenant"]["problems"] == []
    assert any(n.get("Index Name") == "idx_agents_tenant" for n in q["agents_by_tenant"]["nodes"])
    # the reader gives one series per query and level, histograms in nanoseconds
    series = {(s.name, s.workers): s for s in read_file(Path(glob.glob(str(tmp_path / "sql-*.json"))[0]))}
    heavy = series[("concurrent_heavy", 100)]
    assert heavy.count == 1000 and heavy.histogram.total == 1000
    assert 0 < heavy.histogram.quantile(0.5) <= heavy.histogram.quantile(0.99) <= heavy.histogram.max()
    # 100 workers share a pool of 20: they wait for connections, and that wait is measured
    assert heavy.histogram.quantile(0.5) > series[("health_check", 1)].histogram.quantile(0.5)


@pytest.mark.tools
def test_dropped_index_fails_plan_assertion(fresh_db: str, tmp_path: Path) -> None:
    ok = run_bench(SEED000, tmp_path / "before", "--dsn", fresh_db, "--setup", "--only", "agents_by_tenant")
    assert ok.returncode == 0, ok.stderr

    async def drop() -> None:
        conn = await asyncpg.connect(fresh_db)
        await conn.execute("DROP INDEX idx_agents_tenant; ANALYZE agents")
        await conn.close()

    asyncio.run(drop())
    bad = run_bench(SEED000, tmp_path / "after", "--dsn", fresh_db, "--only", "agents_by_tenant")
    assert bad.returncode == 1
    assert "temponest_validation.yaml:" in bad.stderr
    assert "expected a scan using index idx_agents_tenant" in bad.stderr
    assert "Traceback" not in bad.stderr
    entry = result(tmp_path / "after")["queries"]["agents_by_tenant"]
    assert entry["problems"] and "Seq Scan on agents" in entry["problems"][0]
    assert entry["levels"]["1"]["count"] == 1000  # still measured: the plan is one more finding


def _errors_script(tmp_path: Path) -> Path:
    for art in SqlBackend().emit(build_plan(check_file(ROOT / "tests" / "specs" / "sql_errors.yaml"))):
        (tmp_path / art.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / art.path).write_text(art.content)
    return tmp_path / "sql_errors" / "sql_bench.py"


@pytest.mark.tools
def test_failing_queries_are_counted_and_named_never_a_crash(fresh_db: str, tmp_path: Path) -> None:
    script = _errors_script(tmp_path)
    proc = run_bench(script, tmp_path / "out", env={"PERFSPEC_TEST_BENCH_DSN": fresh_db})
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    for query, message in [
        ("syntax", 'syntax error at or near "SELEC"'),
        ("missing", 'relation "no_such_table" does not exist'),
        ("param_count", "the server expects 0 arguments for this query, 1 was passed"),
    ]:
        line = next(ln for ln in proc.stderr.splitlines() if f"query {query!r}" in ln)
        assert line.startswith("tests/specs/sql_errors.yaml:") and message in line, line
    q = result(tmp_path / "out")["queries"]
    assert q["fine"]["levels"]["1"]["count"] == 200 and q["fine"]["levels"]["1"]["failures"] == 0
    assert q["missing"]["levels"] == {} and "42P01" in q["missing"]["error"]
    for level in q["sometimes"]["levels"].values():  # 1 value in 10 divides by zero
        assert level["count"] == 200 and 0 < level["failures"] < 80
        assert list(level["errors"]) == ["22012: division by zero"]


@pytest.mark.tools
@pytest.mark.parametrize(
    "dsn, message",
    [
        ("postgresql://postgres@127.0.0.1:1/x", "Connection refused"),
        ("not a dsn", "invalid DSN"),
        ("postgresql://someone:s3cret@127.0.0.1:1/db", "postgresql://someone:***@127.0.0.1:1/db"),
    ],
)
def test_unreachable_or_bad_dsn_is_one_clear_message(tmp_path: Path, dsn: str, message: str) -> None:
    proc = run_bench(_errors_script(tmp_path), tmp_path / "out", "--dsn", dsn)
    assert proc.returncode == 2
    assert "cannot connect to database 'main' (tests/specs/sql_errors.yaml: databases.main)" in proc.stderr
    assert message in proc.stderr and "s3cret" not in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.tools
def test_missing_dsn_names_the_variable_and_the_spec_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PERFSPEC_TEST_BENCH_DSN"}
    proc = subprocess.run(
        [sys.executable, str(_errors_script(tmp_path))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "PERFSPEC_TEST_BENCH_DSN is not set" in proc.stderr
    assert "sql_errors.yaml: databases.main" in proc.stderr


# --- percentile accuracy --------------------------------------------------------------------


def _generated_histogram():
    spec = importlib.util.spec_from_file_location(
        "perfspec_histogram", SEED000.parent.parent / "perfspec_histogram.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Histogram


def exact(samples: list[int], q: float) -> int:
    ordered = sorted(samples)
    rank = max(1, -int(-q * len(ordered) // 1))
    return ordered[rank - 1]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32),
    st.sampled_from(["lognormal", "uniform", "bimodal", "heavy"]),
    st.integers(50, 20_000),
)
def test_histogram_percentiles_within_one_percent_of_sorted_samples(seed: int, shape: str, n: int) -> None:
    rng = random.Random(seed)
    draw = {
        "lognormal": lambda: rng.lognormvariate(12, 1.2),  # ~160 us median, long tail
        "uniform": lambda: rng.uniform(30_000, 5_000_000),
        "bimodal": lambda: rng.choice([rng.gauss(90_000, 5_000), rng.gauss(40e6, 3e6)]),
        "heavy": lambda: rng.paretovariate(1.1) * 50_000,
    }[shape]
    samples = [max(1, int(draw())) for _ in range(n)]
    # the generated benchmark records, two "processes" split the samples, the checker merges
    hist_a, hist_b = _generated_histogram()(), _generated_histogram()()
    for i, ns in enumerate(samples):
        (hist_a if i % 2 else hist_b).add(ns)
    merged = Histogram.from_pairs(hist_a.to_list()).merge(Histogram.from_pairs(hist_b.to_list()))
    assert merged.total == n
    for q in (0.5, 0.95, 0.99, 0.999):
        truth, got = exact(samples, q), merged.quantile(q)
        assert abs(got - truth) <= 0.01 * truth, (q, truth, got)
    assert merged.max() <= round(max(samples) * 1.005) and merged.quantile(0.99) <= merged.max()

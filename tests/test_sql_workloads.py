"""SQL workloads beyond one statement: pgbench's tpcb-like transaction through both engines (asyncpg
and pgbench itself), a mix measured per part, draws and expressions as pgbench computes them, an
open-model rate, serialization failures retried, and the per-table plan assertion."""

from __future__ import annotations

import asyncio
import collections
import glob
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from perfspec.runtime.support import perfspec_sql_pgbench as pgbench_engine
from perfspec.runtime.support import perfspec_sql_values as values

from .conftest import IN_CI, ROOT

PGBENCH = shutil.which("pgbench") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))), None)


@pytest.fixture
def pgbench() -> str:
    if PGBENCH is None:
        if IN_CI:
            pytest.fail("pgbench is missing: apt-get install postgresql-client")
        pytest.skip("pgbench is missing")
    return PGBENCH


def perfspec(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def build(spec_text: str, folder: Path, name: str = "spec") -> Path:
    """The spec written into `folder` (beside a copy of specs/sql) and built into folder/gen."""
    shutil.copytree(ROOT / "specs" / "sql", folder / "sql", dirs_exist_ok=True)
    (folder / f"{name}.yaml").write_text(spec_text)
    proc = perfspec("build", f"{name}.yaml", "--out", "gen", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return folder / "gen" / name.replace("-", "_") / "sql_bench.py"


def bench(
    script: Path, dsn: str, out: Path, *args: str, env_name: str = "PGBENCH_DSN"
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(script), "--out", str(out), *args],
        cwd=script.parent.parent.parent,
        env={**os.environ, env_name: dsn},
        capture_output=True,
        text=True,
        timeout=600,
    )


def results(out: Path) -> dict[str, dict]:
    """tool -> {query -> entry} of every result file in `out`."""
    found = {}
    for path in glob.glob(str(out / "*.json")):
        data = json.loads(Path(path).read_text())
        found[data["tool"]] = data["queries"]
    return found


async def fetchrow(dsn: str, sql: str) -> asyncpg.Record:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchrow(sql)
    finally:
        await conn.close()


async def execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.mark.tools
def test_tpcb_runs_through_both_engines_with_consistent_balances_and_every_mix_part_measured(
    fresh_db: str, pgbench: str, tmp_path: Path
) -> None:
    text = (ROOT / "specs" / "pgbench_tpcb.yaml").read_text().replace("duration: 5s", "duration: 2s")
    script = build(text, tmp_path, "pgbench_tpcb")
    proc = bench(script, fresh_db, tmp_path / "results", "--setup")
    assert proc.returncode == 0, proc.stderr
    found = results(tmp_path / "results")
    assert set(found) == {"sql", "pgbench"}  # the asyncpg engine's file and pgbench's
    for tool, queries in found.items():
        for name in ("tpcb", "lookup", "app", "app/lookup", "app/tpcb"):
            level = queries[name]["levels"]["4"]
            assert level["count"] > 100 and level["failures"] == 0, (tool, name, level)
        whole, parts = (
            queries["app"]["levels"]["4"],
            [queries[f"app/{p}"]["levels"]["4"] for p in ("lookup", "tpcb")],
        )
        assert sum(p["count"] for p in parts) == whole["count"]
        assert sum(n for _, n in whole["histogram"]) == whole["count"]
        reads, writes = parts[0]["count"], parts[1]["count"]
        assert 0.7 < reads / (reads + writes) < 0.9, (tool, reads, writes)  # weights 80:20
        assert queries["tpcb"]["problems"] == [] and len(queries["tpcb"]["nodes"]) >= 5
    # every transaction moved one delta through an account, a teller, a branch and the history
    row = asyncio.run(
        fetchrow(
            fresh_db,
            """
        SELECT (SELECT sum(abalance) FROM pgbench_accounts) AS accounts,
               (SELECT sum(bbalance) FROM pgbench_branches) AS branches,
               (SELECT sum(tbalance) FROM pgbench_tellers) AS tellers,
               (SELECT sum(delta) FROM pgbench_history) AS history,
               (SELECT count(*) FROM pgbench_history) AS transactions,
               (SELECT count(*) FROM pgbench_accounts) AS rows""",
        )
    )
    assert row["accounts"] == row["branches"] == row["tellers"] == row["history"]
    assert row["rows"] == 1_000_000  # scale 10
    committed = sum(q["levels"]["4"]["count"] for t in found.values() for q in (t["tpcb"], t["app/tpcb"]))
    assert row["transactions"] >= committed  # plus the warm-up's
    # the generated pgbench script is what a pgbench user writes by hand
    tpcb = (script.parent / "pgbench" / "tpcb.sql").read_text()
    assert "\\set aid random(1, 100000 * :scale)" in tpcb
    assert "BEGIN;\nUPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;" in tpcb
    # perfspec check judges each engine on its own
    check = perfspec(
        "check",
        str(tmp_path / "pgbench_tpcb.yaml"),
        str(tmp_path / "results"),
        "--report",
        str(tmp_path / "report"),
        cwd=tmp_path,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    verdicts = json.loads((tmp_path / "report" / "verdicts.json").read_text())
    shown = json.dumps(verdicts)
    assert "p95 (pgbench)" in shown and "p95 (asyncpg)" in shown


@pytest.mark.tools
def test_a_missing_index_fails_the_per_table_plan_assertion(
    fresh_db: str, pgbench: str, tmp_path: Path
) -> None:
    text = (ROOT / "specs" / "pgbench_tpcb.yaml").read_text().replace("duration: 5s", "duration: 1s")
    text = text.replace("scale: 10", "scale: 1")
    script = build(text, tmp_path, "pgbench_tpcb")
    assert bench(script, fresh_db, tmp_path / "ok", "--setup", "--only", "lookup").returncode == 0
    asyncio.run(execute(fresh_db, "ALTER TABLE pgbench_accounts DROP CONSTRAINT pgbench_accounts_pkey"))
    proc = bench(script, fresh_db, tmp_path / "bad", "--only", "lookup")
    assert proc.returncode == 1
    assert "expected pgbench_accounts read by an index only" in proc.stderr, proc.stderr
    assert "Seq Scan on pgbench_accounts" in proc.stderr
    check = perfspec(
        "check",
        str(tmp_path / "pgbench_tpcb.yaml"),
        str(tmp_path / "bad"),
        "--report",
        str(tmp_path / "report"),
        cwd=tmp_path,
    )
    assert check.returncode == 1
    reasons = [
        r for v in json.loads((tmp_path / "report" / "verdicts.json").read_text()) for r in v["reasons"]
    ]
    assert any("plan of lookup: expected pgbench_accounts read by an index only" in r for r in reasons)


RETRY_SPEC = """\
version: 1
name: retry
databases:
  main: {dsn: "${PGBENCH_DSN}", pool: {min_size: 4, max_size: 4}}
sql:
  database: main
  defaults: {warmup: 0, concurrency: [4]}
  queries:
    bump:
      isolation: repeatable_read
      retries: %(retries)d
      iterations: 400
      engine: %(engine)s
      steps:
        - {sql: "SELECT n FROM counter WHERE id = 1", returns: [n]}
        - {sql: "UPDATE counter SET n = n + 1 WHERE id = 1"}
"""


@pytest.mark.tools
@pytest.mark.parametrize("engine", ["asyncpg", "pgbench"])
def test_serialization_failures_are_retried_and_counted_by_sqlstate(
    fresh_db: str, pgbench: str, tmp_path: Path, engine: str
) -> None:
    """Four workers bump one row under REPEATABLE READ: concurrent updates fail with 40001. With
    retries each failure is retried (and counted); without, it fails the call with its SQLSTATE.
    Every committed transaction added exactly one."""
    failures = {}
    for retries in (0, 20):
        asyncio.run(
            execute(
                fresh_db,
                "DROP TABLE IF EXISTS counter; CREATE TABLE counter (id int PRIMARY KEY, n int);"
                "INSERT INTO counter VALUES (1, 0)",
            )
        )
        script = build(RETRY_SPEC % {"retries": retries, "engine": engine}, tmp_path / f"r{retries}", "retry")
        out = tmp_path / f"out{retries}"
        proc = bench(script, fresh_db, out)
        level = next(iter(results(out).values()))["bump"]["levels"]["4"]
        n = asyncio.run(fetchrow(fresh_db, "SELECT n FROM counter"))["n"]
        assert n == level["count"] - level["failures"], (level, n)
        failures[retries] = level["failures"]
        if retries:
            assert sum(level["retried"].values()) > 0, level
            # contention this hard can exhaust even 20 tries now and then (and says so)
            assert level["failures"] <= failures[0] / 5, (failures, level)
            assert proc.returncode == (1 if level["failures"] else 0), proc.stderr
        else:
            assert proc.returncode == 1 and level["failures"] > 10, level
            assert any(key.startswith("40001") for key in level["errors"]), level["errors"]
            assert "retried" not in level


RATE_SPEC = """\
version: 1
name: rate
databases:
  main: {dsn: "${PGBENCH_DSN}"}
sql:
  database: main
  queries:
    paced: {sql: "SELECT pg_sleep(0.001)", rate: 200/s, duration: 2s, concurrency: [4], warmup: 0,
            engine: both}
"""


@pytest.mark.tools
def test_an_open_model_rate_is_kept_by_both_engines(fresh_db: str, pgbench: str, tmp_path: Path) -> None:
    script = build(RATE_SPEC, tmp_path)
    proc = bench(script, fresh_db, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    for tool, queries in results(tmp_path / "out").items():
        level = queries["paced"]["levels"]["4"]
        assert 320 <= level["count"] <= 440, (tool, level["count"])  # 200/s for 2 s
        assert 170 <= level["throughput"] <= 230, (tool, level["throughput"])


def test_expressions_compute_as_pgbench_does() -> None:
    tree = values.parse("(aid - 1) / 100000 + 1")
    assert values.names(tree) == {"aid"}
    assert values.evaluate(tree, {"aid": 1}) == 1 and values.evaluate(tree, {"aid": 100001}) == 2
    assert values.evaluate(values.parse("-7 / 2"), {}) == -3  # truncates toward zero, as C
    assert values.evaluate(values.parse("-7 % 3"), {}) == -1  # the dividend's sign
    assert values.pgbench(values.parse("100000 * scale")) == "(100000 * :scale)"
    for hostile in ("__import__('os').system('id')", "aid.real", "2 ** 64", "[1][0]", "aid if 1 else 2"):
        with pytest.raises(values.ExprError):
            values.parse(hostile)


def test_draws_follow_pgbench_distributions() -> None:
    rng = random.Random(7)
    n = 20_000
    zipf = collections.Counter(values.zipfian(rng, 1, 1000, 1.1) for _ in range(n))
    assert min(zipf) >= 1 and max(zipf) <= 1000
    assert zipf[1] > zipf[2] > zipf[10] and zipf[1] > 0.1 * n  # the first key is the hottest
    expo = [values.exponential(rng, 1, 100, 5.0) for _ in range(n)]
    assert all(1 <= x <= 100 for x in expo) and sum(x <= 20 for x in expo) > 0.6 * n
    gauss = [values.gaussian(rng, 1, 100, 5.0) for _ in range(n)]
    assert all(1 <= x <= 100 for x in gauss) and 48 < sum(gauss) / n < 53
    assert sum(40 <= x <= 60 for x in gauss) > 0.6 * n  # within +-1 sd of 10 (param 5: sd = range / 10)


def test_the_dsn_reaches_pgbench_through_libpq_environment_only() -> None:
    env = pgbench_engine.dsn_env("postgresql://bench:s3cret%21@db.example:6543/bank?sslmode=require")
    assert env == {
        "PGUSER": "bench",
        "PGPASSWORD": "s3cret!",
        "PGHOST": "db.example",
        "PGPORT": "6543",
        "PGDATABASE": "bank",
        "PGSSLMODE": "require",
    }
    assert pgbench_engine.dsn_env("postgresql://postgres:@/postgres?host=/tmp/sock") == {
        "PGUSER": "postgres",
        "PGDATABASE": "postgres",
        "PGHOST": "/tmp/sock",
    }
    assert pgbench_engine.dsn_env("host=h port=5 dbname=d user=u password=p")["PGPASSWORD"] == "p"
    with pytest.raises(values.BadInput):
        pgbench_engine.dsn_env("postgresql://h/d?weird_option=1")
    q = {"prepared": True, "pgbench": [["pgbench/q.sql", 1]], "retries": 2}
    cmd = pgbench_engine.command(q, 4, 2, "/gen/x", 10)
    assert "s3cret" not in " ".join(cmd) and cmd[-2:] == ["-f", "/gen/x/pgbench/q.sql@1"]
    assert cmd[cmd.index("-c") + 1] == "4" and cmd[cmd.index("-j") + 1] == "2"
    assert cmd[cmd.index("--max-tries") + 1] == "3" and cmd[cmd.index("-s") + 1] == "10"


@pytest.mark.tools
def test_explain_says_what_each_query_runs_and_which_engine_measures_it() -> None:
    proc = perfspec("explain", "specs/pgbench_tpcb.yaml", env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "transaction of 5 statements, 3 retries" in out and "mix: lookup 80%, tpcb 20%" in out
    assert "asyncpg and pgbench, each judged on its own" in out
    assert "index scan on pgbench_accounts" in out
    assert "generated/pgbench_tpcb/pgbench/tpcb.sql" in out and "pgbench custom script" in out

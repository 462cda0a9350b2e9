"""Regression targets judged against the run history (#35): the statistics, which runs count,
the verdict's words, change points, the history's stores and the reports' history parts."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from perfspec.runtime.changes import change_points, edivisive
from perfspec.runtime.checker import judge
from perfspec.runtime.contracts import Against, Bound, StatBound, Target, TargetsFile
from perfspec.runtime.histogram import Histogram
from perfspec.runtime.history_store import FileStore, HistoryError, Record, summary
from perfspec.runtime.regression import compare
from perfspec.runtime.reports import html_report, markdown
from perfspec.runtime.results import Series
from perfspec.runtime.timeline import Timeline
from perfspec.runtime.trend import trends

from .inprocess import perfspec


def series(median_ms: float, seed: int, n: int = 3000, tool: str = "k6") -> Series:
    """One run's samples of endpoint `agents`: log-normal latency around `median_ms`."""
    rng = random.Random(seed)
    s = Series(tool, "http", "agents", f"{tool}.ndjson", "one", profile="smoke")
    slots = []
    for sec in range(10):
        h = Histogram()
        for _ in range(n // 10):
            h.add(int(rng.lognormvariate(0, 0.3) * median_ms * 1e6))
        slots.append((sec, n // 10, 0, h))
        s.histogram.merge(h)
    s.timeline = Timeline.from_slots(slots)
    s.count, s.elapsed = n, 10.0
    return s


def targets(against: Against | None = None) -> TargetsFile:
    bound = StatBound(op="<", value=1.0, text="< 1s", stat="p95", severity="fail", line=3)
    rule = Bound(op="<", value=0.10, text="< +10%")
    t = Target(
        index=0,
        name="agents",
        kind="measured",
        line=3,
        endpoints=("agents",),
        stats=(bound,),
        regression={"p95": rule},
        against=against,
    )
    return TargetsFile(spec="s.yaml", name="s", targets=(t,))


def history(medians: list[float], **kw) -> list[Record]:
    """A record per earlier run, as `perfspec run` keeps it."""
    out = []
    for i, median in enumerate(medians):
        manifest = {"run_id": f"run{i:02d}", "spec": "s.yaml", "profile": "smoke", "started": 1000.0 + i}
        manifest.update(kw)
        out.append(summary(targets(), [series(median, seed=i)], manifest, [], passed=True))
    return out


def judged(now: Series, records: list[Record], against: Against | None = None):
    [v] = judge(targets(against), [now], {"run_id": "now", "profile": "smoke"}, history=records)
    return v


def test_an_a_a_run_passes_and_a_run_50_percent_slower_fails_with_the_size_of_the_change() -> None:
    records = history([20.0] * 5)
    same = judged(series(20.0, seed=99), records)
    assert same.status == "pass", same.message()
    assert "vs last 5 runs: within noise" in same.message()
    slower = judged(series(30.0, seed=98), records)
    assert slower.status == "fail"
    [line] = [r for r in slower.reasons if "vs last 5 runs" in r]
    change = float(line.split(" ")[1])
    assert 45 < change < 55, line  # p95 +50 %, said with its interval and the bound
    assert "90 % CI +" in line and line.endswith("fail (bound < +10%)")


def test_too_little_history_is_a_warn_saying_how_much_there_is() -> None:
    v = judged(series(20.0, seed=1), history([20.0] * 2))
    assert v.status == "warn"
    assert "not judged against history: 2 comparable runs (3 needed" in v.message()


def test_only_passing_runs_of_the_same_profile_and_the_chosen_branch_count_and_only_the_last_n() -> None:
    records = history([20.0] * 3, branch="main") + history([30.0] * 3, branch="feature")
    for i, r in enumerate(records):
        r.run_id, r.started = f"r{i}", 2000.0 + i
    slow = history([40.0])[0]
    slow.passed = False  # a failed run never becomes the norm
    other = history([40.0])[0]
    other.profile = "peak"
    records += [slow, other]
    on_main = judged(series(20.0, seed=7), records, Against(last=5, branch="main"))
    assert on_main.status == "pass" and "vs last 3 runs of main: within noise" in on_main.message()
    # the last 3 runs of any branch are feature's 30 ms: 20 ms is a significant improvement, a pass
    latest = judged(series(20.0, seed=7), records, Against(last=3))
    assert latest.status == "pass" and "within the bound" in latest.message() and "-3" in latest.message()


def test_the_interval_widens_with_fewer_runs_and_with_a_noisy_history() -> None:
    steady = compare(1.05, 0.0, [1.0, 1.0, 1.0, 1.0, 1.0])
    assert steady.significant  # below the histogram's resolution nothing is noise... but 5 % is not
    noisy = compare(1.05, 0.0, [0.9, 1.1, 0.95, 1.05, 1.0])
    assert not noisy.significant and noisy.low < 0 < noisy.high
    few = compare(1.05, 0.0, [0.98, 1.02, 1.0])
    many = compare(1.05, 0.0, [0.98, 1.02, 1.0] * 4)
    assert few.high - few.low > many.high - many.low


def test_e_divisive_finds_known_shifts_and_none_in_noise() -> None:
    rng = random.Random(3)
    one = [rng.gauss(100, 3) for _ in range(12)] + [rng.gauss(130, 3) for _ in range(8)]
    assert edivisive(one) == [12]
    two = [rng.gauss(100, 3) for _ in range(10)] + [rng.gauss(120, 3) for _ in range(10)]
    two += [rng.gauss(90, 3) for _ in range(10)]
    assert edivisive(two) == [10, 20]
    assert edivisive([rng.gauss(100, 3) for _ in range(30)]) == []


def test_a_change_point_names_its_run_commit_and_size(tmp_path: Path) -> None:
    records = history([20.0] * 8 + [26.0] * 6, commit="abc1234")
    points = [(r, r.value("agents", "k6", "p95")) for r in records]
    [found] = change_points(points)
    assert found.run_id == "run08" and found.commit == "abc1234"
    assert 0.25 < found.size < 0.35
    assert found.text("p95").startswith(f"{found.size * 100:+.1f} % from run run08 (commit abc1234, ")


def test_history_files_round_trip_and_a_foreign_file_is_refused_by_name(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    for r in history([20.0, 21.0]):
        store.add(r)
    again = store.records("s.yaml")
    assert [r.run_id for r in again] == ["run00", "run01"]
    assert again[1].value("agents", "k6", "p95") == history([20.0, 21.0])[1].value("agents", "k6", "p95")
    assert (tmp_path / "run00" / "history.json").stat().st_size < 20_000  # small: no raw samples
    (tmp_path / "run02").mkdir()
    (tmp_path / "run02" / "history.json").write_text('{"format": "other/9"}')
    with pytest.raises(HistoryError, match="run02/history.json: not a perfspec-history/1 record"):
        store.records()


def test_reports_show_this_run_against_its_history_with_its_change_point() -> None:
    records = history([20.0] * 8)
    now = history([30.0])[0]
    now.run_id = "now"
    found = trends(targets(), records, now)
    [tr] = found
    v = judged(series(30.0, seed=0), records)
    md = markdown([v], [], found)
    assert "| vs history |" in md
    assert "p95 " in tr.cell() and "(median of last 5): +" in tr.cell()
    page = html_report([v], "t", history=found)
    assert "<h2>History</h2>" in page and "this run" in page
    shifted = history([20.0] * 8 + [30.0] * 4)
    now2 = shifted.pop()
    [tr2] = trends(targets(), shifted, now2)
    assert [c.run_id for c in tr2.changes] == ["run08"]
    assert "change point: +" in html_report([v], "t", history=[tr2])


def test_validation_says_where_against_and_abort_do_not_apply(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "s.yaml").write_text(
        "version: 1\nname: s\nhosts: {h: {url: 'http://127.0.0.1:1'}}\nhttp:\n  defaults: {host: h}\n"
        "  endpoints: {a: {get: /a}}\nprofiles: {smoke: {users: 1, for: 1s}}\ntargets:\n"
        "  - {name: t, select: {endpoint: a}, p95: < 1s, against: {last: 3}}\n"
        "  - {name: u, select: {endpoint: a}, throughput: '> 1/s', abort: {after: 5s}}\n"
    )
    result = perfspec("validate", "s.yaml", cwd=tmp_path)
    assert result.code == 2
    assert "s.yaml:9" in result.stderr
    assert "against says which runs a regression compares with" in result.stderr
    assert "s.yaml:10" in result.stderr and "abort cannot watch throughput" in result.stderr


SPEC = """\
version: 1
name: histdemo
hosts:
  demo: {url: "${API_URL}"}
http:
  defaults: {host: demo}
  endpoints:
    agents: {get: /api/v1/agents}
profiles:
  smoke: {users: 5, spawn_rate: 50/s, for: 2s}
targets:
  - {name: agents, select: {endpoint: agents}, p95: < 1s, regression: {p95: "< +10%"}}
"""


@pytest.mark.tools
@pytest.mark.alone  # a comparison of runs: beside the slow tier, an A/A run measured +28 % (CI load)
def test_after_five_equal_runs_an_a_a_run_passes_and_a_50_percent_slower_run_fails(tmp_path: Path) -> None:
    """Real k6 runs of the embedded demo target with 50 ms injected (the demo's own time and the
    machine's jitter small beside it), no --baseline anywhere; then 75 ms."""
    import subprocess
    import sys

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "s.yaml").write_text(SPEC)

    def run(latency: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "perfspec.compiler.cli", "run", "s.yaml", "--only", "k6"]
        return subprocess.run(
            [*cmd, "--demo-latency", latency], cwd=tmp_path, capture_output=True, text=True, timeout=180
        )

    for _ in range(5):
        first = run("50ms")
        assert first.returncode == 0, first.stdout + first.stderr
    text = " ".join(first.stdout.replace("│", " ").split())
    assert "vs last 4 runs: within" in text, text  # the fifth run is judged against the four before
    same = run("50ms")
    text = " ".join(same.stdout.replace("│", " ").split())
    # within noise, or (a history of near-identical runs) a significant change within the bound
    assert same.returncode == 0 and "PASS" in text and "vs last 5 runs: within" in text, text
    slower = run("75ms")
    text = " ".join(slower.stdout.replace("│", " ").split())
    assert slower.returncode == 1 and "FAIL" in text, text
    change = float(text.split("p95 change ")[1].split("%")[0])
    assert 35 < change < 60, text  # 50 ms + the demo's own ~1 ms -> 75 ms + 1 ms: about +49 %
    assert "vs last 5 runs: fail (bound < +10%)" in text
    summaries = sorted(tmp_path.glob("results/*/summary.md"))
    assert "| vs history |" in summaries[-1].read_text()
    changes = subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", "history", "s.yaml", "--changes"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert changes.returncode == 0 and "change points in 7 runs of s.yaml" in changes.stdout, changes.stderr


@pytest.mark.tools
def test_a_postgresql_history_holds_and_judges_the_same_as_files(fresh_db: str, tmp_path: Path) -> None:
    from perfspec.runtime.history_store import open_store

    files, table = open_store(tmp_path), open_store(fresh_db)
    for r in history([20.0] * 5, branch="main", commit="abc1234"):
        files.add(r)
        table.add(r)
    table.add(history([20.0], branch="main", commit="abc1234")[0])  # the same run again: replaced
    again = open_store(fresh_db)  # the migration has run: a second store opens the same table
    assert [r.to_json() for r in again.records("s.yaml")] == [r.to_json() for r in files.records("s.yaml")]
    assert again.records("other.yaml") == []
    for now in (series(20.0, seed=50), series(30.0, seed=51)):
        a, b = judged(now, files.records()), judged(now, again.records())
        assert (a.status, a.reasons) == (b.status, b.reasons)


ABORTING = """\
version: 1
name: aborting
hosts:
  demo: {url: "${API_URL}"}
http:
  defaults: {host: demo}
  endpoints:
    agents: {get: /api/v1/agents}
    health: {get: /health}
profiles:
  smoke: {users: 5, spawn_rate: 50/s, for: 60s}
targets:
  - {name: agents, select: {endpoint: agents}, p95: < 5ms, abort: {after: 2s}}
  - {name: health, select: {endpoint: health}, p95: < 1s, abort: {after: 2s}}
"""


@pytest.mark.tools
@pytest.mark.parametrize("tool", ["locust", "k6"])
def test_a_lost_target_stops_the_run_early_in_both_tools_and_the_verdict_says_why(
    tool: str, tmp_path: Path
) -> None:
    """The demo answers /api/v1/agents in 30 ms against a 5 ms bound: a 60 s profile stops within
    seconds of the 2 s delay; /health keeps its bound and stops nothing."""
    import subprocess
    import sys
    import time

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "s.yaml").write_text(ABORTING)
    started = time.monotonic()
    cmd = [sys.executable, "-m", "perfspec.compiler.cli", "run", "s.yaml", "--only", tool]
    proc = subprocess.run(
        [*cmd, "--demo-latency", "30ms"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    took = time.monotonic() - started
    text = " ".join(proc.stdout.replace("│", " ").split())
    assert proc.returncode == 1, text
    assert took < 40, f"the 60 s profile ran {took:.0f}s: not stopped early"
    if tool == "locust":
        assert "locust run aborted: stopped after" in text
        assert "by the abort rule of target agents (after 2s): p95" in text and "broke < 5ms" in text
    else:
        assert "k6 run aborted: stopped after" in text and "by a target's abort rule" in text
        assert "'http_req_duration{name:agents}' were crossed (abortOnFail)" in text
    assert "target health" not in text  # its bound held: it stopped nothing


@pytest.mark.tools  # importing the support module imports Locust, which monkey-patches with gevent
def test_the_locust_abort_rule_names_the_first_bound_the_samples_so_far_break() -> None:
    from perfspec.runtime.support.perfspec_locust_results import Histogram, lost

    seen = Histogram()
    seen.extend([10_000] * 90 + [40_000] * 10)  # microseconds: p95 40 ms
    rule = {"bounds": [["p50", "<", 0.02, "< 20ms"], ["p95", "<", 0.03, "< 30ms"]]}
    assert lost(rule, seen, 100, 0) == "p95 40.0ms broke < 30ms"
    errors = {"bounds": [["error_rate", "<", 0.01, "< 1%"]]}
    assert lost(errors, seen, 100, 5) == "error_rate 5.00% broke < 1%"
    assert lost(errors, seen, 100, 0) is None

"""k6's samples streamed through a pipe (#33): the default `perfspec run` keeps per-second
histograms, a few bytes a request, equal to what the file of every sample says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from perfspec.runtime import tools
from perfspec.runtime.k6_stream import Stream
from perfspec.runtime.readers import read_file

from .conftest import require_tool
from .demo import demo_target

pytestmark = pytest.mark.tools

SCRIPT = """\
import http from "k6/http";
export const options = {vus: 8, duration: "4s"};
export default function () {
  http.get(`${__ENV.API_URL}/api/v1/agents`, {tags: {name: "agents"}});
  http.get(`${__ENV.API_URL}/health`, {tags: {name: "health"}});
}
"""


def test_the_stream_holds_exactly_the_histograms_of_the_file_of_every_sample(tmp_path: Path) -> None:
    """One k6 run with two outputs, the pipe and a file: the same samples, read once as k6 wrote
    them and once afterwards, give the same per-second histograms; the demo's 20 ms shows."""
    k6 = require_tool("k6")
    (tmp_path / "t.js").write_text(SCRIPT)
    stream = Stream(tmp_path / "k6-histograms.json")
    with demo_target("--latency", "20ms") as url:
        proc = subprocess.run(
            [k6, "run", "--quiet", "--out", stream.arg, "--out", f"json={tmp_path / 'k6.ndjson'}", "t.js"],
            cwd=tmp_path,
            env={"API_URL": url, "K6_NO_USAGE_REPORT": "true", "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    stream.close()
    streamed = {s.name: s for s in read_file(tmp_path / "k6-histograms.json")}
    stored = {s.name: s for s in read_file(tmp_path / "k6.ndjson")}
    assert set(streamed) == set(stored) == {"agents", "health"}
    for name, s in stored.items():
        t = streamed[name]
        assert (t.count, t.failures, t.statuses) == (s.count, s.failures, s.statuses)
        assert t.histogram.to_pairs() == s.histogram.to_pairs()
        assert [(a, c, f, h.to_pairs()) for a, c, f, h in t.timeline] == [
            (a, c, f, h.to_pairs()) for a, c, f, h in s.timeline
        ]
        assert t.elapsed == pytest.approx(s.elapsed)
    p95 = stored["agents"].histogram.quantile(0.95) / 1e6
    assert 20 <= p95 < 40, p95  # the injected 20 ms, and the demo's own time
    size = (tmp_path / "k6-histograms.json").stat().st_size
    requests = sum(s.count for s in stored.values())
    assert size / requests < (tmp_path / "k6.ndjson").stat().st_size / requests / 100


@pytest.mark.slow
def test_a_default_run_leaves_a_few_bytes_of_results_per_request(tmp_path: Path) -> None:
    """A max-rate closed profile (no think time) under `perfspec run --only k6`: no file of
    samples, the results folder under 50 bytes a request, the verdict from the stream."""
    assert tools.path("k6")
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "s.yaml").write_text(
        "version: 1\nname: s\nhosts: {demo: {url: '${API_URL}'}}\nhttp:\n  defaults: {host: demo}\n"
        "  endpoints: {health: {get: /health}}\nprofiles: {max: {users: 10, for: 20s}}\n"
        "targets:\n  - {name: health, select: {endpoint: health}, p95: < 1s}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", "run", "s.yaml", "--only", "k6"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [run] = list((tmp_path / "results").iterdir())
    files = sorted(p.name for p in (run / "results").iterdir())
    assert files == ["k6-histograms.json", "k6-summary.json"] or files == ["k6-histograms.json"], files
    [series] = read_file(run / "results" / "k6-histograms.json")
    size = sum(p.stat().st_size for p in (run / "results").iterdir())
    assert series.count > 20_000, series.count  # max rate: thousands a second
    assert size / series.count <= 50, f"{size} bytes for {series.count} requests"


def test_the_stream_works_in_a_process_gevent_patched(tmp_path: Path) -> None:
    """Locust's import monkey-patches threading and os.close with gevent (a test process that
    imported it hung the suite on a green reader blocked in the pipe): the stream uses the
    operating system's own thread, lock and close."""
    code = (
        "import locust, sys\n"
        "from pathlib import Path\n"
        "from perfspec.runtime.k6_stream import Stream\n"
        "s = Stream(Path(sys.argv[1]) / 'a.json')\n"
        "with open(s.pipe, 'w') as w:\n"
        '    w.write(\'{"metric":"http_req_duration","type":"Point","data":{"time":\'\n'
        '            \'"2026-11-23T08:00:01.5Z","value":12.5,"tags":{"name":"a","status":"200"}}}\\n\')\n'
        "print(s.close(timeout=10)['series']['a']['count'])\n"
        "print(Stream(Path(sys.argv[1]) / 'b.json').close(timeout=10)['series'])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout.split() == ["1", "{}"], proc.stdout + proc.stderr[-2000:]

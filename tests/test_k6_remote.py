"""k6 results of constant size (`--k6-output prometheus`): k6's own remote-write output into a real
Prometheus with native histograms, read back per second. One k6 run writes both outputs, so the
histograms read back are compared with every sample of the same requests."""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading
import time
from pathlib import Path

import pytest

from perfspec.runtime import k6_remote
from perfspec.runtime.prometheus import embedded
from perfspec.runtime.readers import read_file

from .conftest import require_tool
from .servers.json_api import json_server
from .test_check import perfspec, verdicts_of
from .test_real_servers import build

SPEC = """\
version: 1
name: remote
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    fast: {get: /fast}
    spread: {get: /spread}
    flaky: {get: /flaky, expect: {status: [200]}}
profiles:
  smoke: {users: 4, for: 4s}
targets:
  - {name: spread, select: {endpoint: spread}, p95: < 2s}
"""


def answer(method: str, path: str, _body: bytes) -> tuple[int, object, dict]:
    if path == "/spread":  # latencies from 1 to 30 ms: many buckets
        time.sleep(random.uniform(0.001, 0.03))
    if path == "/flaky":
        with LOCK:
            COUNTS["flaky"] += 1
            if COUNTS["flaky"] % 4 == 0:
                return 500, {"error": "every fourth call"}, {}
    return 200, {"ok": True}, {}


LOCK = threading.Lock()
COUNTS = {"flaky": 0}


@pytest.mark.tools
def test_remote_written_histograms_match_every_sample_of_the_same_run(tmp_path: Path) -> None:
    k6 = require_tool("k6")
    require_tool("prometheus")
    spec = tmp_path / "remote.yaml"
    spec.write_text(SPEC)
    folder = build(spec, tmp_path / "gen", only=("k6",))
    ndjson, hist = tmp_path / "k6.ndjson", tmp_path / k6_remote.RESULT
    with embedded(None, receiver=True) as prom, json_server(answer) as url:
        env = {
            **os.environ,
            **k6_remote.k6_env(prom),
            "API_URL": url,
            "K6_NO_USAGE_REPORT": "true",
            "PERFSPEC_RESULTS_DIR": str(tmp_path),
        }
        started = time.time()
        proc = subprocess.run(
            [
                k6,
                "run",
                "--quiet",
                "--out",
                f"json={ndjson}",
                *k6_remote.k6_args("t1"),
                str(folder / "k6.js"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        doc = k6_remote.collect(prom, "t1", started, hist)
        # another test id in the same Prometheus is another run: nothing of this one
        assert k6_remote.collect(prom, "other", started, tmp_path / "none.json", settle=1)["series"] == {}
    exact = {s.name: s for s in read_file(ndjson)}
    read_back = {s.name: s for s in read_file(hist)}
    assert set(read_back) == set(exact) == {"fast", "spread", "flaky"}
    for name, s in exact.items():
        r = read_back[name]
        assert s.count > 50
        assert (r.count, r.failures, r.errors) == (s.count, s.failures, s.errors), name
        assert r.statuses == s.statuses, name
        assert sum(c for _, c, _, _ in r.timeline) == r.count  # the per-second timeline holds every request
        for q in (0.5, 0.95, 0.99, 1.0):
            a, b = r.histogram.quantile(q), s.histogram.quantile(q)
            assert abs(a - b) <= 0.05 * b, (name, q, a, b)  # a bucket's middle: within 4.4% (+ 3 digits)
    assert read_back["flaky"].errors == {"HTTP 500": exact["flaky"].failures} and exact["flaky"].failures > 10
    assert doc["resolution"] == 0.0443
    requests = sum(s.count for s in exact.values())
    per_request = hist.stat().st_size / requests
    assert per_request < 50, per_request  # the NDJSON of the same requests: kilobytes each
    assert ndjson.stat().st_size / requests > 1000
    # `perfspec check` judges the read-back file and says how coarse its latencies are
    check = perfspec("check", str(spec), str(hist), "--report", str(tmp_path / "report"), cwd=tmp_path)
    assert check.returncode == 0, check.stdout[-2000:]
    [v] = json.loads((tmp_path / "report" / "verdicts.json").read_text())
    assert v["samples"] == exact["spread"].count
    assert any("k6's native histograms, each within +-4.4%" in r for r in v["reasons"]), v["reasons"]


@pytest.mark.tools
def test_run_with_k6_output_prometheus_merges_execution_segments(tmp_path: Path) -> None:
    require_tool("k6")
    require_tool("prometheus")
    proc = perfspec(
        "run",
        "specs/quickstart.yaml",
        "--out",
        str(tmp_path),
        "--only",
        "k6",
        "--k6-output",
        "prometheus",
        "--workers",
        "2",
        "--duration",
        "4s",
    )
    assert "running k6 ... (2 processes)" in proc.stdout, proc.stdout[-3000:]
    assert "requests read back from http://127.0.0.1:" in proc.stdout, proc.stdout[-3000:]
    [run] = list(tmp_path.iterdir())
    k6_files = sorted(f.name for f in (run / "results").iterdir() if f.name.startswith("k6"))
    assert k6_files == ["k6-counts-1of2.json", "k6-counts-2of2.json", k6_remote.RESULT]  # no NDJSON
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["k6_output"]["testid"].startswith("quickstart-")
    # the segments merged, and every request k6 counted is read back or said to be missing
    doc = json.loads((run / "results" / k6_remote.RESULT).read_text())
    counted = sum(
        json.loads((run / "results" / f).read_text())["metrics"]["http_reqs"]["count"] for f in k6_files[:2]
    )
    read = sum(s["count"] for s in doc["series"].values())
    missing = doc.get("missing_requests", 0)
    assert read + missing == counted > 100, (read, missing, counted)
    verdicts = verdicts_of(tmp_path)
    assert 5 <= verdicts["auth"]["samples"] <= 10  # 5 users log in once, across both segments
    for name, v in verdicts.items():
        if name.startswith("db_"):
            continue
        # a short run may lose a few requests in k6's last push: said, and a warning past 0.1%
        lost = [r for r in v["reasons"] if "never reached Prometheus" in r]
        assert v["status"] == "pass" or (v["status"] == "warn" and lost), (name, v["reasons"])


def test_a_latency_within_the_histograms_resolution_of_its_bound_warns() -> None:
    from perfspec.runtime.conditions import coarse
    from perfspec.runtime.results import Series
    from perfspec.runtime.verdict import StatVerdict, Verdict

    def verdict(p95: float) -> tuple[tuple[bool, bool], list[str]]:
        v = Verdict("api", "pass", 1, "s.yaml", 0)
        v.stats.append(StatVerdict("p95", "< 50ms", "fail", p95, "s", p95 < 0.05, 1, limit=0.05))
        s = Series("k6", "http", "api", "k6-histograms.json", "x", extra={"resolution": 0.0443})
        return coarse([s], v), v.reasons

    assert verdict(0.030) == (
        (False, False),
        [
            "latencies from k6's native histograms, each within +-4.4% (`--k6-output ndjson` keeps 3 "
            "significant digits)"
        ],
    )
    flags, reasons = verdict(0.049)  # 2% under the bound: the bucket is 9% wide
    assert flags == (False, True)
    assert reasons[-1] == "p95 49.000ms is within +-4.4% of its bound: too close to call at this resolution"
    exact = Verdict("api", "pass", 1, "s.yaml", 0)
    assert coarse([Series("k6", "http", "api", "k6.ndjson", "x")], exact) == (False, False)
    assert not exact.reasons

"""Load from several network hosts for real: a Locust master and two workers, and two k6 execution
segments, each in its own network namespace, against a target in another one (tests/netns.py).
The target counts what each host sent; the merged verdict must count exactly that, and its
percentiles must be those of the shards' merged histograms."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from perfspec.runtime.histogram import Histogram
from perfspec.runtime.readers import read_file
from perfspec.runtime.suites import k6_segment

from .conftest import IN_CI, require_tool
from .netns import NetnsUnavailable, network
from .test_check import ROOT, perfspec
from .test_real_servers import build

pytestmark = pytest.mark.tools

SPEC = """\
version: 1
name: shards
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    home: {get: /home}
    items: {get: /items}
profiles:
  smoke: {users: 6, for: 4s}
targets:
  - {name: api, select: {endpoint: [home, items]}, p95: < 2s, error_rate: < 1%}
"""
HOSTS = ["target", "master", "worker1", "worker2", "k6a", "k6b"]


def test_locust_workers_and_k6_segments_on_separate_hosts_merge_exactly(tmp_path: Path) -> None:
    locust, k6 = require_tool("locust"), require_tool("k6")
    spec = tmp_path / "shards.yaml"
    spec.write_text(SPEC)
    folder = build(spec, tmp_path / "gen")
    results, seen_file = tmp_path / "results", tmp_path / "seen.json"
    results.mkdir()
    try:
        net_context = network(HOSTS)
        net = net_context.__enter__()
    except NetnsUnavailable as exc:
        message = f"cannot make the test's network namespaces: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        server = net.popen(
            "target",
            [sys.executable, "-m", "tests.servers.peers", net["target"], "8080", str(seen_file)],
            cwd=ROOT,
        )
        net.wait_port("target", 8080)
        env = {
            **os.environ,
            "API_URL": f"http://{net['target']}:8080",
            "PERFSPEC_PROFILE": "smoke",
            "PERFSPEC_RESULTS_DIR": str(results),
            "K6_NO_USAGE_REPORT": "true",
        }
        lf = str(folder / "locustfile.py")
        master = net.popen(
            "master",
            [
                locust,
                "-f",
                lf,
                "--headless",
                "--only-summary",
                "--master",
                "--master-bind-host",
                net["master"],
                "--master-bind-port",
                "5557",
                "--expect-workers",
                "2",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        workers = [
            net.popen(
                w,
                [locust, "-f", lf, "--worker", "--master-host", net["master"], "--master-port", "5557"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for w in ("worker1", "worker2")
        ]
        out, _ = master.communicate(timeout=120)
        assert master.returncode == 0, out[-3000:]
        for w in workers:
            assert w.wait(timeout=60) == 0
        segments = [
            net.popen(
                host,
                [
                    k6,
                    "run",
                    "--quiet",
                    *k6_segment(i, 2),
                    "--out",
                    f"json={results / f'k6-{i + 1}of2.ndjson'}",
                    str(folder / "k6.js"),
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for i, host in enumerate(("k6a", "k6b"))
        ]
        for seg in segments:
            out, _ = seg.communicate(timeout=120)
            assert seg.returncode == 0, out[-3000:]
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    finally:
        net_context.__exit__(None, None, None)
    seen = json.loads(seen_file.read_text())
    # every shard ran on its own host, and nothing else reached the target
    assert set(seen) == {
        f"{net[h]} {tool}"
        for h, tool in [("worker1", "locust"), ("worker2", "locust"), ("k6a", "k6"), ("k6b", "k6")]
    }, seen
    shards = {f.name: read_file(f) for f in sorted(results.iterdir())}
    assert len([n for n in shards if n.startswith("locust-")]) == 2  # one per worker, none from the master
    assert sorted(n for n in shards if n.startswith("k6")) == ["k6-1of2.ndjson", "k6-2of2.ndjson"]
    check = perfspec("check", str(spec), str(results), "--report", str(tmp_path / "report"), cwd=tmp_path)
    assert check.returncode == 0, check.stdout[-3000:]
    [v] = json.loads((tmp_path / "report" / "verdicts.json").read_text())
    recorded = 0
    for tool in ("locust", "k6"):
        series = [s for found in shards.values() for s in found if s.tool == tool]
        served = sum(n for key, n in seen.items() if key.endswith(f" {tool}"))
        count = sum(s.count for s in series)
        recorded += count
        # the target's count: k6 exactly (it lets every request finish); Locust but the requests
        # in flight when it stops its users (at most one per user)
        exact = count == served if tool == "k6" else 0 <= served - count <= 6
        assert served > 100 and exact, (tool, count, served)
        merged = Histogram()
        for s in series:
            merged.merge(s.histogram)
        [p95] = [st for st in v["stats"] if st["stat"] == f"p95 ({tool})"]
        assert p95["measured"] == merged.quantile(0.95) / 1e9, (tool, p95)
    assert v["samples"] == recorded

"""Prometheus in the loop, proved on a real Prometheus server (Debian's 2.42 binary) scraping the
demo target or a small exporter: alerts that fire during a run, the server-side view beside the
client's, PromQL targets judged from the server, and two specs' rules side by side."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from perfspec.runtime.prometheus import Client, embedded

from .conftest import ROOT, require_tool
from .demo import demo_target

FAST_ALERTS = "from_targets: {for: 2s, window: 10s, min_rate: 1/s, severity: warning,"


def project(tmp_path: Path, text: str, name: str = "quickstart.yaml") -> Path:
    """A project folder holding the spec (and the SQL files it names)."""
    (tmp_path / "pyproject.toml").write_text("")
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs" / "sql", specs / "sql")
    (specs / name).write_text(text)
    return specs / name


def fast_quickstart() -> str:
    text = (ROOT / "specs" / "quickstart.yaml").read_text()
    assert "from_targets: {for: 5m, severity: warning," in text
    return text.replace("from_targets: {for: 5m, severity: warning,", FAST_ALERTS)


def perfspec(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def verdicts(folder: Path) -> dict[str, dict]:
    return {v["target"]: v for v in json.loads((folder / "verdicts.json").read_text())}


@pytest.mark.slow
@pytest.mark.tools
@pytest.mark.parametrize("latency", [None, "300ms"])
def test_run_on_the_demo_reports_alerts_and_the_server_side_p95(tmp_path: Path, latency: str | None) -> None:
    require_tool("prometheus")
    require_tool("k6")
    spec = project(tmp_path, fast_quickstart())
    args = ["run", str(spec), "--only", "k6,sql", "--out", str(tmp_path / "runs")]
    proc = perfspec(*args, *(["--demo-latency", latency] if latency else []), cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert "Prometheus on http://127.0.0.1:" in out, out
    [run] = list((tmp_path / "runs").iterdir())
    evidence = json.loads((run / "results" / "prometheus.json").read_text())
    assert evidence["alerts"]["loaded"] is True
    found = verdicts(run)
    api = found["api"]
    server = {s["stat"]: s for s in api["server"]}
    assert server["server p95"]["measured"] is not None and "during k6" in server["server p95"]["where"]
    assert "server p95" in out and "during k6" in out  # client and server side by side
    fired = {a["alert"] for a in evidence["alerts"]["alerts"] if "firing_at" in a}
    if latency:
        # every request took 300 ms: the client and the service agree, the alert fired in the run
        assert api["status"] == "fail"
        assert server["server p95"]["measured"] >= 0.2
        assert "QuickstartApiP95Latency" in fired, evidence["alerts"]
        assert "alert QuickstartApiP95Latency fired at +00:" in out
        assert any("alert QuickstartApiP95Latency fired" in r for r in api["reasons"])
        assert proc.returncode == 1
    else:
        assert api["status"] == "pass" and server["server p95"]["measured"] < 0.2
        assert not fired, evidence["alerts"]
        assert "alerts: none of quickstart's alerts went pending or firing during the run" in out
        assert proc.returncode == 0, out[-3000:]


@pytest.mark.tools
def test_error_panels_read_zero_on_a_healthy_service_and_two_specs_rules_evaluate(tmp_path: Path) -> None:
    """The dashboard's error and success queries return 0 and 1 (not "No data") while nothing
    fails; quickstart's and temponest_validation's rules load into one server and every rule
    evaluates without error."""
    require_tool("prometheus")
    rules = [ROOT / "generated" / n / "alerts.rules.yml" for n in ("quickstart", "temponest_validation")]
    board = json.loads((ROOT / "generated" / "quickstart" / "grafana-dashboard.json").read_text())
    panels = {p["title"]: p["targets"][0]["expr"] for p in board["panels"]}
    # the targets whose endpoints get traffic below (crud gets none: no requests, no ratio)
    ratio_panels = {
        t: q
        for t, q in panels.items()
        if t.endswith(("error_rate", "success_rate")) and t.split(":")[0] in ("health", "api", "auth")
    }
    assert len(ratio_panels) == 3
    with demo_target() as url, embedded(url, rules, {"job": "quickstart"}) as prom:  # its matchers
        client = Client(prom)
        deadline = time.monotonic() + 20
        got: dict[str, list] = {}
        while time.monotonic() < deadline:
            for path in ("/health", "/api/v1/agents", "/auth/login"):
                req = urllib.request.Request(
                    url + path,
                    method="POST" if "auth" in path else "GET",
                    data=b"{}" if "auth" in path else None,
                )
                try:
                    urllib.request.urlopen(req, timeout=5).read()
                except urllib.error.HTTPError:
                    pass  # 422 for an empty login: not a 5xx
            got = {t: client.query(q, time.time()) for t, q in ratio_panels.items()}
            if all(got.values()):
                break
            time.sleep(0.5)
        for title, rows in got.items():
            assert rows, f"{title}: no data on a healthy service"
            want = 0.0 if title.endswith("error_rate") else 1.0
            assert all(v == want for _, v in rows), (title, rows)
        with urllib.request.urlopen(prom + "/api/v1/rules", timeout=5) as resp:
            groups = json.loads(resp.read())["data"]["groups"]
    names = {g["name"] for g in groups}
    assert {"perfspec quickstart: alerts", "perfspec temponest-validation: alerts"} <= names
    bad = [(r["name"], r.get("lastError")) for g in groups for r in g["rules"] if r.get("health") == "err"]
    assert not bad, bad


class Exporter(BaseHTTPRequestHandler):
    """Seed 002's cache metrics: requests grow at 100/s, hits at `ratio` of them."""

    ratio = 0.95
    started = time.time()

    def do_GET(self) -> None:  # noqa: N802
        n = (time.time() - self.started) * 100
        body = "".join(
            f'cache_requests_total{{cache="{c}"}} {n:.0f}\n'
            f'cache_hits_total{{cache="{c}"}} {n * self.ratio:.0f}\n'
            for c in ("jwt", "user_perms")
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args) -> None:
        pass


@contextmanager
def exporter(ratio: float) -> Iterator[str]:
    handler = type("Handler", (Exporter,), {"ratio": ratio, "started": time.time()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.tools
@pytest.mark.parametrize("ratio, status", [(0.95, "pass"), (0.5, "fail")])
def test_seed_002_cache_hit_rate_is_judged_from_a_real_prometheus(
    tmp_path: Path, ratio: float, status: str
) -> None:
    require_tool("prometheus")
    results = tmp_path / "results"
    results.mkdir()
    with exporter(ratio) as url, embedded(url) as prom:
        client = Client(prom)
        deadline = time.monotonic() + 20
        query = 'sum(rate(cache_requests_total{cache="jwt"}[5m]))'
        while not client.query(query, time.time()) and time.monotonic() < deadline:
            time.sleep(0.5)  # rate() needs two scrapes
        proc = perfspec(
            "check",
            "specs/temponest_guide.yaml",
            str(results),
            "--report",
            str(tmp_path / "r"),
            "--prometheus",
            prom,
            cwd=ROOT,
        )
    found = verdicts(tmp_path / "r")
    jwt = found["jwt_cache"]
    assert jwt["status"] == status, jwt
    assert jwt["stats"][0]["measured"] == pytest.approx(ratio, abs=0.02)
    assert any('cache_hits_total{cache="jwt"}' in r for r in jwt["reasons"])  # the query is shown
    # a metric the server does not have fails and says the query returned nothing
    assert found["rag_cache"]["status"] == "fail"
    assert "returned no series" in " ".join(found["rag_cache"]["reasons"])
    assert (tmp_path / "r" / "prometheus.json").is_file()
    assert proc.returncode == 1  # the rag and health caches have no data: never a pass


@pytest.mark.tools
def test_an_unreachable_prometheus_fails_promql_targets_with_the_reason(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    with socket_closed_port() as port:
        proc = perfspec(
            "check",
            "specs/temponest_guide.yaml",
            str(results),
            "--report",
            str(tmp_path / "r"),
            "--prometheus",
            f"http://127.0.0.1:{port}",
            cwd=ROOT,
        )
    jwt = verdicts(tmp_path / "r")["jwt_cache"]
    assert jwt["status"] == "fail" and proc.returncode == 1
    assert "cannot reach Prometheus at http://127.0.0.1:" in jwt["reasons"][0]
    # without any Prometheus, the target says how to give one
    proc = perfspec(
        "check", "specs/temponest_guide.yaml", str(results), "--report", str(tmp_path / "r2"), cwd=ROOT
    )
    jwt = verdicts(tmp_path / "r2")["jwt_cache"]
    assert jwt["status"] == "fail" and "--prometheus URL" in jwt["reasons"][0]


@contextmanager
def socket_closed_port() -> Iterator[int]:
    """A port nothing listens on (bound, never listening, so no other test takes it meanwhile)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def evidence_for(value: float | None, error: str | None = None) -> dict:
    got = {
        "query": "histogram_quantile(...)",
        **({"error": error} if error else {}),
        "values": [] if value is None else [{"labels": {}, "value": value}],
    }
    return {"version": 1, "server": {"t": {"k6": {"p95": got}}}, "promql": {}, "alerts": None}


@pytest.mark.parametrize(
    "mode, server_p95, status",
    [
        ("show", 0.5, "pass"),  # shown beside the client's value, not judged
        ("judge", 0.5, "fail"),  # the service saw 500 ms: the verdict is the worse of the two
        ("judge", 0.05, "pass"),
        ("judge", None, "fail"),  # judged but no server-side data: never a pass
    ],
)
def test_server_side_values_are_shown_or_judged_as_the_spec_says(
    tmp_path: Path, mode: str, server_p95: float | None, status: str
) -> None:
    from perfspec.runtime.checker import judge, read_results

    from .test_check import locust_file, stat, targets

    locust_file(tmp_path, "h-1", [50_000] * 100)  # the client saw 50 ms
    series, _ = read_results([tmp_path])
    spec = targets(stat("p95", "<", 0.2))
    spec["targets"][0]["server"] = {
        "mode": mode,
        "histogram": "h",
        "total": "t",
        "selectors": ["{}"],
        "error_selectors": ["{}"],
        "buckets": [0.1, 0.25, 1.0],
    }
    [v] = judge(spec, series, {"prometheus": evidence_for(server_p95)})
    assert v.status == status, v.message()
    if server_p95 is not None:
        assert (
            "server p95 in bucket " in v.message()
            and "(during k6; histogram_quantile interpolates " in v.message()
        )
        assert f"interpolates {server_p95 * 1000:.3f}ms inside the bucket" in v.message()
    else:
        assert "server p95 no data" in v.message()


def test_a_missing_prometheus_binary_fails_the_run_in_ci_and_is_said_elsewhere(
    tmp_path: Path, monkeypatch
) -> None:
    import contextlib

    from perfspec.runtime import runner, tools

    monkeypatch.setattr(tools, "find", lambda name: None)  # not beside Python, on PATH or in Debian's folders
    lines: list[str] = []
    monkeypatch.setenv("CI", "false")
    with contextlib.ExitStack() as stack:
        assert runner.start_prometheus(stack, "http://127.0.0.1:9", tmp_path, {}, lines.append) is None
    assert "apt-get install prometheus" in lines[0]
    monkeypatch.setenv("CI", "true")
    with contextlib.ExitStack() as stack, pytest.raises(RuntimeError, match="no `prometheus` binary"):
        runner.start_prometheus(stack, "http://127.0.0.1:9", tmp_path, {}, lines.append)

"""Prometheus rules and their promtool unit tests, proved by promtool and by the demo's metrics."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from perfspec.compiler.backends.prometheus import PrometheusBackend
from perfspec.compiler.plan import build_plan
from perfspec.compiler.validate import check_file, check_text

from .conftest import ROOT, require_tool
from .demo import demo_target

RULE_DIRS = sorted(p.parent for p in (ROOT / "generated").glob("*/alerts.rules.yml"))


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [require_tool("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_specs_with_alerts_have_rules() -> None:
    names = {p.name for p in RULE_DIRS}
    assert {"quickstart", "temponest_validation", "temponest_guide", "load_phases_analysis"} <= names


@pytest.mark.tools
@pytest.mark.parametrize("folder", RULE_DIRS, ids=lambda p: p.name)
def test_generated_rules_pass_promtool_check_and_their_unit_tests(folder: Path) -> None:
    check = promtool("check", "rules", "alerts.rules.yml", cwd=folder)
    assert check.returncode == 0, check.stdout + check.stderr
    test = promtool("test", "rules", "alerts.test.yml", cwd=folder)
    assert test.returncode == 0, test.stdout + test.stderr
    tests = yaml.safe_load((folder / "alerts.test.yml").read_text())["tests"]
    rules = yaml.safe_load((folder / "alerts.rules.yml").read_text())
    alerts = [r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r]
    tested = {c["alertname"] for t in tests for c in t["alert_rule_test"]}
    notes = (folder / "alerts.test.yml").read_text()
    for name in alerts:  # every alert is tested, or the file says why not
        assert name in tested or f"# {name}: no test" in notes, name
    # each tested alert has a firing case and a silent one
    for name in tested:
        cases = [c for t in tests for c in t["alert_rule_test"] if c["alertname"] == name]
        assert any(c["exp_alerts"] for c in cases) and any(not c["exp_alerts"] for c in cases), name


@pytest.mark.tools
@pytest.mark.parametrize(
    "old, new",
    [
        (">= 0.2", ">= 2"),
        ("for: 5m", "for: 30m"),
        # a throughput floor that read absent series as 0 fired wherever the service was not scraped
        (
            "sum(perfspec:temponest_validation:auth:requests:rate5m) <= 50",
            "(sum(perfspec:temponest_validation:auth:requests:rate5m) or vector(0)) <= 50",
        ),
    ],
)
def test_a_wrong_threshold_or_duration_fails_the_generated_tests(tmp_path: Path, old: str, new: str) -> None:
    src = ROOT / "generated" / "temponest_validation"
    rules = (src / "alerts.rules.yml").read_text()
    assert old in rules
    (tmp_path / "alerts.rules.yml").write_text(rules.replace(old, new, 1))
    (tmp_path / "alerts.test.yml").write_text((src / "alerts.test.yml").read_text())
    proc = promtool("test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert proc.returncode != 0
    assert "FAILED" in proc.stdout + proc.stderr


def test_bucket_sanity_warns_with_the_nearest_boundaries() -> None:
    spec = """\
version: 1
name: b
hosts: {api: {url: "http://127.0.0.1:1"}}
http: {endpoints: {e: {get: /e, class: c}}}
profiles: {p: {users: 1, for: 1s}}
targets:
  - {name: odd, select: {class: c}, p95: < 150ms, p99: < 10s}
alerts:
  service: {buckets: [50ms, 100ms, 200ms, 1s]}
"""
    checked = check_text(spec, "b.yaml")
    messages = [f"{w.line}: {w.message}" for w in checked.warnings]
    assert any(
        m.startswith("7: p95 < 150ms is not a bucket boundary") and "100ms and 200ms" in m for m in messages
    ), messages
    assert any("p99 < 10s lies above the largest bucket" in m and "never fire" in m for m in messages)


HOSTILE = r"""version: 1
name: evil
description: "evil {{ $labels }}"
hosts: {api: {url: "http://127.0.0.1:1"}}
http:
  endpoints:
    e: {get: "/e\"'", class: c, route: "/r{{x}}\"|.*"}
profiles: {p: {users: 1, for: 1s}}
targets:
  - name: t
    description: "t {{ .Value }}\"'\n${{ x }}"
    select: {class: c}
    p95: < 200ms
    alert: {labels: {team: "{{ $value }}\"\n"}, runbook: "https://x/{{ .Labels }}?a='\"\n"}
alerts:
  service: {matchers: {job: "api\"} or vector(1) #"}, buckets: [100ms, 200ms, 500ms]}
  rules:
    - alert: Evil
      expr: sum(evil_total{x="\"} or vector(1)"})
      when: "> 0"
      summary: "sum {{ $labels.x }} `id` \"\"\" ' \n"
"""


@pytest.mark.tools
def test_hostile_strings_stay_data_in_rules_and_tests(tmp_path: Path) -> None:
    spec = tmp_path / "evil.yaml"
    spec.write_text(HOSTILE)
    arts = {a.path.name: a.content for a in PrometheusBackend().emit(build_plan(check_file(spec)))}
    rules = yaml.safe_load(arts["alerts.rules.yml"])
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"] if "alert" in r}
    derived = (
        alerts["TValueX1P95Latency"]
        if "TValueX1P95Latency" in alerts
        else next(r for n, r in alerts.items() if n.endswith("P95Latency"))
    )
    # the matcher and route are PromQL string literals: the injected `or vector(1)` stays inside
    recs = [r for g in rules["groups"] for r in g["rules"] if "record" in r]
    assert 'job="api\\"} or vector(1) #"' in recs[0]["expr"]
    assert 'endpoint="/r{{x}}\\"|.*"' in recs[0]["expr"]
    # template text is escaped for Prometheus, so it prints literally
    assert derived["labels"]["team"] == '{{ "{{" }} $value }}"\n'
    (tmp_path / "alerts.rules.yml").write_text(arts["alerts.rules.yml"])
    (tmp_path / "alerts.test.yml").write_text(arts["alerts.test.yml"])
    check = promtool("check", "rules", "alerts.rules.yml", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    # the generated tests expect the literal text after Prometheus expands the templates
    test = promtool("test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert test.returncode == 0, test.stdout + test.stderr
    tests = yaml.safe_load(arts["alerts.test.yml"])["tests"]
    fired = [c["exp_alerts"][0] for t in tests for c in t["alert_rule_test"] if c["exp_alerts"]]
    assert any(a["exp_labels"].get("team") == '{{ $value }}"\n' for a in fired)
    assert any(a["exp_annotations"].get("runbook_url") == "https://x/{{ .Labels }}?a='\"\n" for a in fired)
    json.loads(arts["grafana-dashboard.json"])


# --- the demo target's real metrics -----------------------------------------------------------


def scrape(url: str) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name.startswith(("http_request_duration_seconds", "http_requests_total")):
                labels = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(s.labels.items()))
                out[f"{s.name}{{{labels}}}"] = s.value
    return out


def drive(url: str, seconds: float, limit: int = 400) -> int:
    """GET the agent list from 4 threads for `seconds`, at most `limit` requests."""
    deadline, sent = time.monotonic() + seconds, [0]

    def loop() -> None:
        while time.monotonic() < deadline and sent[0] < limit:
            sent[0] += 1
            with urllib.request.urlopen(url + "/api/v1/agents", timeout=10) as resp:
                resp.read()

    with ThreadPoolExecutor(4) as pool:
        for f in [pool.submit(loop) for _ in range(4)]:
            f.result()
    return sent[0]


def replay_test(before: dict[str, float], after: dict[str, float], fires: bool) -> dict:
    """promtool input: the scraped increments, every 15 s for 12 minutes (a few requests per
    second: above the alerts' default min_rate of 1/s)."""
    rules = yaml.safe_load((ROOT / "generated" / "quickstart" / "alerts.rules.yml").read_text())
    name = "QuickstartApiP95Latency"
    alert = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == name)
    job = '{job="quickstart",'  # as Prometheus labels the scrape (the spec's alerts.service.matchers)
    series = [
        {
            "series": k.replace("{", job, 1) if "{" in k else k + job[:-1] + "}",
            "values": f"{before.get(k, 0):g}+{v - before.get(k, 0):g}x48",
        }
        for k, v in sorted(after.items())
    ]
    expected = [{"exp_labels": alert["labels"], "exp_annotations": alert["annotations"]}] if fires else []
    return {
        "rule_files": ["alerts.rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "15s",
                "input_series": series,
                "alert_rule_test": [
                    {"eval_time": "11m", "alertname": name, "exp_alerts": expected},
                    {"eval_time": "11m", "alertname": "QuickstartApiSuccessRate", "exp_alerts": []},
                ],
            }
        ],
    }


@pytest.mark.tools
@pytest.mark.parametrize("latency, fires", [(None, False), ("300ms", True)])
def test_demo_metrics_fire_the_latency_alert_only_when_latency_is_injected(
    tmp_path: Path, latency: str | None, fires: bool
) -> None:
    promtool_path = require_tool("promtool")
    args = ("--latency", latency) if latency else ()
    with demo_target(*args) as url:
        before = scrape(url)
        sent = drive(url, 4.0)
        after = scrape(url)
    assert sent > 0
    key = next(
        k
        for k in after
        if k.startswith("http_requests_total{") and '"/api/v1/agents"' in k and 'method="GET"' in k
    )
    assert after[key] - before.get(key, 0) == sent  # the scrape saw every request we sent
    (tmp_path / "alerts.rules.yml").write_text(
        (ROOT / "generated" / "quickstart" / "alerts.rules.yml").read_text()
    )
    (tmp_path / "replay.test.yml").write_text(yaml.safe_dump(replay_test(before, after, fires)))
    proc = subprocess.run(
        [promtool_path, "test", "rules", "replay.test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.tools
def test_two_specs_rules_load_together_and_carry_no_line_numbers(tmp_path: Path) -> None:
    """Recording rules and alerts are scoped by the spec's name: two specs' rules evaluate side by
    side (no 'vector contains metrics with the same labelset'), and no identity holds a line."""
    tests, files = [], []
    for name in ("quickstart", "temponest_validation"):
        folder = ROOT / "generated" / name
        (tmp_path / f"{name}.rules.yml").write_text((folder / "alerts.rules.yml").read_text())
        files.append(f"{name}.rules.yml")
        tests += yaml.safe_load((folder / "alerts.test.yml").read_text())["tests"]
        rules = yaml.safe_load((folder / "alerts.rules.yml").read_text())
        for rule in (r for g in rules["groups"] for r in g["rules"]):
            identity = [rule.get("record") or rule["alert"], *rule.get("labels", {}).values()]
            assert not any(re.search(r"\.ya?ml:\d+", str(v)) for v in identity), rule
            assert rule["labels"]["perfspec_spec"] in ("quickstart", "temponest-validation")
    (tmp_path / "together.test.yml").write_text(
        yaml.safe_dump({"rule_files": files, "evaluation_interval": "1m", "tests": tests}, sort_keys=False)
    )
    check = promtool("check", "rules", *files, cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    test = promtool("test", "rules", "together.test.yml", cwd=tmp_path)
    assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-3000:]


@pytest.mark.tools
def test_short_windows_get_unit_tests_whose_step_fits_them(tmp_path: Path) -> None:
    """A 10 s rate window and 1 m SLO windows (5 s short windows): the generated tests step a
    quarter of the shortest window, so promtool proves every alert fires and stays silent; the
    latency alert stays silent on slow requests below min_rate."""
    text = (ROOT / "specs" / "quickstart.yaml").read_text()
    text = text.replace(
        "from_targets: {for: 5m, severity: warning,",
        "from_targets: {for: 20s, window: 10s, min_rate: 2/s, severity: warning,",
    )
    text = text.replace(
        "slo: {availability: 99.5%}",
        "slo: {availability: 99.5%, period: 1h, windows: [1m, 2m], ticket_windows: [3m, 10m]}",
    )
    checked = check_text(text, str(ROOT / "specs" / "quickstart.yaml"))
    arts = {a.path.name: a.content for a in PrometheusBackend().emit(build_plan(checked))}
    for name, content in arts.items():
        (tmp_path / name).write_text(content)
    tests = yaml.safe_load(arts["alerts.test.yml"])
    assert tests["evaluation_interval"] == "1250ms"  # 5s / 4
    names = [t["name"] for t in tests["tests"]]
    assert any("too few to page on -> silent" in n and "P95Latency" in n for n in names), names
    assert (
        'and on() sum(perfspec:quickstart:api:latency_bucket:rate10s{le="+Inf"}) >= 2'
        in arts["alerts.rules.yml"]
    )
    check = promtool("check", "rules", "alerts.rules.yml", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    test = promtool("test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert test.returncode == 0, test.stdout + test.stderr

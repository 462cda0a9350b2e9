"""One meaning per construct: what the spec says is what Locust, k6 and the judge do (issue #30's
cases that are not the cross-tool request equivalence of tests/test_equivalence.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from perfspec.compiler import templates
from perfspec.runtime.support.perfspec_locust_checks import query_string

from .conftest import require_tool
from .servers.json_api import json_server
from .test_real_servers import build

TWO_PROFILES = """\
version: 1
name: scoped
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    ping: {get: /ping}
    pong: {get: /pong}
profiles:
  light: {users: 1, for: 2s}
  heavy: {users: 2, for: 2s}
targets:
  - {name: any_ping, select: {endpoint: ping}, p95: < 5s}
  - {name: heavy_only, select: {profile: heavy}, p95: < 0.001ms, throughput: "> 100000/s"}
  - {name: heavy_pong, select: {profile: heavy, endpoint: pong}, error_rate: < 0.0001%}
"""


def test_query_text_is_encoded_alike_by_the_compiler_and_the_locust_support_module() -> None:
    params = {"q": "{x} a+b é/?&=", "k[]": "!*'()~-_.", "n": "5"}
    assert templates.query_string(params) == query_string(params)
    assert templates.query_string({"a b": "c d"}) == "?a%20b=c%20d"  # encodeURIComponent's %20, never +


def test_k6_thresholds_of_a_profile_judge_only_that_profile(tmp_path: Path) -> None:
    """A target of profile `heavy` is no threshold of a `light` run (it exited 99 naming it)."""
    k6 = require_tool("k6")
    spec = tmp_path / "scoped.yaml"
    spec.write_text(TWO_PROFILES)
    folder = build(spec, tmp_path / "gen", only=("k6",))
    script = (folder / "k6.js").read_text()
    assert '"http_req_duration{scenario:heavy}": ["p(95)<0.001"]' in script
    assert '"http_req_failed{name:pong,scenario:heavy}"' in script
    assert "target_heavy_only" not in script  # the scenario tag selects it: no flag tag per request
    runs = {}
    with json_server(lambda *_a: (200, {"ok": True}, {})) as url:
        for profile in ("light", "heavy"):
            runs[profile] = subprocess.run(
                [k6, "run", str(folder / "k6.js")],
                env={**os.environ, "API_URL": url, "PERFSPEC_PROFILE": profile, "K6_NO_USAGE_REPORT": "true"},
                capture_output=True, text=True, timeout=60)
    light, heavy = runs["light"], runs["heavy"]
    assert light.returncode == 0, light.stdout[-3000:] + light.stderr[-2000:]
    assert "scenario:heavy" not in light.stdout
    assert heavy.returncode == 99, heavy.stdout[-3000:] + heavy.stderr[-2000:]
    assert "http_req_duration{scenario:heavy}" in heavy.stderr + heavy.stdout

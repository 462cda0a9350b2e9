"""The support modules the generated files import, as ordinary code: perfspec_locust.py under
pytest, perfspec_k6.js under k6 itself (its functions checked in one iteration)."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from perfspec.runtime.histogram import round3 as reference_round3
from perfspec.runtime.support import perfspec_locust as locust_support

from .conftest import ROOT, require_tool


def test_round3_keeps_three_significant_digits_rounding_half_up() -> None:
    """The one histogram of every writer and reader (support/perfspec_histogram.py), against
    decimal arithmetic: 3 significant digits, half up, values under 1000 exact."""
    from decimal import ROUND_HALF_UP, Decimal

    rng = random.Random(3)
    values = [0, 1, 999, 1000, 1004, 1005, 9995, 99_950, 999_500, 10**9 + 7]
    values += [rng.randint(0, 10 ** rng.randint(1, 10)) for _ in range(20_000)]
    for us in values:
        exponent = max(0, len(str(us)) - 3)
        want = int(Decimal(us).scaleb(-exponent).quantize(Decimal(1), ROUND_HALF_UP).scaleb(exponent))
        assert locust_support.round3(us) == want == reference_round3(us), us


def test_series_sums_its_seconds_into_the_whole_run_histogram() -> None:
    s = locust_support.Series()
    for ms in (1.0, 2.0, 2.0, 500.0):
        s.record(ms / 1000, 200, None, None)
    s.record(0.003, 0, "connection refused (127.0.0.1:9)", None)
    doc = s.to_dict()
    assert doc["count"] == 5 and doc["failures"] == 1
    assert doc["errors"] == {"connection refused (127.0.0.1:9)": 1}
    assert sum(c for _, c in doc["histogram"]) == 5 and [500000, 1] in doc["histogram"]


def test_failure_causes_are_words_not_status_zero() -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    assert locust_support.cause(refused, "http://127.0.0.1:9002/x") == "connection refused (127.0.0.1:9002)"
    assert locust_support.cause(TimeoutError()) == "timeout"


class FakeResponse:
    def __init__(self, headers: dict, body: object = None, status: int = 201) -> None:
        self.headers, self.body, self.status_code, self.failed = headers, body, status, None

    def json(self) -> object:
        if self.body is None:
            raise ValueError("no JSON")
        return self.body

    def failure(self, why: str) -> None:
        self.failed = why

    def success(self) -> None:
        pass


def test_headers_are_found_whatever_their_case_and_missing_values_fail_the_call() -> None:
    resp = FakeResponse({"Etag": '"v1"'})
    assert locust_support.header(resp, "ETag", "etag from header:ETag") == '"v1"' and resp.failed is None
    assert locust_support.header(resp, "X-Nope", "x from header:X-Nope") is None
    assert resp.failed == "cannot extract x from header:X-Nope"
    doc = FakeResponse({}, {"data": [{"id": 7}]})
    assert locust_support.json_value(doc, "id", "data", 0, "id") == 7
    assert locust_support.json_value(doc, "id", "data", 3, "id") is None and doc.failed


def test_expect_judges_exactly_the_listed_statuses() -> None:
    assert locust_support.expect(FakeResponse({}, status=429), 200, 429)
    bad = FakeResponse({}, status=202)
    assert not locust_support.expect(bad, 200, 201, 204) and bad.failed == "HTTP 202"


def test_the_shape_ramps_holds_and_stops_with_the_profile() -> None:
    class Shape(locust_support.ProfileShape):
        spec, default = "s.yaml", "p"
        profiles = {"p": [("ramp", 0, 10.0, 5.0), ("hold", 10.0, 10.0, 20.0)]}

    shape = Shape()
    shape.runner = SimpleNamespace(environment=SimpleNamespace(parsed_options=None))
    assert shape._level(1.0) == (10, 2.0)  # 10 users over 5 s
    assert shape._level(6.0) == (10, 10.0)
    assert shape._level(26.0) is None


@pytest.mark.tools
def test_the_k6_support_module_under_k6(tmp_path: Path) -> None:
    k6 = require_tool("k6")
    shutil.copy(ROOT / "runtime" / "support" / "perfspec_k6.js", tmp_path / "perfspec_k6.js")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "check.js").write_text("""
import { check } from "k6";
import { basicAuth, extractHeader, scenarios, User, uuid } from "../perfspec_k6.js";
export const options = { vus: 1, iterations: 1, thresholds: { checks: ["rate==1"] } };
export default function () {
  const user = new User({});
  const res = { status: 201, headers: { Etag: "v1" } };
  check(null, {
    "basic auth": () => basicAuth("aladdin", "opensesame") === "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
    "uuid v4": () => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuid()),
    "header any case": () =>
      extractHeader(user, "etag", "etag", "ETag")(res) === "" && user.vars.etag === "v1",
    "missing header": () =>
      extractHeader(user, "x", "x from header:X", "X")(res) === "cannot extract x from header:X",
    "duration cut": () => scenarios({ p: { flows: { f: 1 }, executor: "ramping-vus", startVUs: 0,
      stages: [{ duration: "10000ms", target: 10 }] } }, "p").f.stages[0].target === 5,
    "users split by weight": () => {
      const s = scenarios({ p: { flows: { a: 1, b: 3 }, executor: "ramping-vus", startVUs: 0,
        stages: [{ duration: "4s", target: 10 }, { duration: "1s", target: 6 }] } }, "p");
      const targets = (f) => s[f].stages.map((st) => st.target).join();
      return s.a.exec === "a" && s.a.tags.profile === "p" && s.b.exec === "b" &&
        targets("a") === "3,2" && targets("b") === "7,4";
    },
    "rate split exactly": () => {
      const s = scenarios({ p: { flows: { a: 1, b: 3 }, executor: "constant-arrival-rate", rate: 10,
        timeUnit: "1s", duration: "4s", preAllocatedVUs: 8, maxVUs: 20 } }, "p");
      return s.a.rate === 250 && s.b.rate === 750 && s.a.timeUnit === "100000ms" && s.a.maxVUs === 5 &&
        s.b.maxVUs === 15 && s.b.preAllocatedVUs === 6;
    },
    "a flow with no user does not run": () =>
      Object.keys(scenarios({ p: { flows: { a: 1, b: 1 }, executor: "ramping-vus", startVUs: 0,
        stages: [{ duration: "4s", target: 1 }] } }, "p")).join() === "a",
  });
}
""")
    proc = subprocess.run(
        [k6, "run", "--quiet", str(tmp_path / "t" / "check.js")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PERFSPEC_DURATION": "5", "K6_NO_USAGE_REPORT": "true"},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_a_host_with_an_unset_variable_is_none_so_locust_asks_for_host(monkeypatch) -> None:
    monkeypatch.delenv("PERFSPEC_T_HOST", raising=False)
    assert locust_support.env_text("https://", ("PERFSPEC_T_HOST",), ":8443") is None
    assert (
        locust_support.env_text("https://", ("PERFSPEC_T_HOST", "api.test"), ":8443")
        == "https://api.test:8443"
    )
    monkeypatch.setenv("PERFSPEC_T_HOST", "x.test")
    assert locust_support.env_text("https://", ("PERFSPEC_T_HOST",), ":8443") == "https://x.test:8443"

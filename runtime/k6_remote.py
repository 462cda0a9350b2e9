"""k6 results whose size does not grow with the request count.

`k6 run --out json` writes every built-in metric of every request (about 5.6 KB per request), so
a long run's file grows without bound. With `--k6-output prometheus` perfspec sends k6's samples
through k6's own Prometheus remote-write output (`experimental-prometheus-rw`, trends as native
histograms) into a Prometheus (a throwaway one, or the one named by $PERFSPEC_K6_PROMETHEUS, the
way k6-operator users collect shards), where k6 has already aggregated them: one histogram per
series per push (every second). After the run `collect` reads the raw samples back and writes
`k6-histograms.json` in the per-second histogram layout of the Locust results: its size grows with
endpoints x seconds, never with requests. Shards (execution segments) push under one `testid` and
merge in the same histograms.

Resolution: k6 fixes its native histograms' bucket factor at 1.1 (schema 3, buckets 2^(1/8) wide);
each bucket is read as its geometric middle, within 4.4% of every latency in it. The result file
says so (`resolution`) and the verdict shows it; the NDJSON path keeps 3 significant digits.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

from .histogram import Histogram
from .prometheus import Client, PrometheusError
from .readers.k6 import NAME  # a spec name, as the NDJSON reader tells its endpoints
from .timeline import Timeline, file_form

RESULT = "k6-histograms.json"
PUSH_SECONDS = 1
RESOLUTION = 2 ** (1 / 16) - 1  # half a schema-3 bucket, relative: 0.044
LATENCY = ("k6_http_req_duration_seconds", "k6_perfspec_ws_latency_seconds")


def k6_env(write_url: str) -> dict[str, str]:
    """The environment that sends k6's samples to a remote-write receiver, trends as native
    histograms, pushed every second."""
    return {
        "K6_PROMETHEUS_RW_SERVER_URL": write_url.rstrip("/") + "/api/v1/write",
        "K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM": "true",
        "K6_PROMETHEUS_RW_PUSH_INTERVAL": f"{PUSH_SECONDS}s",
    }


def k6_args(testid: str) -> list[str]:
    return ["--out", "experimental-prometheus-rw", "--tag", f"testid={testid}"]


def configured_url(env: dict | None = None) -> str | None:
    """A Prometheus the user runs (remote-write receiver and native histograms enabled)."""
    value = (env or os.environ).get("PERFSPEC_K6_PROMETHEUS")
    return value.rstrip("/") if value else None


def _endpoint(labels: dict) -> str | None:
    name = labels.get("endpoint") or labels.get("name")
    return name if isinstance(name, str) and NAME.match(name) else None


def _bucket_ns(lower: float, upper: float) -> int:
    """A bucket's geometric middle in nanoseconds (the zero bucket: its upper bound's half)."""
    middle = math.sqrt(lower * upper) if lower > 0 else upper / 2
    return int(round(middle * 1e9))


class _Collected:
    """Every endpoint's counts, causes and per-second histograms, from cumulative samples."""

    def __init__(self) -> None:
        self.series: dict[str, dict] = {}
        self.start: float | None = None
        self.end = 0.0
        self.dropped = 0
        self.aborted: str | None = None
        self.stopped: dict[str, int] = {}
        self.scenarios: set[str] = set()

    def entry(self, name: str) -> dict:
        return self.series.setdefault(
            name,
            {
                "count": 0,
                "failures": 0,
                "statuses": {},
                "errors": {},
                "histogram": Histogram(),
                "ttfb": Histogram(),
                "seconds": {},
            },
        )

    def second(self, s: dict, t: float) -> list:
        return s["seconds"].setdefault(int(t), [0, 0, Histogram()])

    def histograms(self, labels: dict, samples: list, ttfb: bool = False) -> None:
        name = _endpoint(labels)
        if name is None:
            return  # a request perfspec did not make (setup, a hand-added call)
        s = self.entry(name)
        if labels.get("profile") or labels.get("scenario"):  # a profile's scenarios carry its name
            self.scenarios.add(labels.get("profile") or labels["scenario"])
        previous: dict[tuple[str, str], int] = {}
        before = 0
        for t, h in samples:
            t = float(t)
            count = int(float(h.get("count", 0)))
            buckets = {(str(b[1]), str(b[2])): int(float(b[3])) for b in h.get("buckets") or []}
            if count < before:  # a restarted sender: its counts begin again
                previous, before = {}, 0
            new = Histogram()
            for key, n in buckets.items():
                if n > previous.get(key, 0):
                    new.add(_bucket_ns(float(key[0]), float(key[1])), n - previous.get(key, 0))
            previous, added, before = buckets, count - before, count
            if added <= 0:
                continue
            self.start = t if self.start is None else min(self.start, t)
            self.end = max(self.end, t)
            if ttfb:
                s["ttfb"].merge(new)
                continue
            slot = self.second(s, t)
            slot[0] += added
            slot[2].merge(new)
            s["count"] += added
            s["histogram"].merge(new)
            status = str(labels.get("status", "0"))
            s["statuses"][status] = s["statuses"].get(status, 0) + added
            if labels.get("expected_response") == "false":
                self.failed(
                    s, slot, added, labels.get("error") or (f"HTTP {status}" if status != "0" else "failed")
                )

    def failed(self, s: dict, slot: list, n: int, cause: str) -> None:
        s["failures"] += n
        slot[1] += n
        s["errors"][cause] = s["errors"].get(cause, 0) + n

    def counter(self, metric: str, labels: dict, samples: list) -> None:
        values = [(float(t), float(v)) for t, v in samples]
        total = max((v for _, v in values), default=0.0)
        if metric == "k6_dropped_iterations_total":
            self.dropped += int(total)
        elif metric == "k6_perfspec_aborted_total" and total > 0:
            self.aborted = labels.get("reason") or "aborted"
        elif metric == "k6_perfspec_stopped_users_total" and total > 0:
            cause = labels.get("reason") or "on_start failed"
            self.stopped[cause] = self.stopped.get(cause, 0) + int(total)
        elif metric == "k6_perfspec_failed_total":
            name = _endpoint(labels)
            if name is None:
                return
            s, before = self.entry(name), 0.0
            for t, v in values:
                if v > before:
                    slot = self.second(s, t)
                    if labels.get("unsent") == "yes":  # never sent: no latency sample counts it
                        s["count"] += int(v - before)
                        slot[0] += int(v - before)
                    self.failed(s, slot, int(v - before), labels.get("reason") or "failed")
                before = v

    def document(self, profile: str | None) -> dict:
        start = int(self.start or 0) - PUSH_SECONDS  # a push carries the second before it
        series = {}
        for name, s in sorted(self.series.items()):
            series[name] = {
                "count": s["count"],
                "failures": s["failures"],
                "statuses": s["statuses"],
                "errors": s["errors"],
                "histogram": s["histogram"].to_pairs(),
                "ttfb_histogram": s["ttfb"].to_pairs(),
                **file_form(
                    Timeline.from_slots((t - start, c, f, h) for t, (c, f, h) in sorted(s["seconds"].items()))
                ),
            }
        chosen = profile or (next(iter(self.scenarios)) if len(self.scenarios) == 1 else None)
        return {
            "format": "perfspec-results/1",
            "tool": "k6",
            "unit": "ns",
            "profile": chosen,
            "started": float(start),
            "ended": self.end,
            "resolution": round(RESOLUTION, 4),
            "source": "k6 experimental-prometheus-rw, native histograms",
            "dropped_iterations": self.dropped,
            "aborted": self.aborted,
            "stopped_users": self.stopped,
            "series": series,
        }


def _raw(client: Client, metric: str, testid: str, seconds: float, at: float) -> list[dict]:
    selector = f"{metric}{{testid={json.dumps(testid)}}}[{max(1, math.ceil(seconds))}s]"
    return client.raw(selector, at)


def collect(
    url: str, testid: str, started: float, out: Path, profile: str | None = None, settle: float = 10.0
) -> dict:
    """Read one run's k6 series back (waiting up to `settle` s for the last push) and write them
    to `out` as a per-second histogram result; returns the document."""
    client = Client(url, timeout=30)
    deadline, last = time.monotonic() + settle, None
    while True:
        at = time.time() + 1
        got = _Collected()
        window = at - started  # samples of an earlier run under the same testid stay out
        for metric in (*LATENCY, "k6_http_req_waiting_seconds"):
            for row in _raw(client, metric, testid, window, at):
                labels = row.get("metric") or {}
                if metric == "k6_http_req_waiting_seconds" and labels.get("ttfb") != "yes":
                    continue
                got.histograms(labels, row.get("histograms") or [], ttfb=metric.endswith("waiting_seconds"))
        for metric in (
            "k6_perfspec_failed_total",
            "k6_dropped_iterations_total",
            "k6_perfspec_aborted_total",
            "k6_perfspec_stopped_users_total",
        ):
            for row in _raw(client, metric, testid, window, at):
                got.counter(metric, row.get("metric") or {}, row.get("values") or [])
        # the final push lands after k6 exits: wait until the totals stop growing
        total = sum(s["count"] for s in got.series.values())
        if time.monotonic() > deadline or (total and total == last):
            break
        last = total
        time.sleep(PUSH_SECONDS)
    doc = got.document(profile)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    tmp.replace(out)
    return doc


def reconcile(out: Path, summaries: list[Path]) -> int:
    """k6's own request count (`--summary-export` files) against the requests read back; the
    difference (k6's remote-write output skips a series in its last push when that push holds only
    samples older than the series' newest) is written to the result file, and returned."""
    counted = 0
    for path in summaries:
        try:
            counted += int(json.loads(path.read_text())["metrics"]["http_reqs"]["count"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0  # no summary to hold it to: nothing claimed
    doc = json.loads(out.read_text())
    read = sum(s["count"] for s in doc["series"].values())
    missing = max(0, counted - read)
    doc["k6_counted"], doc["missing_requests"] = counted, missing
    out.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    return missing


__all__ = ["RESULT", "PrometheusError", "collect", "configured_url", "k6_args", "k6_env", "reconcile"]

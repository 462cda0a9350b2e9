"""`perfspec check` reading k6 results: seconds, peak RSS and bytes per request.

1. NDJSON (`--k6-output ndjson`) at 250 k and 1 M points. Goals: <= 3 s at 1 M points, RSS flat
   (<= 150 MB).
2. The histograms read back from Prometheus (`--k6-output prometheus`, runtime/k6_remote.py) of a
   30-minute run at 1,000 requests/s over 8 endpoints, laid out as `collect` writes them (each
   latency at its native-histogram bucket's middle, per endpoint per second). Goals: <= 50 bytes
   per request, <= 5 s.
3. The same run streamed (the default, runtime/k6_stream.py): k6's lines read through a pipe into
   3-digit per-second histograms, written by the stream's own `document()` (the seconds packed in
   `columns`, runtime/timeline.py). Goals (#33): <= 50 bytes per request, <= 1 s; and the whole
   `perfspec check` of it beside `perfspec validate` of its spec (what every command pays to
   start and load the spec).

Each file is read in a fresh process so its peak RSS is its own.
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write(path: Path, points: int) -> None:
    """Points laid out exactly as `k6 run --out json` writes them (k6 v1.1: compact JSON, keys
    metric/type/data, tags sorted): half latency samples, half ok flags, 8 endpoints."""
    rng = random.Random(1)
    compact = {"separators": (",", ":")}
    with path.open("w") as out:
        for i in range(points // 2):
            second = i // 500
            stamp = f"2026-11-23T08:{second // 60 % 60:02d}:{second % 60:02d}.{i % 1000:03d}000000Z"
            tags = {"endpoint": f"ep{i % 8}", "group": "", "scenario": "default", "status": "200"}
            out.write(
                json.dumps(
                    {
                        "metric": "http_req_duration",
                        "type": "Point",
                        "data": {"time": stamp, "value": rng.lognormvariate(3, 0.6), "tags": tags},
                    },
                    **compact,
                )
                + "\n"
            )
            out.write(
                json.dumps(
                    {
                        "metric": "perfspec_failed",
                        "type": "Point",
                        "data": {"time": stamp, "value": 0, "tags": tags},
                    },
                    **compact,
                )
                + "\n"
            )


def write_histograms(path: Path, seconds: int, rate: int, endpoints: int = 8) -> int:
    """A k6-histograms.json of `seconds` at `rate` requests/s; returns the request count."""
    from perfspec.runtime.histogram import Histogram
    from perfspec.runtime.k6_remote import _bucket_ns
    from perfspec.runtime.timeline import Timeline, file_form

    rng = random.Random(1)
    per = rate // endpoints
    series = {}
    for e in range(endpoints):
        whole, timeline = Histogram(), []
        for t in range(seconds):
            h = Histogram()
            for _ in range(per):
                index = math.ceil(math.log2(rng.lognormvariate(-4, 0.6)) * 8)  # schema 3, in seconds
                h.add(_bucket_ns(2 ** ((index - 1) / 8), 2 ** (index / 8)))
            whole.merge(h)
            timeline.append((t, per, 0, h))
        series[f"ep{e}"] = {
            "count": per * seconds,
            "failures": 0,
            "statuses": {"200": per * seconds},
            "errors": {},
            "histogram": whole.to_pairs(),
            "ttfb_histogram": [],
            **file_form(Timeline.from_slots(timeline)),  # as k6_remote writes it
        }
    doc = {
        "format": "perfspec-results/1",
        "tool": "k6",
        "unit": "ns",
        "profile": "soak",
        "started": 0.0,
        "ended": float(seconds),
        "resolution": 0.0443,
        "dropped_iterations": 0,
        "series": series,
    }
    path.write_text(json.dumps(doc, separators=(",", ":")))
    return per * endpoints * seconds


def write_streamed(path: Path, seconds: int, rate: int, endpoints: int = 8) -> int:
    """A k6-histograms.json as the stream writes it: a Reading fed the latencies of `seconds`
    at `rate` requests/s (log-normal, median 20 ms), finished by k6_stream.document()."""
    from perfspec.runtime.histogram import round3
    from perfspec.runtime.k6_stream import document
    from perfspec.runtime.readers.k6 import Reading

    rng = random.Random(1)
    r = Reading(str(path), path.stem, "soak")
    per = rate // endpoints
    for e in range(endpoints):
        name = f"ep{e}"
        r.slots[name] = {}
        from perfspec.runtime.results import Series

        r.series[name] = Series("k6", "http", name, str(path), path.stem, profile="soak")
        for t in range(seconds):
            counts: dict[int, int] = {}
            for _ in range(per):
                key = round3(int(rng.lognormvariate(math.log(20), 0.6) * 1e6))
                counts[key] = counts.get(key, 0) + 1
            r.slots[name][t] = [per, 0, counts]
            r.series[name].count += per
            r.series[name].statuses["200"] = r.series[name].statuses.get("200", 0) + per
    r.seconds = {str(t): t for t in range(seconds)}
    r.first, r.last, r.points = "2026-11-23T08:00:00Z", "2026-11-23T08:30:00Z", per * endpoints * seconds
    path.write_text(json.dumps(document(r), separators=(",", ":")))
    return per * endpoints * seconds


CHECK_SPEC = """\
version: 1
name: soak
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
%(endpoints)s
profiles:
  soak: {users: 50, for: 30m}
targets:
  - {name: reads, select: {class: read}, p95: < 100ms, p99: < 200ms, error_rate: < 1%%}
  - {name: writes, select: {class: write}, p95: < 100ms, error_rate: < 1%%}
  - {name: all, select: {profile: soak}, p50: < 50ms, throughput: "> 500/s"}
  - {name: ep0, select: {endpoint: ep0}, p95: < 100ms}
"""


def whole_check(folder: Path, rounds: int = 3) -> dict[str, list[float]]:
    """`perfspec check` of the streamed run as a user runs it (a process: reading, judging, the
    reports), against a spec of the 8 endpoints with four targets: the spec judged before (its
    targets read from the user's cache, compiler/cli/check_cache.py) and a first check (an empty
    cache: the spec loaded and compiled); beside them `perfspec validate` of the same spec (the
    start-up and the spec's loading every command pays); seconds per round. Python writes its
    bytecode caches as an installed package does (the first, untimed round)."""
    lines = [f"    ep{e}: {{get: /{e}, class: {'read' if e < 4 else 'write'}}}" for e in range(8)]
    spec = folder / "soak.yaml"
    spec.write_text(CHECK_SPEC % {"endpoints": "\n".join(lines)})
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["XDG_CACHE_HOME"] = str(folder / "cache")
    cli = [sys.executable, "-m", "perfspec.compiler.cli"]
    check = [*cli, "check", str(spec), str(folder / "results"), "--report", str(folder / "report")]
    subprocess.run(check, capture_output=True, check=False, env=env)
    times: dict[str, list[float]] = {"judged before": [], "first": [], "validate": []}
    for r in range(rounds):  # alternating: the machine's drift falls on all
        validate = [*cli, "validate", str(spec)]
        for what, cmd in (("judged before", check), ("first", check), ("validate", validate)):
            own = {**env, "XDG_CACHE_HOME": str(folder / f"cache-{r}")} if what == "first" else env
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=False, env=own)
            times[what].append(time.perf_counter() - t0)
    return times


def child(path: str) -> None:
    from perfspec.runtime.checker import read_results

    t0 = time.perf_counter()
    series, _ = read_results([Path(path)])
    elapsed = time.perf_counter() - t0
    # the peak of this process' own memory (getrusage's ru_maxrss would carry the parent's peak
    # from before the fork: Linux keeps it across execve)
    status = Path("/proc/self/status").read_text()
    rss = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024
    print(json.dumps({"seconds": elapsed, "rss_mb": rss, "samples": sum(s.count for s in series)}))


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for points in (250_000, 1_000_000):
            path = Path(tmp) / f"k6-{points}.ndjson"
            write(path, points)
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True
            )
            r = json.loads(out.stdout)
            print(
                f"{points:>9,} points ({path.stat().st_size / 1e6:.0f} MB): {r['seconds']:.2f} s, "
                f"peak RSS {r['rss_mb']:.0f} MB, {r['samples']:,} latency samples"
            )
    print("goals: <= 3 s at 1 M points, peak RSS <= 150 MB and flat")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "k6-histograms.json"
        requests = write_histograms(path, 30 * 60, 1000)
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout)
        print(
            f"30 min at 1,000/s read back from Prometheus: {requests:,} requests in "
            f"{path.stat().st_size / 1e6:.1f} MB ({path.stat().st_size / requests:.1f} bytes/request): "
            f"{r['seconds']:.2f} s, peak RSS {r['rss_mb']:.0f} MB, {r['samples']:,} latency samples"
        )
    print("goals: <= 50 bytes/request, <= 5 s")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "results").mkdir()
        path = Path(tmp) / "results" / "k6-histograms.json"
        requests = write_streamed(path, 30 * 60, 1000)
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout)
        print(
            f"30 min at 1,000/s streamed (3 digits): {requests:,} requests in "
            f"{path.stat().st_size / 1e6:.1f} MB ({path.stat().st_size / requests:.1f} bytes/request): "
            f"{r['seconds']:.2f} s, peak RSS {r['rss_mb']:.0f} MB, {r['samples']:,} latency samples"
        )
        times = whole_check(Path(tmp), rounds=5)
        for what, label in (
            ("judged before", "the whole `perfspec check` of it (read, judge 4 targets, reports)"),
            ("first", "the same, the spec's first check (loaded and compiled)"),
            ("validate", "`perfspec validate` of its spec (start-up and loading the spec)"),
        ):
            got = times[what]
            rounds = ", ".join(f"{t:.2f}" for t in got)
            print(f"  {label}: median {statistics.median(got):.2f} s (rounds {rounds})")
    print("goals (#33): <= 50 bytes/request, <= 1 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`perfspec check` reading a k6 NDJSON file: seconds and peak RSS at 250 k and 1 M points.

Goals: <= 3 s at 1 M points, RSS flat (<= 150 MB). Each size runs in a fresh process so its
peak RSS is its own.
"""

from __future__ import annotations

import json
import random
import resource
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
            out.write(json.dumps({"metric": "http_req_duration", "type": "Point", "data": {
                "time": stamp, "value": rng.lognormvariate(3, 0.6), "tags": tags}}, **compact) + "\n")
            out.write(json.dumps({"metric": "perfspec_failed", "type": "Point", "data": {
                "time": stamp, "value": 0, "tags": tags}}, **compact) + "\n")


def child(path: str) -> None:
    from perfspec.runtime.checker import read_results

    t0 = time.perf_counter()
    series, _ = read_results([Path(path)])
    elapsed = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "rss_mb": rss, "samples": sum(s.count for s in series)}))


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for points in (250_000, 1_000_000):
            path = Path(tmp) / f"k6-{points}.ndjson"
            write(path, points)
            out = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True,
                                 text=True, check=True)
            r = json.loads(out.stdout)
            print(f"{points:>9,} points ({path.stat().st_size / 1e6:.0f} MB): {r['seconds']:.2f} s, "
                  f"peak RSS {r['rss_mb']:.0f} MB, {r['samples']:,} latency samples")
    print("goals: <= 3 s at 1 M points, peak RSS <= 150 MB and flat")
    return 0


if __name__ == "__main__":
    sys.exit(main())

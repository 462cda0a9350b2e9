"""Load + validate a spec of 1,000 endpoints, 200 queries and 50 targets.

Prints the time and its ratio to a bare `yaml.compose(..., Loader=CSafeLoader)` of the same
file (the floor any positioned loader pays). Goals: <= 0.3 s total, ratio <= 6.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

from perfspec.compiler.validate import check_file


def big_spec(endpoints: int = 1000, queries: int = 200, targets: int = 50) -> str:
    lines = [
        "version: 1",
        "name: bench",
        "hosts:",
        '  api: {url: "${API_URL:-http://127.0.0.1:8000}"}',
        "databases:",
        '  main: {dsn: "${PERFSPEC_DSN}"}',
        "http:",
        "  defaults: {host: api, expect: {status: [200]}}",
        "  endpoints:",
    ]
    for i in range(endpoints):
        lines.append(
            f'    ep{i}: {{get: "/api/v1/items/{i}", class: c{i % 25}, tags: [t{i % 10}], '
            f"weight: {1 + i % 3}}}"
        )
    lines += ["  flows:", "    user:", "      think_time: 1s..2s", "      tasks:"]
    lines += [f"        - ep{i}" for i in range(endpoints)]
    lines += ["sql:", "  database: main", "  params:", "    id: {int: [1, 1000000]}", "  queries:"]
    for i in range(queries):
        lines.append(
            f'    q{i}: {{sql: "SELECT * FROM t{i % 7} WHERE id = $1", params: [id], '
            f"class: s{i % 5}, concurrency: [1, 10]}}"
        )
    lines += [
        "profiles:",
        "  smoke: {users: 10, for: 1m}",
        "  peak:",
        "    stages:",
        "      - {ramp: 0 -> 200 users, over: 1m}",
        "      - {hold: 200 users, for: 10m}",
        "targets:",
    ]
    for i in range(targets):
        if i % 2:
            lines.append(
                f"  - {{name: t{i}, select: {{class: c{i % 25}}}, p95: < 200ms, "
                f"avg: < 100ms, error_rate: < 1%, warn: {{p95: < 150ms}}}}"
            )
        else:
            lines.append(
                f'  - {{name: t{i}, select: {{sql_class: s{i % 5}}}, p99: < 20ms, throughput: "> 100/s"}}'
            )
    return "\n".join(lines) + "\n"


def best_of(fn, n: int = 7) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main() -> int:
    text = big_spec()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(text)
        compose_best, compose_med = best_of(lambda: yaml.compose(path.read_text(), Loader=yaml.CSafeLoader))
        ours_best, ours_med = best_of(lambda: check_file(path))
    print(f"spec: {text.count(chr(10))} lines, 1000 endpoints, 200 queries, 50 targets")
    print(f"yaml.compose (CSafeLoader): best {compose_best:.3f} s, median {compose_med:.3f} s")
    print(f"perfspec load+validate:     best {ours_best:.3f} s, median {ours_med:.3f} s")
    print(f"ratio (best/best): {ours_best / compose_best:.2f}  (goal <= 6)")
    print(f"total goal <= 0.3 s: {'met' if ours_best <= 0.3 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Distributed efficiency: does sharding the load over hosts raise the load one machine generates?

Every load host and the target are network namespaces on a private bridge (tests/netns.py; run
as root). The target is nginx (one worker) serving a small JSON. Variants, in alternating rounds
with the same users and duration, all running the generated files of one spec:

- Locust: one process; a master and 1 worker; a master and 2 workers (each worker its own host)
- k6: one process; 2 execution segments on 2 hosts

Prints requests per second per variant (median of rounds) and the ratio to one process of the
same tool. On one machine every host shares its cores, so this measures the tools' own scaling
(Locust is one Python process per core; k6 already uses every core), not more hardware.

    python bench/distributed.py [--seconds 10] [--rounds 3] [--users 20]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_efficiency import nginx_conf, no_failures  # noqa: E402
from tests.netns import network  # noqa: E402

SPEC = """\
version: 1
name: spread
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    data: {get: /data.json}
profiles:
  bench: {users: USERS, for: SECONDSs}
targets:
  - {name: data, select: {endpoint: data}, p95: < 1s}
"""
LOAD_HOSTS = ["master", "load1", "load2"]


def build(work: Path, users: int, seconds: int) -> Path:
    spec = work / "spread.yaml"
    spec.write_text(SPEC.replace("USERS", str(users)).replace("SECONDS", str(seconds)))
    subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", "build", str(spec), "--out", str(work / "gen")],
        check=True,
        capture_output=True,
        cwd=work,
    )
    return work / "gen" / "spread"


def locust(net, folder: Path, env: dict, workers: int, seconds: int, work: Path) -> float:
    prefix = work / f"locust-{time.monotonic_ns()}"
    base = ["locust", "-f", str(folder / "locustfile.py")]
    head = [*base, "--headless", "--only-summary", "--csv", str(prefix)]
    if workers == 0:
        procs = [net.popen("load1", head, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    else:
        procs = [
            net.popen(
                "master",
                [*head, "--master", "--master-bind-host", net["master"], "--expect-workers", str(workers)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        ]
        procs += [
            net.popen(
                f"load{i + 1}",
                [*base, "--worker", "--master-host", net["master"]],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for i in range(workers)
        ]
    for p in procs:
        p.wait(timeout=seconds + 120)
    with open(f"{prefix}_stats.csv") as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    no_failures("locust", int(row["Failure Count"]), int(row["Request Count"]))
    return float(row["Requests/s"])


def k6(net, folder: Path, env: dict, segments: int, seconds: int, work: Path) -> float:
    from perfspec.runtime.suites import k6_segment

    summaries = [work / f"k6-{time.monotonic_ns()}-{i}.json" for i in range(segments)]
    procs = [
        net.popen(
            f"load{i + 1}",
            [
                "k6",
                "run",
                "--quiet",
                *k6_segment(i, segments),
                "--summary-export",
                str(summaries[i]),
                str(folder / "k6.js"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(segments)
    ]
    for p in procs:
        p.wait(timeout=seconds + 120)
    metrics = [json.loads(s.read_text())["metrics"] for s in summaries]
    for m in metrics:
        no_failures("k6", int(m["http_req_failed"]["passes"]), int(m["http_reqs"]["count"]))
    return sum(m["http_reqs"]["rate"] for m in metrics)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    variants = {
        "locust x1": ("locust", 0),
        "locust master+1": ("locust", 1),
        "locust master+2": ("locust", 2),
        "k6 x1": ("k6", 1),
        "k6 2 segments": ("k6", 2),
    }
    runs: dict[str, list[float]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as tmp, network(["target", *LOAD_HOSTS]) as net:
        work = Path(tmp)
        folder = build(work, args.users, args.seconds)
        net.popen("target", nginx_conf(work / "nginx", f"{net['target']}:8080"), stderr=subprocess.DEVNULL)
        net.wait_port("target", 8080)
        env = {
            **os.environ,
            "API_URL": f"http://{net['target']}:8080",
            "PERFSPEC_PROFILE": "bench",
            "PERFSPEC_RESULTS_DIR": str(work / "results"),
            "K6_NO_USAGE_REPORT": "true",
        }
        for r in range(args.rounds):
            order = list(variants) if r % 2 == 0 else list(reversed(variants))
            for name in order:
                tool, n = variants[name]
                rps = (locust if tool == "locust" else k6)(net, folder, env, n, args.seconds, work)
                runs[name].append(rps)
                print(f"round {r + 1}: {name:<16} {rps:>9,.0f} rps", flush=True)
    print(
        f"\n{args.users} users, {args.seconds} s, {args.rounds} rounds; medians, and the ratio to one "
        "process of the same tool:"
    )
    for name, values in runs.items():
        tool = variants[name][0]
        one = statistics.median(runs["locust x1" if tool == "locust" else "k6 x1"])
        mid = statistics.median(values)
        print(f"  {name:<16} {mid:>9,.0f} rps  x{mid / one:.2f}")


if __name__ == "__main__":
    main()

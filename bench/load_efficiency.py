"""Load efficiency: generated Locust/k6 files against minimal hand-written ones on one fast target.

Starts Debian's nginx on 127.0.0.1 (an ephemeral port, a temp folder) serving a small JSON, then
runs, in alternating rounds with the same users and duration: the generated locustfile and a
minimal FastHttpUser file; the generated k6 script (with and without `--out json`) and a minimal
k6 script (`http.get` in the default function). Prints requests per second of each and the
ratios generated / hand-written (median of rounds). Goals: k6 >= 0.9, Locust >= 0.95.

    python bench/load_efficiency.py [--seconds 20] [--rounds 3] [--users 20]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SPEC = """\
version: 1
name: bench
hosts:
  target: {url: "${API_URL}"}
http:
  endpoints:
    data: {get: /data.json, class: read}
profiles:
  bench: {users: %(users)d, for: %(seconds)ds}
targets:
  - {name: read, select: {class: read}, p95: < 1s, error_rate: < 1%%}
"""

HAND_LOCUST = """\
from locust import FastHttpUser, constant, task


class Hand(FastHttpUser):
    wait_time = constant(0)

    @task
    def data(self):
        self.client.get("/data.json")
"""

HAND_K6 = """\
import http from "k6/http";

export const options = { vus: __ENV.USERS, duration: __ENV.SECONDS + "s" };

export default function () {
  http.get(__ENV.API_URL + "/data.json");
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_conf(folder: Path, listen: str) -> list[str]:
    """An nginx serving a small JSON at /data.json on `listen`; returns its command line."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        sys.exit("nginx is not installed: apt-get install nginx-light")
    (folder / "www").mkdir(parents=True)
    (folder / "www" / "data.json").write_text(json.dumps({"id": 1, "name": "agent", "status": "ok"}))
    conf = folder / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen {listen};
        location / {{ root {folder}/www; default_type application/json; }}
    }}
}}
""")
    return [nginx, "-c", str(conf), "-p", str(folder)]


def start_nginx(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(nginx_conf(folder, f"127.0.0.1:{port}"), stderr=subprocess.DEVNULL)
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.05)
    proc.kill()
    sys.exit("nginx did not start")


def locust_rps(locustfile: Path, url: str, users: int, seconds: int, work: Path, shaped: bool) -> float:
    prefix = work / f"locust-{time.monotonic_ns()}"
    args = [
        "locust",
        "-f",
        str(locustfile),
        "--headless",
        "--only-summary",
        "--host",
        url,
        "--csv",
        str(prefix),
    ]
    if not shaped:
        args += ["-u", str(users), "-r", str(users), "-t", f"{seconds}s"]
    env = {**os.environ, "PERFSPEC_PROFILE": "bench", "PERFSPEC_RESULTS_DIR": str(work)}
    cpu = run_measured(args, env, seconds)
    with open(f"{prefix}_stats.csv") as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    return float(row["Requests/s"]), cpu / max(1, int(row["Request Count"]))


def k6_rps(script: Path, url: str, users: int, seconds: int, work: Path, out: bool) -> float:
    summary = work / f"k6-{time.monotonic_ns()}.json"
    args = ["k6", "run", "--quiet", "--summary-export", str(summary)]
    if out:
        args += ["--out", f"json={work / 'k6.ndjson'}"]
    env = {
        **os.environ,
        "API_URL": url,
        "USERS": str(users),
        "SECONDS": str(seconds),
        "PERFSPEC_PROFILE": "bench",
        "K6_NO_USAGE_REPORT": "true",
    }
    cpu = run_measured([*args, str(script)], env, seconds)
    (work / "k6.ndjson").unlink(missing_ok=True)
    reqs = json.loads(summary.read_text())["metrics"]["http_reqs"]
    return float(reqs["rate"]), cpu / max(1, int(reqs["count"]))


def run_measured(args: list[str], env: dict[str, str], seconds: int) -> float:
    """Run the load generator; return the CPU seconds (user + system) it spent."""
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + seconds + 60
    while True:
        pid, _, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = 0  # reaped here; keep Popen from waiting again
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            proc.kill()
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--tools", default="locust,k6", help="which pairs to run: locust, k6 or both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "spec.yaml").write_text(SPEC % {"users": args.users, "seconds": args.seconds})
        subprocess.run(
            [
                sys.executable,
                "-m",
                "perfspec.compiler.cli",
                "build",
                str(work / "spec.yaml"),
                "--out",
                str(work / "gen"),
                "--only",
                "locust,k6",
            ],
            check=True,
            capture_output=True,
        )
        (work / "hand_locust.py").write_text(HAND_LOCUST)
        (work / "hand_k6.js").write_text(HAND_K6)
        nginx, url = start_nginx(work / "nginx")
        runs: dict[str, list[tuple[float, float]]] = {
            k: []
            for k in (
                "locust generated",
                "locust hand-written",
                "k6 generated",
                "k6 generated --out json",
                "k6 hand-written",
                "k6 hand-written --out json",
            )
        }
        try:
            for r in range(args.rounds):
                order = [
                    (
                        "locust generated",
                        lambda: locust_rps(
                            work / "gen/spec/locustfile.py", url, args.users, args.seconds, work, True
                        ),
                    ),
                    (
                        "locust hand-written",
                        lambda: locust_rps(
                            work / "hand_locust.py", url, args.users, args.seconds, work, False
                        ),
                    ),
                    (
                        "k6 generated",
                        lambda: k6_rps(work / "gen/spec/k6.js", url, args.users, args.seconds, work, False),
                    ),
                    (
                        "k6 hand-written",
                        lambda: k6_rps(work / "hand_k6.js", url, args.users, args.seconds, work, False),
                    ),
                    (
                        "k6 generated --out json",
                        lambda: k6_rps(work / "gen/spec/k6.js", url, args.users, args.seconds, work, True),
                    ),
                    (
                        "k6 hand-written --out json",
                        lambda: k6_rps(work / "hand_k6.js", url, args.users, args.seconds, work, True),
                    ),
                ]
                if r % 2:  # alternate which of each pair runs first
                    order = [order[1], order[0], order[3], order[2], order[5], order[4]]
                order = [(n, fn) for n, fn in order if n.split()[0] in args.tools.split(",")]
                for name, fn in order:
                    runs[name].append(fn())
                    rps, cpu = runs[name][-1]
                    line = f"round {r + 1}: {name:28s} {rps:10,.0f} rps {cpu * 1e6:8.1f} µs CPU/request"
                    print(line, flush=True)
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
    report(runs, args)


PAIRS = {
    "locust": ("locust generated", "locust hand-written", "goal >= 0.95"),
    "k6": ("k6 generated", "k6 hand-written", "goal >= 0.9"),
    "k6, both with --out json": ("k6 generated --out json", "k6 hand-written --out json", "no goal"),
}


def report(runs: dict[str, list[tuple[float, float]]], args: argparse.Namespace) -> None:
    """Print medians, and per pair the median of the per-round ratios (a round's two runs are adjacent
    in time, so the machine's drift between rounds cancels out), for throughput and for the load
    generator's CPU per request (hand-written / generated: 1.0 means the generated file spends no
    more CPU per request than the minimal one)."""
    print(f"\n{args.users} users, {args.seconds} s, {args.rounds} rounds, {os.cpu_count()} cores; medians:")
    for k, v in runs.items():
        if v:
            rps = statistics.median(x for x, _ in v)
            cpu = statistics.median(c for _, c in v) * 1e6
            print(f"  {k:28s} {rps:10,.0f} rps {cpu:8.1f} µs CPU/request   rounds: "
                  f"{', '.join(f'{x:,.0f}' for x, _ in v)}")
    print("ratios generated / hand-written: median of per-round ratios (rps; CPU efficiency)")
    for label, (gen, hand, goal) in PAIRS.items():
        if not runs[gen] or not runs[hand]:
            continue
        pairs = list(zip(runs[gen], runs[hand], strict=False))
        rps = statistics.median(g[0] / h[0] for g, h in pairs)
        cpu = statistics.median(h[1] / g[1] for g, h in pairs)
        print(f"  {label:28s} rps {rps:.3f}   CPU/request {cpu:.3f}   ({goal})")

if __name__ == "__main__":
    main()

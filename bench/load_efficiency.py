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


def start_nginx(folder: Path) -> tuple[subprocess.Popen, str]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        sys.exit("nginx is not installed: apt-get install nginx-light")
    port = free_port()
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
        listen 127.0.0.1:{port};
        location / {{ root {folder}/www; default_type application/json; }}
    }}
}}
""")
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(folder)], stderr=subprocess.DEVNULL)
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
    subprocess.run(args, env=env, capture_output=True, timeout=seconds + 60, check=False)
    with open(f"{prefix}_stats.csv") as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    return float(row["Requests/s"])


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
    subprocess.run([*args, str(script)], env=env, capture_output=True, timeout=seconds + 60, check=False)
    (work / "k6.ndjson").unlink(missing_ok=True)
    return float(json.loads(summary.read_text())["metrics"]["http_reqs"]["rate"])


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
        runs: dict[str, list[float]] = {
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
                    print(f"round {r + 1}: {name:28s} {runs[name][-1]:10,.0f} rps", flush=True)
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
    med = {k: statistics.median(v) if v else float("nan") for k, v in runs.items()}
    print(
        f"\n{args.users} users, {args.seconds} s, {args.rounds} rounds, {os.cpu_count()} cores; median rps:"
    )
    for k, v in med.items():
        print(f"  {k:28s} {v:10,.0f}   rounds: {', '.join(f'{x:,.0f}' for x in runs[k])}")
    print("ratios (generated / hand-written, medians):")
    locust = med["locust generated"] / med["locust hand-written"]
    print(f"  locust                        {locust:.3f}  (goal >= 0.95)")
    print(
        f"  k6                            {med['k6 generated'] / med['k6 hand-written']:.3f}  (goal >= 0.9)"
    )
    print(
        f"  k6, both with --out json      "
        f"{med['k6 generated --out json'] / med['k6 hand-written --out json']:.3f}"
    )


if __name__ == "__main__":
    main()

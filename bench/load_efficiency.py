"""Load efficiency: generated Locust/k6 files against minimal hand-written ones on one fast target.

Starts Debian's nginx on 127.0.0.1 (an ephemeral port, a temp folder; pinned to all cores but the
last) serving a small JSON, checks it answers 200, then runs with the same users and duration the
generated locustfile and a minimal FastHttpUser file (and that file with perfspec's recording,
which the goal allows to cost the difference), the generated k6 script (with and without
`--out json`) and a minimal k6 script (`http.get` in the default function), in two modes:

- alternate: one run after the other, who goes first alternating by round;
- paired: a pair's two runs at once, both pinned to the last core. The kernel shares that core
  evenly between them, so their request rates compare their CPU cost per request, and whatever
  the machine does meanwhile (this one's speed drifts by 10-30 % between runs) hits both alike.

Locust's rate is its steady one (its per-second history without the first 2 s and the last);
k6's is its own (requests over the test's duration). A run with any failed request stops the
bench: figures of failing requests measure the failure path. Prints per mode the rps of each and
per pair the median of the per-round ratios generated / hand-written. Goals: >= 0.95 for both
tools, for one endpoint and for a two-endpoint flow (3:1, the hand-written peers set the same
`name` tags).

    python bench/load_efficiency.py [--seconds 20] [--rounds 3] [--users 20] [--mode both]
    python bench/load_efficiency.py --tools k6 --pairs "k6 output: stream vs none"

The pair "k6 output: stream vs none" is the generated script with perfspec run's default output
(k6's JSON into a pipe read by this process, runtime/k6_stream.py) against the same script with
no output at all (goal >= 0.95); "k6 output: ndjson vs none" the same with the file of samples.
"""

from __future__ import annotations

import argparse
import csv
import functools
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

# a realistic flow: two endpoints, 3:1, each judged by its own target (by k6's `name` tag)
FLOW_SPEC = """\
version: 1
name: flow
hosts:
  target: {url: "${API_URL}"}
http:
  endpoints:
    data: {get: /data.json}
    item: {get: /item.json}
  flows:
    reader: {tasks: {data: 3, item: 1}}
profiles:
  bench: {users: %(users)d, for: %(seconds)ds}
targets:
  - {name: data, select: {endpoint: data}, p95: < 1s, error_rate: < 1%%}
  - {name: item, select: {endpoint: item}, p95: < 1s, error_rate: < 1%%}
"""

HAND_LOCUST = """\
from locust import FastHttpUser, constant, task


class Hand(FastHttpUser):
    wait_time = constant(0)

    @task
    def data(self):
        self.client.get("/data.json")
"""

# the minimal file with perfspec's recording (its request listener, imported from the build's
# perfspec_locust_results.py): the issue allows recording every request's latency to cost the
# difference to the goal, and this pair shows what the generated file costs besides
HAND_LOCUST_RECORDING = (
    """\
import sys

sys.path.insert(0, %(gen)r)
import perfspec_locust_results  # registers perfspec's request listener
"""
    + HAND_LOCUST
)

HAND_LOCUST_FLOW = """\
from locust import FastHttpUser, constant, task


class Hand(FastHttpUser):
    wait_time = constant(0)

    @task(3)
    def data(self):
        self.client.get("/data.json", name="data")

    @task(1)
    def item(self):
        self.client.get("/item.json", name="item")
"""

# the same name tags as the generated script's: k6's work per sample depends on its tags
HAND_K6_FLOW = """\
import http from "k6/http";

export const options = { vus: __ENV.USERS, duration: __ENV.SECONDS + "s" };

export default function () {
  if (Math.random() < 0.75) http.get(__ENV.API_URL + "/data.json", { tags: { name: "data" } });
  else http.get(__ENV.API_URL + "/item.json", { tags: { name: "item" } });
}
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
    (folder / "www" / "item.json").write_text(json.dumps({"id": 2, "name": "item", "status": "ok"}))
    conf = folder / "nginx.conf"
    # as root, nginx's workers run as `nobody`, who cannot read a private temp folder: every
    # request would be answered 403 (and a bench of failing requests measures the failure path)
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(f"""
{user}
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


def start_nginx(folder: Path, pin: str | None = None) -> tuple[subprocess.Popen, str]:
    """nginx on an ephemeral port; with `pin`, on those cores only (taskset)."""
    port = free_port()
    cmd = nginx_conf(folder, f"127.0.0.1:{port}")
    if pin:
        cmd = ["taskset", "-c", pin, *cmd]
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                url = f"http://127.0.0.1:{port}"
                answers_200(url + "/data.json")
                return proc, url
        time.sleep(0.05)
    proc.kill()
    sys.exit("nginx did not start")


def answers_200(url: str) -> None:
    """The bench measures successful requests only: a target that refuses them stops it."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    if status != 200:
        sys.exit(f"the target answers {status} at {url}, not 200")


def no_failures(tool: str, failed: int, count: int) -> None:
    """A run with failed requests measured something else than the bench means to: stop."""
    if failed:
        sys.exit(f"{tool}: {failed:,} of {count:,} requests failed; the figures would be meaningless")


class Run:
    """One load generator process: started, then measured when it has ended."""

    def __init__(self, label: str, args: list[str], env: dict[str, str], result: Path, core: str | None):
        if core is not None:  # pinned: `paired` mode shares one core between two runs
            args = ["taskset", "-c", core, *args]
        self.label, self.result = label, result
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait(self, seconds: int) -> None:
        try:
            self.proc.wait(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            sys.exit(f"{self.label}: still running {seconds + 60} s after it should have ended")


def start_locust(
    label: str,
    locustfile: Path,
    url: str,
    args: argparse.Namespace,
    work: Path,
    shaped: bool,
    core: str | None,
) -> Run:
    prefix = work / f"locust-{time.monotonic_ns()}"
    cmd = [
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
    if not shaped:  # the hand-written file; the generated one runs its profile (same users and time)
        cmd += ["-u", str(args.users), "-r", str(args.users), "-t", f"{args.seconds}s"]
    env = {**os.environ, "PERFSPEC_PROFILE": "bench", "PERFSPEC_RESULTS_DIR": str(work)}
    return Run(label, cmd, env, prefix, core)


def locust_result(run: Run) -> tuple[float, int]:
    """Requests per second over the steady part of the run (Locust's per-second history, without
    its first 2 s of spawning and its last second), and the whole run's request count."""
    with open(f"{run.result}_stats.csv") as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    no_failures("locust", int(row["Failure Count"]), int(row["Request Count"]))
    with open(f"{run.result}_stats_history.csv") as handle:
        history = [
            (int(r["Timestamp"]), int(r["Total Request Count"]))
            for r in csv.DictReader(handle)
            if r["Name"] == "Aggregated"
        ]
    steady = [h for h in history if h[0] >= history[0][0] + 2][:-1]
    if len(steady) < 2:
        sys.exit("locust: the run is too short for a steady window; use --seconds 6 or more")
    (t0, n0), (t1, n1) = steady[0], steady[-1]
    return (n1 - n0) / (t1 - t0), int(row["Request Count"])


STREAMS: dict[Path, object] = {}  # summary file -> the k6_stream.Stream reading that run's pipe


def start_k6(
    label: str,
    script: Path,
    url: str,
    args: argparse.Namespace,
    work: Path,
    out: bool | str,
    core: str | None,
) -> Run:
    """`out`: False (no output), True (--out json to a file) or "stream" (perfspec run's default:
    --out json into a pipe this process reads into per-second histograms, runtime/k6_stream.py)."""
    summary = work / f"k6-{time.monotonic_ns()}.json"
    cmd = ["k6", "run", "--quiet", "--summary-export", str(summary)]
    if out == "stream":
        from perfspec.runtime.k6_stream import Stream

        stream = STREAMS[summary] = Stream(work / f"k6-histograms-{time.monotonic_ns()}.json")
        cmd += ["--out", stream.arg]
    elif out:
        cmd += ["--out", f"json={work / f'k6-{time.monotonic_ns()}.ndjson'}"]
    env = {
        **os.environ,
        "API_URL": url,
        "USERS": str(args.users),
        "SECONDS": str(args.seconds),
        "PERFSPEC_PROFILE": "bench",
        "K6_NO_USAGE_REPORT": "true",
    }
    return Run(label, [*cmd, str(script)], env, summary, core)


def k6_result(run: Run) -> tuple[float, int]:
    """k6's own rate (its requests over the test's duration) and request count."""
    metrics = json.loads(run.result.read_text())["metrics"]
    reqs = metrics["http_reqs"]
    no_failures("k6", int(metrics["http_req_failed"]["passes"]), int(reqs["count"]))
    for ndjson in run.result.parent.glob("k6-*.ndjson"):
        ndjson.unlink()
    if run.result in STREAMS:
        STREAMS.pop(run.result).close()
    return float(reqs["rate"]), int(reqs["count"])


def measure(runs: list[Run], seconds: int) -> list[float]:
    """Wait for runs started together; per run its requests per second.

    (No CPU per request: the whole process's CPU time includes its start-up and its end, which
    differ between a profile-shaped and a `-t` run and hid a 5-7 % difference in Locust's steady
    state. Paired mode measures that cost directly: each run gets half of the shared core.)"""
    for run in runs:
        run.wait(seconds)
    return [(locust_result if run.label.startswith("locust") else k6_result)(run)[0] for run in runs]


PAIRS = {  # label: generated, hand-written, goal
    "locust": ("locust generated", "locust hand-written", "goal >= 0.95"),
    "locust, both recording": (
        "locust generated",
        "locust hand-written + recording",
        "the cost besides recording",
    ),
    "locust, two endpoints 3:1": ("locust generated flow", "locust hand-written flow", "goal >= 0.95"),
    "k6": ("k6 generated", "k6 hand-written", "goal >= 0.95"),
    "k6, two endpoints 3:1": ("k6 generated flow", "k6 hand-written flow", "goal >= 0.95"),
    # the generated script keeps no body it does not read (discardResponseBodies): the same
    # option in the hand-written one shows what the rest of the generated script costs
    "k6 vs hand-written discarding bodies": ("k6 generated", "k6 hand-written, bodies discarded", "no goal"),
    # what per-endpoint thresholds need in a hand-written script: the request's `name` tag
    "k6 vs hand-written with a name tag": ("k6 generated", "k6 hand-written, name tag", "no goal"),
    "k6, both with --out json": ("k6 generated --out json", "k6 hand-written --out json", "no goal"),
    "k6 output: stream vs none": ("k6 generated, stream", "k6 generated", "goal >= 0.95"),
    "k6 output: ndjson vs none": ("k6 generated --out json", "k6 generated", "no goal"),
}


def starters(work: Path, url: str, args: argparse.Namespace) -> dict:
    """Per run label: a function starting that run, pinned to a core or not."""
    gen = work / "gen" / "spec"
    locust = {  # label: file, runs the spec's profile (else -u/-r/-t)
        "locust generated": (gen / "locustfile.py", True),
        "locust hand-written": (work / "hand_locust.py", False),
        "locust hand-written + recording": (work / "hand_locust_recording.py", False),
        "locust generated flow": (work / "gen" / "flow" / "locustfile.py", True),
        "locust hand-written flow": (work / "hand_locust_flow.py", False),
    }
    k6 = {  # label: script, with --out json
        "k6 generated": (gen / "k6.js", False),
        "k6 hand-written": (work / "hand_k6.js", False),
        "k6 generated --out json": (gen / "k6.js", True),
        "k6 hand-written --out json": (work / "hand_k6.js", True),
        "k6 generated, stream": (gen / "k6.js", "stream"),
        "k6 generated flow": (work / "gen" / "flow" / "k6.js", False),
        "k6 hand-written flow": (work / "hand_k6_flow.js", False),
        "k6 hand-written, bodies discarded": (work / "hand_k6_discard.js", False),
        "k6 hand-written, name tag": (work / "hand_k6_named.js", False),
    }
    return {
        **{
            label: functools.partial(start_locust, label, f, url, args, work, flag)
            for label, (f, flag) in locust.items()
        },
        **{
            label: functools.partial(start_k6, label, f, url, args, work, flag)
            for label, (f, flag) in k6.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--tools", default="locust,k6", help="which pairs to run: locust, k6 or both")
    parser.add_argument("--pairs", help="only these pairs, by name, separated by ';'")
    parser.add_argument(
        "--mode",
        choices=("alternate", "paired", "both"),
        default="both",
        help="alternate: one run after the other; paired: each pair at once, on one shared core",
    )
    args = parser.parse_args()
    modes = ["alternate", "paired"] if args.mode == "both" else [args.mode]
    pairs = [p for p in PAIRS if p.split(",")[0].split(" ")[0] in args.tools.split(",")]
    pairs = [p for p in pairs if args.pairs is None or p in args.pairs.split(";")]
    cores = os.cpu_count() or 1
    shared_core = str(cores - 1)  # paired runs share the last core; nginx keeps the others
    results: dict[str, dict[str, dict[str, list[float]]]] = {m: {} for m in modes}  # mode, pair, run
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        build(work, args)
        pin = ",".join(map(str, range(cores - 1))) if cores > 1 else None
        nginx, url = start_nginx(work / "nginx", pin)
        start = starters(work, url, args)
        try:
            for r in range(args.rounds):
                for mode in modes:
                    for pair in pairs:
                        gen, hand, _ = PAIRS[pair]
                        order = [gen, hand] if r % 2 == 0 else [hand, gen]  # alternate who goes first
                        if mode == "alternate":
                            measured = [measure([start[label](None)], args.seconds)[0] for label in order]
                        else:
                            measured = measure([start[label](shared_core) for label in order], args.seconds)
                        for label, rps in zip(order, measured, strict=True):
                            results[mode].setdefault(pair, {}).setdefault(label, []).append(rps)
                            print(f"round {r + 1} {mode:9s} {label:28s} {rps:10,.0f} rps", flush=True)
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
    for mode in modes:
        report(mode, results[mode], args)


def build(work: Path, args: argparse.Namespace) -> None:
    """The bench spec built by perfspec, and the two minimal hand-written files."""
    sizes = {"users": args.users, "seconds": args.seconds}
    for name, spec in (("spec", SPEC), ("flow", FLOW_SPEC)):
        (work / f"{name}.yaml").write_text(spec % sizes)
        cmd = [sys.executable, "-m", "perfspec.compiler.cli", "build", str(work / f"{name}.yaml")]
        subprocess.run(
            [*cmd, "--out", str(work / "gen"), "--only", "locust,k6"], check=True, capture_output=True
        )
    (work / "hand_locust.py").write_text(HAND_LOCUST)
    (work / "hand_locust_recording.py").write_text(HAND_LOCUST_RECORDING % {"gen": str(work / "gen")})
    (work / "hand_k6.js").write_text(HAND_K6)
    (work / "hand_locust_flow.py").write_text(HAND_LOCUST_FLOW)
    (work / "hand_k6_flow.js").write_text(HAND_K6_FLOW)
    discard = 'duration: __ENV.SECONDS + "s", discardResponseBodies: true }'
    (work / "hand_k6_discard.js").write_text(HAND_K6.replace('duration: __ENV.SECONDS + "s" }', discard))
    named = '"/data.json", { tags: { name: "data" } })'
    (work / "hand_k6_named.js").write_text(HAND_K6.replace('"/data.json")', named))


def report(mode: str, pairs: dict[str, dict[str, list[float]]], args: argparse.Namespace) -> None:
    """Print per pair the medians of its runs and the median of the per-round ratios (a round's
    two runs are adjacent in time, or simultaneous when paired, so the machine's drift cancels)."""
    print(f"\n{mode}: {args.users} users, {args.seconds} s, {args.rounds} rounds, {os.cpu_count()} cores")
    for pair, runs in pairs.items():
        gen, hand, goal = PAIRS[pair]
        ratios = [g / h for g, h in zip(runs[gen], runs[hand], strict=True)]
        print(
            f"  {pair}: generated / hand-written {statistics.median(ratios):.3f} ({goal}; rounds "
            f"{', '.join(f'{x:.3f}' for x in ratios)})"
        )
        for label in (gen, hand):
            rounds = ", ".join(f"{x:,.0f}" for x in runs[label])
            print(f"    {label:33s} {statistics.median(runs[label]):8,.0f} rps (rounds {rounds})")


if __name__ == "__main__":
    main()

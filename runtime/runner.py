"""`perfspec run`: the suites on embedded defaults or real hosts, results in results/<run-id>/.

With a host's environment variable unset, the demo target is started on 127.0.0.1 (and a
throwaway PostgreSQL for it and for the SQL benchmark when the database's DSN is unset too).
Everything started is stopped on exit, Ctrl-C or a tool's crash.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from .contracts import RunRequest, check_request
from .net import mask, stop
from .postgres import throwaway
from .processes import SIGNALLED


class PreflightFailed(RuntimeError):
    """A host the run needs does not answer: one line per problem, no load was sent."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def resolve(parts: list, env: dict | None = None) -> str | None:
    env = os.environ if env is None else env
    out = []
    for p in parts:
        if p[0] == "text":
            out.append(p[1])
        elif p[0] == "env":
            value = env.get(p[1]) or (p[2] if len(p) > 2 else None)
            if value is None:
                return None
            out.append(value)
        else:
            return None
    return "".join(out)


@contextlib.contextmanager
def demo(dsn: str | None, extra: list[str]) -> Iterator[str]:
    args = [sys.executable, "-m", "perfspec.runtime.demo", "--port", "0", *extra]
    env = {**os.environ, "PERFSPEC_DEMO_DSN": dsn or ""}  # the environment, not argv: `ps` shows argv
    if not dsn:
        env.pop("PERFSPEC_DEMO_DSN")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("http://"):
            detail = (proc.stderr.read() if proc.stderr else "")[-800:]
            raise RuntimeError(f"the demo target did not start: {detail}")
        yield line.strip()
    finally:
        stop(proc)


def git_commit() -> str | None:
    """The working tree's commit (short), + when it has changes; None outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return head.stdout.strip() + ("+" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def git_branch() -> str | None:
    """The branch this run measures: a pull request's head or the pushed branch on GitHub
    Actions, else the working tree's branch; None outside git or on a detached head."""
    for name in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "PERFSPEC_BRANCH"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--abbrev-ref", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    name = head.stdout.strip()
    return name if head.returncode == 0 and name and name != "HEAD" else None


def execute(
    info: RunRequest, run_dir: Path, suites: list[str], demo_args: list[str], log=print, console=None
) -> dict:
    """Run the suites; return the manifest (also written to run_dir/manifest.json). With a rich
    console, a live display follows every suite."""
    from .progress import Display
    from .suites import Suite, run_k6, run_locust, run_sql

    info = dict(check_request(info))

    artifacts, results, logs = run_dir / "artifacts" / info["stem"], run_dir / "results", run_dir / "logs"
    results.mkdir(parents=True, exist_ok=True)
    logs.mkdir(exist_ok=True)
    workers = max(1, int(info.get("workers") or 1))
    need = embedded_needs(info, suites)  # refusals first: nothing started, not even git
    manifest: dict = {
        "format": MANIFEST_FORMAT,
        "run_id": info.get("run_id") or run_dir.name,
        "spec": info["file"],
        "spec_sha256": info["sha256"],
        "profile": info["profile"],
        "suites": suites,
        "started": time.time(),
        "tools": {},
        "hosts": {},
        "exit": {},
        "partial": False,
        "note": info.get("note"),
        "commit": git_commit(),
        "branch": git_branch(),
        "workers": workers,
    }
    with contextlib.ExitStack() as stack, terminated_as_interrupted():
        display = stack.enter_context(Display(console, log)) if console is not None else None
        try:
            env = {
                **os.environ,
                "PERFSPEC_RESULTS_DIR": str(results),
                "K6_NO_USAGE_REPORT": "true",
                "PERFSPEC_ROOT": os.getcwd(),  # data files are relative to it (k6's open())
                # what every result file says of itself: this run, this spec (evidence.py checks it)
                "PERFSPEC_RUN_ID": manifest["run_id"],
                "PERFSPEC_SPEC_SHA256": info["sha256"],
            }
            if info["profile"]:
                env["PERFSPEC_PROFILE"] = info["profile"]
            if info.get("duration"):
                env["PERFSPEC_DURATION"] = f"{info['duration']:g}"
                manifest["duration"] = info["duration"]
            if info.get("users"):  # --users: Locust's own -u (its env form) and the k6 support module
                env["LOCUST_USERS"] = env["PERFSPEC_USERS"] = str(info["users"])
                manifest["load"] = (
                    f"--users {info['users']}: held for the profile's length instead of its stages"
                )
            if info.get("rate"):
                env["PERFSPEC_RATE"] = f"{info['rate']:g}"
                env.setdefault("PERFSPEC_DURATION", f"{info['seconds']:g}")
                manifest["load"] = (
                    f"--rate {info['rate']:g}/s: a constant arrival rate instead of the profile's stages"
                )
            prom_url = start_hosts(stack, info, need, env, manifest, artifacts, demo_args, log)
            if not info.get("no_preflight"):
                preflight(info, env, log, suites, need["dsn"] if "sql" in suites and not need["db"] else None)
            ctx = Suite(info, artifacts, results, logs, env, manifest, log, display, workers)
            if "sql" in suites:
                run_sql(ctx, setup=need["db"] or bool(info.get("load_setup")))
            for tool in ("locust", "k6"):
                if tool in suites:
                    (run_locust if tool == "locust" else run_k6)(ctx)
            if prom_url:
                gather_prometheus(
                    prom_url, artifacts, results, manifest, log, embedded=bool(manifest.get("prometheus"))
                )
        except KeyboardInterrupt:
            manifest["partial"] = True
            how = f"stopped by {SIGNALLED[-1]}" if SIGNALLED else "interrupted"
            manifest["interrupted"] = how
            log(f"{how}: stopping what was started; partial results are kept")
        finally:
            manifest["ended"] = time.time()
            manifest["files"] = result_files(results)
            (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


MANIFEST_FORMAT = "perfspec-run/1"


@contextlib.contextmanager
def terminated_as_interrupted() -> Iterator[None]:
    """SIGTERM (a CI job cancelled, `kill`) ends a run as Ctrl-C does: the tools get a SIGINT and
    time to write, what was started is stopped, the partial results are judged and reported."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum: int, _frame: object) -> None:
        SIGNALLED.append("SIGTERM")
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def result_files(results: Path) -> dict[str, dict]:
    """Every file the run left in its results folder, with its SHA-256 and size: `perfspec check`
    refuses a result file that is not listed, or whose content changed."""
    out = {}
    for path in sorted(p for p in results.rglob("*") if p.is_file()):
        h = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
        out[path.relative_to(results).as_posix()] = {"sha256": h.hexdigest(), "bytes": path.stat().st_size}
    return out


def embedded_needs(info: dict, suites: list[str]) -> dict:
    """Whether the run needs the demo target and a throwaway PostgreSQL (a host or the DSN is
    unset, or --demo), and the DSN given; --no-embedded turns a need into an error."""
    forced = bool(info.get("demo"))  # --demo: the embedded target even where hosts have defaults
    demo_ = (forced or any(resolve(parts) is None for parts in info["hosts"].values())) and any(
        s in suites for s in ("locust", "k6")
    )
    db_parts = info.get("dsn")
    dsn = resolve(db_parts) if db_parts and not forced else None
    db = (("sql" in suites and db_parts is not None) or demo_) and dsn is None
    if demo_ and not forced:
        refuse_unserved(info)
    if info.get("no_embedded") and (demo_ or db):
        unset = sorted(
            {
                p[1]
                for parts in [*info["hosts"].values(), db_parts or []]
                for p in parts
                if p[0] == "env" and not os.environ.get(p[1]) and len(p) < 3
            }
        )
        raise RuntimeError(
            f"--no-embedded: {', '.join(unset) or 'a host or the DSN'} unset; set "
            "the variable (in GitHub Actions: a repository variable or secret)"
        )
    return {"forced": forced, "demo": demo_, "db": db, "dsn": dsn, "db_parts": db_parts or []}


class NotServedByDemo(RuntimeError):
    """A host without a URL whose calls the embedded demo target does not serve."""


def refuse_unserved(info: dict) -> None:
    """A host whose variable is unset runs on the embedded demo target only when the demo serves
    its calls: an imported spec's API would answer 404 to every call of the whole profile."""
    from .demo.app import serves

    unserved = []
    for host, parts in info["hosts"].items():
        if resolve(parts) is not None:
            continue
        unserved += [
            (host, method, path, name) for method, path, name in info.get("routes", {}).get(host, [])
        ]
    unserved = [u for u in unserved if not serves(u[1], u[2])]
    if not unserved:
        return
    host = unserved[0][0]
    names = sorted({p[1] for p in info["hosts"][host] if p[0] == "env"})
    shown = ", ".join(f"{name} ({method} {path})" for _, method, path, name in unserved[:3])
    more = f" and {len(unserved) - 3} more" if len(unserved) > 3 else ""
    where = info.get("host_lines", {}).get(host, info["file"])
    raise NotServedByDemo(
        f"host {host!r} ({where}) has no URL: {' or '.join(names) or 'its variable'} is unset, and the "
        f"embedded demo target does not serve {shown}{more}: a run on it would answer 404. Set "
        f"{names[0] if names else 'the variable'} to the service's URL (e.g. "
        f"{names[0] if names else 'API_URL'}=http://127.0.0.1:8000), or run on the demo target anyway "
        "with --demo"
    )


def start_hosts(
    stack: contextlib.ExitStack,
    info: dict,
    need: dict,
    env: dict,
    manifest: dict,
    artifacts: Path,
    demo_args: list[str],
    log,
) -> str | None:
    """The throwaway PostgreSQL, the demo target and its Prometheus as needed; their URLs into
    `env` where the spec's variables are unset. Returns the Prometheus URL (None: none)."""
    forced = need["forced"]
    if need["db"]:
        log("starting a throwaway PostgreSQL ...")
        need["dsn"] = stack.enter_context(throwaway())
        manifest["database"] = "embedded throwaway PostgreSQL"
    elif need["dsn"]:
        manifest["database"] = mask(need["dsn"])
    prom_url = info.get("prometheus") or os.environ.get("PROMETHEUS_URL") or None
    if need["demo"]:
        url = stack.enter_context(demo(need["dsn"], demo_args))
        log(f"demo target on {url}")
        if prom_url is None and (artifacts / "alerts.rules.yml").exists():
            prom_url = start_prometheus(stack, url, artifacts, info, log)
            if prom_url:
                manifest["prometheus"] = "embedded throwaway Prometheus " + prom_url
        for name in {p[1] for parts in info["hosts"].values() for p in parts if p[0] == "env"}:
            if forced or not os.environ.get(name):
                env[name] = url
        manifest["hosts"] = {n: "embedded demo target " + url for n in info["hosts"]}
    else:
        manifest["hosts"] = {n: mask(resolve(p) or "") for n, p in info["hosts"].items()}
    if need["dsn"]:
        for p in need["db_parts"]:
            if p[0] == "env" and (forced or not os.environ.get(p[1])):
                env[p[1]] = need["dsn"]
    return prom_url


def start_prometheus(stack: contextlib.ExitStack, url: str, artifacts: Path, info: dict, log) -> str | None:
    """The embedded Prometheus for a run on the demo target; None (said why) without the binary,
    except in CI, where a missing server fails the run."""
    from .prometheus import PrometheusUnavailable, embedded

    try:
        prom = stack.enter_context(embedded(url, [artifacts / "alerts.rules.yml"], info.get("matchers")))
    except PrometheusUnavailable as exc:
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"CI: {exc}") from None
        log(f"no server-side view and no alert check: {exc}")
        return None
    log(f"Prometheus on {prom} (scraping the demo target every second, the spec's rules loaded)")
    return prom


def gather_prometheus(url: str, artifacts: Path, results: Path, manifest: dict, log, embedded: bool) -> None:
    """results/prometheus.json: PromQL targets, the service's view of each HTTP target per tool
    window, and the spec's alerts that went pending or firing."""
    from .prometheus import EVIDENCE, SCRAPE, collect

    windows = {k: v for k, v in manifest.get("windows", {}).items() if k in ("locust", "k6")}
    targets = json.loads((artifacts / "targets.json").read_text(encoding="utf-8"))
    if embedded:
        time.sleep(2 * SCRAPE + 0.5)  # the last scrape and one rule evaluation after the load
    evidence = collect(url, targets, windows, lag=2 * SCRAPE if embedded else 0.0)
    (results / EVIDENCE).write_text(
        json.dumps(evidence, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    fired = [a["alert"] for a in (evidence.get("alerts") or {}).get("alerts", []) if "firing_at" in a]
    log(
        f"Prometheus: {len(evidence['server'])} server-side view(s), {len(evidence['promql'])} PromQL "
        f"target(s), alerts firing: {', '.join(fired) or 'none'}"
    )


def preflight(info: dict, env: dict, log, suites: list[str], dsn: str | None) -> None:
    """Every host the HTTP suites use and the SQL suite's database answer before any load; else
    PreflightFailed within seconds."""
    from .preflight import HostCheck, check_database, check_hosts

    hosts = []
    if any(s in suites for s in ("locust", "k6")):
        lines, health = info["host_lines"], info["host_health"]
        hosts = [
            HostCheck(name, url, lines.get(name, info["file"]), health.get(name))
            for name in info.get("hosts_used", info["hosts"])
            if (url := resolve(info["hosts"][name], env)) is not None
        ]
    started = time.monotonic()
    problems = check_hosts(hosts, mask)
    if dsn:
        problems += check_database(dsn, info.get("db_line") or info["file"], mask)
    if problems:
        raise PreflightFailed(problems)
    what = f"{len(hosts)} host(s)" + (" and the database" if dsn else "")
    log(f"preflight: {what} answer ({time.monotonic() - started:.1f}s)")


def spec_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()

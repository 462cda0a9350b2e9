"""Whatever dies first, what perfspec started is stopped and removed."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from perfspec.runtime.postgres import _alive

from .conftest import ROOT, require_tool

pytestmark = pytest.mark.tools


def _servers() -> dict[str, int]:
    """Throwaway PostgreSQL folders in the temp folder -> their postmaster's pid."""
    out = {}
    for pidfile in glob.glob(
        os.path.join(tempfile.gettempdir(), "perfspec-pg*", "**", "postmaster.pid"), recursive=True
    ):
        try:
            out[str(Path(pidfile).parent)] = int(Path(pidfile).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return out


def test_a_killed_demo_target_leaves_no_postgresql_and_no_folder_behind() -> None:
    before = _servers()
    demo = subprocess.Popen(
        [sys.executable, "-m", "perfspec.runtime.demo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert demo.stdout is not None and demo.stdout.readline().startswith("http://")
        started = {k: v for k, v in _servers().items() if k not in before}
        assert len(started) == 1, started
        ((folder, pid),) = started.items()
        assert _alive(pid)
        demo.send_signal(signal.SIGKILL)
        demo.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (_alive(pid) or Path(folder).exists()):
            time.sleep(0.2)
        assert not _alive(pid), "the demo's PostgreSQL outlived it"
        assert not Path(folder).exists(), f"{folder} was left behind"
    finally:
        demo.kill()


@pytest.mark.slow
def test_a_killed_embedded_postgresql_still_ends_in_reports_and_leaves_nothing(tmp_path: Path) -> None:
    require_tool("locust")
    before = _servers()
    folders = set(glob.glob(os.path.join(tempfile.gettempdir(), "perfspec-pg*")))

    def kill_postgres() -> None:
        for folder, pid in _servers().items():
            if folder not in before:
                os.kill(pid, signal.SIGKILL)

    timer = threading.Timer(6.0, kill_postgres)
    timer.start()
    env = {k: v for k, v in os.environ.items() if k not in ("API_URL", "PERFSPEC_DSN")}
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "perfspec.compiler.cli",
                "run",
                "specs/quickstart.yaml",
                "--only",
                "locust",
                "--duration",
                "12s",
                "--out",
                str(tmp_path),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            env=env,
        )
    finally:
        timer.cancel()
    assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-2000:]
    [run] = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert (run / "verdicts.json").exists() and (run / "report.html").exists()
    assert not {k for k in _servers() if k not in before}  # no server left running
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "perfspec-pg*"))) <= folders  # nor a folder


# --- a fault in the middle of a run: each ends in reports, an exit code and its cause, and leaves
# no process and no temp folder behind ----------------------------------------------------------


def _tagged(tag: str) -> dict[int, str]:
    """Processes whose environment holds the run's tag: whatever it started, reparented or not
    (every child inherits it), and nothing another test started."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if tag.encode() not in (entry / "environ").read_bytes():
                continue
            cmd = (entry / "cmdline").read_bytes()
            out[int(entry.name)] = cmd.replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
    return out


def _children(pid: int, needle: str) -> list[int]:
    """Descendants of `pid` whose command line holds `needle`."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) != parent:
                    continue
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, ValueError, IndexError):
                continue
            todo.append(int(entry.name))
            if needle in cmd:
                found.append(int(entry.name))
    return found


def _terminate(proc: subprocess.Popen) -> str:
    os.kill(proc.pid, signal.SIGTERM)  # a cancelled CI job: perfspec alone gets it
    return "stopped by SIGTERM"


def _kill(needle: str):
    def fault(proc: subprocess.Popen) -> str:
        victims = _children(proc.pid, needle)
        assert victims, f"no {needle} under perfspec"
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        return needle

    return fault


# Ctrl-C: tests/test_check.py::test_ctrl_c_keeps_and_judges_partial_results_and_stops_what_it_started
FAULTS = {
    "SIGTERM to perfspec": (_terminate, 1, "stopped by SIGTERM: stopping what was started"),
    # the client's figures still judge the targets; the server-side view and the alerts say why
    # they are missing
    "SIGKILL of the embedded Prometheus": (
        _kill("prometheus --config.file"),
        0,
        "alerts: unknown (cannot reach Prometheus at",
    ),
    "SIGKILL of the demo target": (_kill("perfspec.runtime.demo"), 1, "connection refused"),
}


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_mid_run_ends_in_reports_its_cause_and_leaves_nothing(tmp_path: Path, fault: str) -> None:
    require_tool("k6")
    require_tool("prometheus")
    apply, code, cause = FAULTS[fault]
    tag = f"fault-{os.getpid()}-{time.monotonic_ns()}"
    private = Path(tempfile.mkdtemp(prefix="pf-", dir="/tmp"))  # short: PostgreSQL's socket path
    env = {k: v for k, v in os.environ.items() if k not in ("API_URL", "PERFSPEC_DSN", "PROMETHEUS_URL")}
    env.update(PERFSPEC_FAULT_TAG=tag, TMPDIR=str(private))  # what the run starts, where it keeps things
    cmd = [
        sys.executable,
        "-m",
        "perfspec.compiler.cli",
        "run",
        "specs/quickstart.yaml",
        "--only",
        "sql,k6",
        "--duration",
        "8s",
        "--out",
        str(tmp_path),
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not _children(proc.pid, "k6 run") and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        time.sleep(2.5)  # k6 has been measuring for a few seconds
        apply(proc)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == code, out[-4000:]
    assert cause in out, out[-4000:]
    [run] = [p for p in tmp_path.iterdir() if p.is_dir()]
    for report in ("verdicts.json", "report.html", "junit.xml", "manifest.json"):
        assert (run / report).exists(), report
    time.sleep(1)
    assert not _tagged(tag), "left running"
    # pgserver keeps its lock registry (platformdirs' runtime-<uid>/python_PostgresServer) by design
    left = [p.name for p in private.iterdir() if not p.name.startswith("runtime-")]
    shutil.rmtree(private)
    assert not left, f"temp folders left: {left}"

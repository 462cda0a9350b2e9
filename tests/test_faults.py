"""Whatever dies first, what perfspec started is stopped and removed."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from perfspec.runtime.postgres import _alive

from .conftest import ROOT, require_tool


def _servers() -> dict[str, int]:
    """Throwaway PostgreSQL folders in the temp folder -> their postmaster's pid."""
    out = {}
    for pidfile in glob.glob(os.path.join(tempfile.gettempdir(), "perfspec-pg*", "**", "postmaster.pid"),
                             recursive=True):
        try:
            out[str(Path(pidfile).parent)] = int(Path(pidfile).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return out


def test_a_killed_demo_target_leaves_no_postgresql_and_no_folder_behind() -> None:
    before = _servers()
    demo = subprocess.Popen([sys.executable, "-m", "perfspec.runtime.demo", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert demo.stdout is not None and demo.stdout.readline().startswith("http://")
        started = {k: v for k, v in _servers().items() if k not in before}
        assert len(started) == 1, started
        (folder, pid), = started.items()
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
        proc = subprocess.run([sys.executable, "-m", "perfspec.compiler.cli", "run", "specs/quickstart.yaml",
                               "--only", "locust", "--duration", "12s", "--out", str(tmp_path)],
                              cwd=ROOT, capture_output=True, text=True, timeout=180, env=env)
    finally:
        timer.cancel()
    assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-2000:]
    [run] = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert (run / "verdicts.json").exists() and (run / "report.html").exists()
    assert not {k for k in _servers() if k not in before}  # no server left running
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "perfspec-pg*"))) <= folders  # nor a folder

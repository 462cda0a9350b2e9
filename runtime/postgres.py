"""A throwaway PostgreSQL for embedded runs and tests: pgserver, or the machine's initdb."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from . import tools
from .net import free_port


class PostgresUnavailable(RuntimeError):
    """Neither pgserver nor PostgreSQL binaries could start a server."""


def _binaries() -> Path | None:
    found = tools.path("initdb")
    return Path(found).parent if found else None


@contextlib.contextmanager
def _initdb(bindir: Path) -> Iterator[str]:
    """initdb in a temp folder, listening on 127.0.0.1 on a free port; removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="perfspec-pg-"))
    data, port = folder / "data", free_port()
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "postgres", "postgres") if _has_user("postgres") else None
        run_as = ["runuser", "-u", "postgres", "--"] if _has_user("postgres") else []
        if not run_as:
            raise PostgresUnavailable("running as root without a postgres user")
    try:
        subprocess.run(
            [
                *run_as,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *run_as,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-w",
                "-l",
                str(folder / "log"),
                "-o",
                f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c max_connections=300",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        with _reaped(str(folder)):
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    except subprocess.CalledProcessError as exc:
        raise PostgresUnavailable(exc.stderr.decode(errors="replace")[-500:]) from None
    finally:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                capture_output=True,
                timeout=60,
            )
        stop_server(str(folder))


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@contextlib.contextmanager
def _pgserver() -> Iterator[str]:
    import warnings

    with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set" (root, containers)
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver  # type: ignore[import-not-found]

        folder = tempfile.mkdtemp(prefix="perfspec-pgserver-")
        server = pgserver.get_server(folder, cleanup_mode="delete")
    try:
        with _reaped(folder):
            yield server.get_uri()
    finally:
        # a server killed under us (OOM, by hand) must not turn the run's end into a crash
        with contextlib.suppress(Exception):
            server.cleanup()
        stop_server(folder)


@contextlib.contextmanager
def _reaped(folder: str) -> Iterator[None]:
    """A watcher process that stops the server and removes its folder if this process dies
    without cleaning up (SIGKILL, OOM): no orphaned PostgreSQL, no folder left behind."""
    watcher = subprocess.Popen(
        [sys.executable, "-m", "perfspec.runtime.postgres", "--reap", str(os.getpid()), folder],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield
    finally:
        watcher.kill()
        watcher.wait()


def stop_server(folder: str, grace: float = 10.0) -> None:
    """Immediate shutdown of the PostgreSQL whose data lies under `folder`; then remove it."""
    for pidfile in glob.glob(os.path.join(folder, "**", "postmaster.pid"), recursive=True):
        try:
            pid = int(Path(pidfile).read_text().split()[0])
            os.kill(pid, signal.SIGQUIT)
        except (OSError, ValueError, IndexError):
            continue
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    with contextlib.suppress(OSError):  # a zombie is not alive
        if Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
            return False
    return True


def _reap(parent: int, folder: str) -> None:
    while _alive(parent) and os.path.isdir(folder):
        time.sleep(0.5)
    if os.path.isdir(folder):
        stop_server(folder)


@contextlib.contextmanager
def throwaway(tcp: bool = False) -> Iterator[str]:
    """Yield the DSN of a fresh PostgreSQL; stop and remove it on exit, whatever happens.

    tcp=True prefers the machine's binaries listening on 127.0.0.1 (benchmarks compare over TCP);
    otherwise pgserver (a Unix socket) is tried first.
    """
    bindir = _binaries()
    order = ["initdb", "pgserver"] if tcp else ["pgserver", "initdb"]
    errors = []
    for way in order:
        try:
            if way == "pgserver":
                with _pgserver() as dsn:
                    yield dsn
                return
            if bindir is not None:
                with _initdb(bindir) as dsn:
                    yield dsn
                return
            errors.append("initdb: no PostgreSQL binaries found")
        except ImportError:
            errors.append("pgserver: not installed")
        except PostgresUnavailable as exc:
            errors.append(f"{way}: {exc}")
    raise PostgresUnavailable("; ".join(errors))


if __name__ == "__main__":  # python -m perfspec.runtime.postgres --reap PID FOLDER
    if len(sys.argv) == 4 and sys.argv[1] == "--reap":
        _reap(int(sys.argv[2]), sys.argv[3])

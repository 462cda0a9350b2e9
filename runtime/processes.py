"""The processes of one suite: started side by side (a Locust master and workers, k6 shards, or
just one), each one's output into logs/<name>[-i].log, followed by the live display, waited for
within a timeout. The suite's exit code is the worst of its processes'. Ctrl-C gives the tools up
to 30 s to write their partial results, then stops them; a tool killed by a signal nobody here
sent, or stopped at its timeout, marks the run partial."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from .net import stop


def tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0][:120]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unavailable"


def worst(codes: list[int | None]) -> int:
    """One exit code for a suite: a crash beats a failed threshold (99) beats errors (1)."""
    known = [c if c is not None else -1 for c in codes]
    for c in known:
        if c not in (0, 1, 99):
            return c
    return 99 if 99 in known else 1 if 1 in known else 0


def run_tool(
    name: str,
    cmds: list[tuple[list[str], dict]],
    manifest: dict,
    log,
    timeout: float,
    logs: Path,
    display=None,
    watcher=None,
    stages: list | None = None,
    unit: str = "users",
) -> None:
    """Run one suite's processes and record its exit, window and log files in the manifest."""
    log(f"running {name} ..." + (f" ({len(cmds)} processes)" if len(cmds) > 1 else ""))
    started = time.time()
    paths = [logs / (f"{name}.log" if i == 0 else f"{name}-{i}.log") for i in range(len(cmds))]
    if display is not None and watcher is not None:
        display.follow(name, watcher, stages=stages, unit=unit)
    manifest.setdefault("windows", {})[name] = [started, started]
    procs: list[subprocess.Popen] = []
    handles = []
    try:
        try:
            for (cmd, env), path in zip(cmds, paths, strict=True):
                handles.append(path.open("w", encoding="utf-8"))
                procs.append(
                    subprocess.Popen(cmd, env=env, stdout=handles[-1], stderr=subprocess.STDOUT, text=True)
                )
        except FileNotFoundError:
            for proc in procs:
                stop(proc)
            code, state = 127, "not installed"
            paths[0].write_text(f"{cmds[0][0][0]} is not installed\n", encoding="utf-8")
            manifest["partial"] = True
            why = f"{cmds[0][0][0]} could not be started (not found)"
            manifest.setdefault("partial_tools", {})[name] = why
        else:
            code, state = wait(name, procs, timeout, manifest, started, display)
    finally:
        for handle in handles:
            handle.close()
    if display is not None:
        display.finish(name, state if state != "done" else f"exit {code}")
    manifest["windows"][name] = [started, time.time()]
    manifest["exit"][name] = {
        "code": code,
        "seconds": round(time.time() - started, 2),
        "logs": [p.name for p in paths],
    }
    seconds = time.time() - started
    log(f"  {name}: exit {code} in {seconds:.1f}s (log: {paths[0]})")
    if name == "k6" and code == 99 and (why := threshold_abort(paths, seconds)):
        manifest.setdefault("aborted", {})["k6"] = why
        log(f"  k6: {why}")
    if code not in (0, 1, 99):  # 1/99: the tool's own thresholds or errors; the checker judges
        log(f"{name}: {observed(state, code, seconds, timeout, cmds[0][0][0])}")
        for path in paths:
            text = path.read_text(encoding="utf-8", errors="replace")[-3000:]
            if text.strip():
                log(text)


def threshold_abort(paths: list[Path], seconds: float) -> str | None:
    """k6's own words when a threshold with abortOnFail (a target's `abort: {after}`) stopped
    it: exit 99 alone is also a threshold failed at the end of a full run."""
    import re

    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        crossed = r"thresholds on metrics (.{1,400}?) were crossed; at least one has abortOnFail"
        found = re.search(crossed, text)
        if found:
            return (
                f"stopped after {seconds:.0f}s by a target's abort rule: k6's thresholds on "
                f"{found[1]} were crossed (abortOnFail)"
            )
    return None


def observed(state: str, code: int | None, seconds: float, timeout: float, program: str) -> str:
    """What happened to a tool, as seen: never a cause that was not observed."""
    if state == "timed out":
        return f"still running after its timeout of {timeout:.0f}s: stopped"
    if state == "not installed":
        return f"{program} could not be started: not found"
    if state == "interrupted":
        return f"interrupted after {seconds:.1f}s"
    if code == 108 and program.endswith("k6"):
        return f"stopped by its script after {seconds:.1f}s (exit 108: the abort rule or a failed http.setup)"
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        return f"killed by {name} after {seconds:.1f}s"
    return f"exited with code {code} after {seconds:.1f}s"


def wait(
    name: str, procs: list[subprocess.Popen], timeout: float, manifest: dict, started: float, display
) -> tuple[int, str]:
    """(exit code, state) once every process ended or the timeout passed; Ctrl-C re-raised after
    the tools had their grace period."""
    state, deadline = "done", time.monotonic() + timeout
    try:
        for proc in procs:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        state = "timed out"
        manifest["partial"] = True
        manifest.setdefault("partial_tools", {})[name] = f"timed out after {timeout:.0f}s"
    except KeyboardInterrupt:
        interrupted(name, procs, manifest, started, display)
        raise
    killed = sorted({-p.returncode for p in procs if p.returncode is not None and p.returncode < 0})
    if state == "done" and killed:  # died by a signal nobody here sent: results stop there
        manifest["partial"] = True
        names = ", ".join(
            signal.Signals(k).name if k in signal.Signals._value2member_map_ else str(k) for k in killed
        )
        manifest.setdefault("partial_tools", {})[name] = f"killed by {names}"
    for proc in procs:
        stop(proc)
    return (-1 if state == "timed out" else worst([p.returncode for p in procs])), state


# set when perfspec itself got a signal its tools did not (SIGTERM): they get a SIGINT from here
SIGNALLED: list[str] = []


def interrupted(name: str, procs: list[subprocess.Popen], manifest: dict, started: float, display) -> None:
    for proc in procs if SIGNALLED else ():
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # as Ctrl-C would have: the tool writes its results
    grace = time.monotonic() + 30  # the tools got the SIGINT too: let them write results
    try:
        for proc in procs:
            proc.wait(timeout=max(0.1, grace - time.monotonic()))
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        pass
    for proc in procs:
        stop(proc)
    why = f"stopped by {SIGNALLED[-1]}" if SIGNALLED else "interrupted"
    manifest.setdefault("partial_tools", {})[name] = why
    manifest["exit"][name] = {
        "code": worst([p.returncode for p in procs]),
        "seconds": round(time.time() - started, 2),
    }
    if display is not None:
        display.finish(name, "interrupted")

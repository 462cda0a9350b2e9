"""k6's samples read as k6 writes them, kept as per-second histograms, never as a file of samples.

`k6 run --out json=FILE` writes every built-in metric of every request (about 3 KB a request in
13 lines): a 60 s run at 10k requests a second leaves gigabytes. By default `perfspec run` points
FILE at a named pipe in a private temporary folder; a thread reads the pipe as k6 writes it with
the NDJSON reader's own loop (readers/k6.py `consume`, the same parsing and the same 3
significant digits), and when k6 exits writes `k6-histograms.json`: the per-second histogram
layout of the Locust results, whose size grows with endpoints x seconds, never with requests.
`--k6-output ndjson` keeps the file of samples instead.

A reader slower than k6 makes k6 wait on the pipe (its buffer is 64 KB) rather than lose
samples; the live display takes each second's p95 from the same reading.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .histogram import Histogram
from .readers.k6 import Reading, consume
from .timeline import file_form

SOURCE = "k6 --out json into a pipe, read as it ran (3 significant digits)"


class Stream:
    """One k6 process's JSON output through a named pipe, read by a thread into a Reading."""

    def __init__(self, out: Path, profile: str | None = None) -> None:
        self.out = out  # the result file written at the end (k6-histograms*.json)
        self.folder = Path(tempfile.mkdtemp(prefix="perfspec-k6-"))
        self.pipe = self.folder / "k6.ndjson"
        os.mkfifo(self.pipe, 0o600)
        self.reading = Reading(str(out), out.stem, profile)
        self.error: Exception | None = None
        # opened here, without waiting for k6: our own write end keeps the reader from an end of
        # file before k6 opens the pipe; close() lets go of it once k6 has exited
        self.read_fd = os.open(self.pipe, os.O_RDONLY | os.O_NONBLOCK)
        self.hold_fd: int | None = os.open(self.pipe, os.O_WRONLY)
        os.set_blocking(self.read_fd, True)
        _widen(self.read_fd)
        self.done = _os_thread_lock()
        self.done.acquire()
        _start_os_thread(self._read)

    @property
    def arg(self) -> str:
        return f"json={self.pipe}"

    def _read(self) -> None:
        try:
            # big reads: k6 writes about 3 KB a request
            with open(self.read_fd, encoding="utf-8", buffering=1 << 20) as lines:
                consume(self.reading, lines, lossy=True)  # a line cut off by a killed k6: counted
        except Exception as exc:  # noqa: BLE001 - said when the stream is closed
            self.error = exc
        finally:
            self.done.release()

    def last_second(self) -> tuple[int, int, Histogram] | None:
        """The latest full second read so far: (epoch second, requests, latency histogram)."""
        try:
            slots = [dict(s) for s in list(self.reading.slots.values())]
        except RuntimeError:  # the reader added a second meanwhile: the next poll shows it
            return None
        seconds = sorted({t for s in slots for t in s})
        if len(seconds) < 2:
            return None
        second = seconds[-2]
        count, hist = 0, Histogram()
        for s in slots:
            if second in s:
                count += s[second][0]
                hist.merge_counts(s[second][2])
        return second, count, hist

    def close(self, timeout: float = 30.0) -> dict:
        """Once k6 has exited: the reading finished and written to `out`; returns its document."""
        if self.hold_fd is not None:  # the last write end: the reader gets its end of file
            _original("os", "close")(self.hold_fd)  # gevent's close waits for its hub to run
            self.hold_fd = None
        if not self.done.acquire(True, timeout):
            raise TimeoutError(f"the k6 stream was still being read {timeout:g}s after k6 exited")
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.error is not None:
            raise self.error
        doc = document(self.reading)
        tmp = self.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
        tmp.replace(self.out)
        return doc


def _start_os_thread(target) -> None:
    """An operating-system thread even where gevent patched `threading` (a process that imported
    Locust): a green thread blocked in the pipe's open() would stop the whole process."""
    _original("_thread", "start_new_thread")(target, ())


def _os_thread_lock():
    return _original("_thread", "allocate_lock")()


def _original(module: str, name: str):
    gevent = sys.modules.get("gevent.monkey")
    if gevent is not None:  # the item as it was before any patching (itself when unpatched)
        return gevent.get_original(module, name)
    return getattr(__import__(module), name)


def _widen(fd: int) -> None:
    """The pipe's buffer at the system's most (Linux: 1 MB by default, 64 KB otherwise): k6 waits
    for the reader less often."""
    try:
        import fcntl

        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), limit)
    except (OSError, ValueError, ImportError):
        pass  # not Linux, or not allowed: the default buffer works, only slower


def document(r: Reading) -> dict:
    """A finished Reading in the perfspec-results/1 per-second histogram layout."""
    series = r.finish()
    start = min(r.seconds.values()) if r.seconds else int(time.time())
    doc_series = {}
    for s in series:
        doc_series[s.name] = {
            "count": s.count,
            "failures": s.failures,
            "statuses": s.statuses,
            "errors": s.errors,
            "histogram": s.histogram.to_pairs(),
            "ttfb_histogram": s.ttfb.to_pairs(),
            **file_form(s.timeline),
        }
    elapsed = series[0].elapsed if series else None
    return {
        "format": "perfspec-results/1",
        "tool": "k6",
        "unit": "ns",
        "profile": series[0].profile if series else r.profile,
        "started": float(start),
        "ended": float(start) + (elapsed or 0.0),
        "source": SOURCE,
        "dropped_iterations": r.dropped,
        "aborted": r.aborted,
        "stopped_users": r.stopped,
        "lost_lines": len(r.lost),
        "series": doc_series,
    }

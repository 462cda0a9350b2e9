"""The live progress of `perfspec run`: stage, users/rate, rps, p95 and errors per suite.

Each suite is watched through what it writes while it runs: the locustfile's progress lines
(PERFSPEC_PROGRESS), k6's streamed NDJSON (`--out json`, tailed: its own `vus` points and the
perfspec samples), the SQL benchmark's log (one line per query and level). On a terminal a rich
Live table refreshes twice a second; elsewhere (CI logs) one plain line every 10 seconds.
The display is informational: verdicts come from the result files, never from these figures.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from .histogram import Histogram, round3
from .readers.k6 import FAST, stamp_seconds


def stage_label(stages: list[dict], elapsed: float, unit: str) -> str:
    """Which stage of the profile `elapsed` falls in, and the load the profile asks for there."""
    at = 0.0
    for i, st in enumerate(stages, 1):
        if elapsed < at + st["seconds"] or i == len(stages):
            frac = min(1.0, max(0.0, (elapsed - at) / st["seconds"])) if st["seconds"] else 1.0
            level = st["start"] + (st["end"] - st["start"]) * frac
            return f"{st['kind']} {i}/{len(stages)} ({level:.3g} {unit})"
        at += st["seconds"]
    return "-"


class Tail:
    """New complete lines of a growing file."""

    def __init__(self, path: Path) -> None:
        self.path, self.pos, self.rest = path, 0, ""

    def lines(self) -> list[str]:
        try:
            with self.path.open(encoding="utf-8", errors="replace") as handle:
                handle.seek(self.pos)
                chunk = handle.read(8 << 20)
                self.pos = handle.tell()
        except OSError:
            return []
        text = self.rest + chunk
        *done, self.rest = text.split("\n")
        return done


class LocustWatch:
    def __init__(self, path: Path) -> None:
        self.tail = Tail(path)
        self.last: dict = {}

    def poll(self) -> dict:
        for line in self.tail.lines():
            try:
                self.last = json.loads(line)
            except ValueError:
                continue
        if not self.last:
            return {}
        p95 = self.last.get("p95_ms")
        return {
            "load": f"{self.last.get('users', 0)} users",
            "rps": self.last.get("rps"),
            "p95": f"{p95:.1f}ms" if p95 is not None else "-",
            "errors": f"{self.last.get('failures', 0)}/{self.last.get('requests', 0)}",
        }


class K6Watch:
    """One k6 process's NDJSON, or several shards' (execution segments) summed. With the
    processes' REST API addresses (`k6 run --address`), the requests, failures, VUs and rate are
    k6's own counts, exact however fast k6 runs; the NDJSON (which a Python reader cannot follow
    at 10k requests a second) gives only the last second's p95, shown while it is current."""

    def __init__(self, *paths: Path, apis: tuple[str, ...] = (), streams: list | None = None) -> None:
        self.tails = [Tail(p) for p in paths]
        self.apis = apis
        self.streams = streams or []  # k6_stream.Stream: each second's p95 as it was read
        self.seconds: dict[int, list] = {}  # epoch second -> [count, Histogram]
        self.requests = self.failures = 0
        self.vus_of: dict[int, int] = {}
        self.counted: tuple[float, int] | None = None  # (when, requests) of the last API poll
        self.rate: float | None = None

    @property
    def vus(self) -> int:
        return sum(self.vus_of.values())

    def poll(self) -> dict:
        for i, tail in enumerate(self.tails):
            self._read(i, tail.lines())
        latest: dict[int, list] = {}  # the shards' latest full second, summed
        for stream in self.streams:
            got = stream.last_second()
            if got is not None:
                slot = latest.setdefault(got[0], [0, Histogram()])
                slot[0] += got[1]
                slot[1].merge(got[2])
        for second, slot in latest.items():
            self.seconds[second] = slot
            self.seconds.setdefault(second + 1, [0, Histogram()])  # `full` below skips the newest
        from_api = self._api() if self.apis else False
        if not self.seconds and not from_api:
            return {"load": f"{self.vus} VUs"} if self.vus else {}
        out = {"load": f"{self.vus} VUs", "errors": f"{self.failures}/{self.requests}"}
        if from_api:
            out["rps"] = f"{self.rate:.0f}" if self.rate is not None else "-"
        if self.seconds:
            full = sorted(self.seconds)[:-1] or sorted(self.seconds)
            count, hist = self.seconds[full[-1]]
            for old in [s for s in self.seconds if s < full[-1] - 5]:
                del self.seconds[old]
            q = hist.quantile(0.95)
            current = not from_api or full[-1] >= time.time() - 3  # a lagging file's p95 is not "last s"
            out["p95"] = f"{q / 1e6:.1f}ms" if q and current else "-"
            out.setdefault("rps", count)
        return out

    def _api(self) -> bool:
        """k6's own counters from each process's REST API; False when none answered."""
        import urllib.request

        requests = failures = vus = answered = 0
        for address in self.apis:
            try:
                with urllib.request.urlopen(f"http://{address}/v1/metrics", timeout=0.5) as response:
                    metrics = {m["id"]: m["attributes"]["sample"] for m in json.load(response)["data"]}
            except (OSError, ValueError, KeyError, TypeError):
                continue
            answered += 1
            count = int(metrics.get("http_reqs", {}).get("count") or 0)
            requests += count
            failures += round(float(metrics.get("http_req_failed", {}).get("rate") or 0) * count)
            vus += int(metrics.get("vus", {}).get("value") or 0)
        if not answered:
            return False
        now = time.monotonic()
        if self.counted is not None and now > self.counted[0]:
            self.rate = (requests - self.counted[1]) / (now - self.counted[0])
        self.counted = (now, requests)
        self.requests, self.failures, self.vus_of = requests, failures, {0: vus}
        return True

    def _read(self, shard: int, lines: list[str]) -> None:
        for line in lines:
            if line.startswith('{"metric":"vus","type":"Point"'):
                try:
                    self.vus_of[shard] = int(json.loads(line)["data"]["value"])
                except (ValueError, KeyError, TypeError):
                    pass
                continue
            m = FAST.match(line)
            if m is None:
                continue
            metric, stamp, value, _tags = m.groups()
            ours = '"endpoint":' in line or '"name":' in line
            if metric in ("http_req_duration", "perfspec_ws_latency") and ours:
                second = int(stamp_seconds(stamp))
                slot = self.seconds.setdefault(second, [0, Histogram()])
                slot[0] += 1
                key = round3(int(float(value) * 1e6))
                slot[1].counts[key] = slot[1].counts.get(key, 0) + 1
                if not self.apis:
                    self.requests += 1
            elif metric in ("perfspec_failed", "http_req_failed") and float(value) != 0 and not self.apis:
                self.failures += 1


class SqlWatch:
    def __init__(self, log: Path) -> None:
        self.tail, self.last = Tail(log), ""

    def poll(self) -> dict:
        for line in self.tail.lines():
            if " workers " in line and " calls " in line:
                self.last = " ".join(line.split())
        return {"stage": self.last[:60]} if self.last else {}


class Display:
    """A background thread rendering the watched suites until stop()."""

    def __init__(self, console, plain_log) -> None:
        self.console, self.plain_log = console, plain_log
        self.rows: dict[str, dict] = {}
        self.watch: tuple[str, object, float, list, str] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def follow(self, suite: str, watcher, stages: list | None = None, unit: str = "users") -> None:
        self.rows[suite] = {"state": "running"}
        self.watch = (suite, watcher, time.monotonic(), stages or [], unit)

    def finish(self, suite: str, state: str) -> None:
        self._tick()
        self.rows.setdefault(suite, {})["state"] = state
        self.watch = None

    def _tick(self) -> None:
        if self.watch is None:
            return
        suite, watcher, started, stages, unit = self.watch
        elapsed = time.monotonic() - started
        row = self.rows.setdefault(suite, {})
        row.update(watcher.poll())
        row["elapsed"] = f"{int(elapsed)}s"
        row["seconds"] = elapsed  # the plain line's tens come from the same reading (no race)
        if stages:
            row["stage"] = stage_label(stages, elapsed, unit)

    def _table(self):
        from rich.table import Table

        table = Table(title="perfspec run", expand=False)
        for col in ("suite", "state", "elapsed", "stage", "load", "rps", "p95 (last s)", "errors"):
            table.add_column(col)
        for suite, r in self.rows.items():
            table.add_row(
                suite,
                r.get("state", ""),
                r.get("elapsed", ""),
                r.get("stage", ""),
                r.get("load", ""),
                str(r.get("rps", "")),
                r.get("p95", ""),
                r.get("errors", ""),
            )
        return table

    def _run(self) -> None:
        if self.console.is_terminal:
            from rich.live import Live

            with Live(self._table(), console=self.console, refresh_per_second=2, transient=False) as live:
                while not self._stop.wait(0.5):
                    self._tick()
                    live.update(self._table())
                live.update(self._table())
            return
        printed: tuple[str, int] = ("", 0)  # (suite, its tens of seconds already printed)
        while not self._stop.wait(1.0):
            self._tick()
            if self.watch is None:
                continue
            tens = int(self.rows.get(self.watch[0], {}).get("seconds", 0) // 10)
            if tens >= 1 and printed != (self.watch[0], tens):
                printed = (self.watch[0], tens)
                r = self.rows.get(self.watch[0], {})
                self.plain_log(
                    f"  {self.watch[0]}: {r.get('elapsed', '')} {r.get('stage', '')} "
                    f"{r.get('load', '')} rps {r.get('rps', '-')} p95 (last s) {r.get('p95', '-')} "
                    f"errors {r.get('errors', '-')}"
                )

    def __enter__(self) -> Display:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

"""Evidence that cannot lie: a run folder's result files are checked against the run's manifest
and against themselves before any target is judged.

- Identity: the manifest (`perfspec-run/1`) names the run, the spec and its SHA-256, every tool's
  exit, and every result file with its SHA-256 and size; Locust and SQL result files name the run
  and the spec's SHA-256 too. A file the run did not write, a file changed after it, another
  spec's or another run's evidence is refused, naming the file and why.
- Consistency: histograms hold every timed call (the rest are failures), failures never exceed
  calls and agree with the statuses the spec does not expect, per-second slots add up, times lie
  inside the run's window, one process writes one shard (a copy with its times moved is still a
  copy).
- Results with no manifest (a tool run by hand) are judged as unverified evidence, said once in
  every report.

Every problem is a line `FILE: what contradicts what`; `check` exits 2 on any of them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .results import ResultError, Series

MANIFEST_FORMAT = "perfspec-run/1"
UNVERIFIED = (
    "unverified evidence: no manifest.json of a perfspec run beside these results, so "
    "nothing shows they come from one run of this spec"
)
SLACK = 2.0  # seconds: a tool's clock and the runner's, file times rounded
# the exit codes of a tool that ran to its end: k6's 99 (a threshold crossed) and 108 (the script
# stopped the test: perfspec's abort rule, a failed http.setup; its results say why)
FINISHED = {"k6": (0, 1, 99, 108), "locust": (0, 1)}
# the result files `check` reads from a folder (checker.read_results)
RESULT_PATTERNS = ("locust-*.json", "sql-*.json", "pgbench-*.json", "k6*.ndjson", "k6-histograms*.json")


class Contradictions(ResultError):
    """Every contradiction found in a run's evidence, one line each."""

    def __init__(self, lines: list[str]) -> None:
        ResultError.__init__(self, lines[0].split(": ", 1)[0], lines[0].split(": ", 1)[-1])
        self.lines = lines

    def __str__(self) -> str:
        return "\n".join(self.lines)


def find_manifest(paths: list[Path]) -> Path | None:
    """The run's manifest.json beside or above a results folder (or a result file's folder)."""
    for p in paths:
        base = p if p.is_dir() else p.parent
        for candidate in (base / "manifest.json", base.parent / "manifest.json"):
            if candidate.is_file():
                return candidate
    return None


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_manifest(path: Path) -> dict:
    """The manifest, its format and fields checked; a contradiction names manifest.json."""
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultError(where, f"cannot read: {exc}") from None
    except ValueError:
        raise ResultError(where, "is not JSON (cut off, or not a manifest)") from None
    if not isinstance(data, dict):
        raise ResultError(where, "is not a run manifest (not a JSON object)")
    if data.get("format") != MANIFEST_FORMAT:
        raise ResultError(
            where,
            f"format {data.get('format')!r} is not {MANIFEST_FORMAT!r}: written by "
            "another perfspec, or not a manifest",
        )
    for key, kind in (
        ("run_id", str),
        ("spec", str),
        ("spec_sha256", str),
        ("started", (int, float)),
        ("ended", (int, float)),
        ("exit", dict),
        ("files", dict),
        ("partial", bool),
    ):
        if not isinstance(data.get(key), kind):
            raise ResultError(where, f"`{key}` is missing or of the wrong type")
    return data


def verify_run(manifest_path: Path, files: list[Path], spec: Path) -> dict:
    """The manifest, once every result file read is shown to be this run's, of this spec, as the
    run wrote it; raises Contradictions naming each problem."""
    m = load_manifest(manifest_path)
    where = str(manifest_path)
    problems: list[str] = []
    if Path(m["spec"]).name != spec.name:
        problems.append(f"{where}: the run is of {m['spec']}, not {spec}")
    elif m["spec_sha256"] != sha256(spec):
        problems.append(
            f"{where}: the run was made with another version of {spec} (SHA-256 "
            f"{m['spec_sha256'][:12]}..., the file now {sha256(spec)[:12]}...); check it "
            "with the spec it ran, or run again"
        )
    if m["ended"] < m["started"]:
        problems.append(f"{where}: the run ended before it started")
    partial_tools = m.get("partial_tools") if isinstance(m.get("partial_tools"), dict) else {}
    for tool, info in sorted(m["exit"].items()):
        code = info.get("code") if isinstance(info, dict) else None
        if (
            (not isinstance(code, int) or code not in FINISHED.get(tool, (0, 1)))
            and not m["partial"]
            and tool not in partial_tools
        ):
            problems.append(f"{where}: {tool} exited {code} but the run is not marked partial")
    problems += _files(m, manifest_path.parent / "results", files)
    if problems:
        raise Contradictions(problems)
    return m


def _files(m: dict, results: Path, files: list[Path]) -> list[str]:
    """Every file read is listed with its SHA-256 and size; every listed result file is there;
    each JSON result names this run and this spec, inside the run's window."""
    problems = []
    listed: dict = m["files"]
    for f in files:
        try:
            rel = f.resolve().relative_to(results.resolve()).as_posix()
        except ValueError:
            problems.append(f"{f}: not in the run's results folder {results}: another run's evidence")
            continue
        entry = listed.get(rel)
        if not isinstance(entry, dict):
            problems.append(
                f"{f}: not among the result files the run wrote (manifest.json lists "
                f"{len(listed)}): a copy, or another run's"
            )
            continue
        if entry.get("bytes") != f.stat().st_size or entry.get("sha256") != sha256(f):
            problems.append(
                f"{f}: changed after the run (its size or SHA-256 is not what manifest.json lists)"
            )
            continue
        if f.suffix == ".json":
            problems += _identity(f, m)
    names = {
        f.resolve().relative_to(results.resolve()).as_posix()
        for f in files
        if f.resolve().is_relative_to(results.resolve())
    }
    for rel in sorted(set(listed) - names):
        if any(Path(rel).match(pattern) for pattern in RESULT_PATTERNS):
            problems.append(f"{results / rel}: listed in manifest.json but missing")
    return problems


def _identity(f: Path, m: dict) -> list[str]:
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return []  # the reader names what is wrong with it
    if not isinstance(data, dict) or data.get("format") != "perfspec-results/1":
        return []
    out = []
    if data.get("tool") in ("locust", "sql", "pgbench"):
        if data.get("run") != m["run_id"]:
            out.append(f"{f}: written by run {data.get('run')!r}, not this run ({m['run_id']})")
        if data.get("spec_sha256") != m["spec_sha256"]:
            out.append(
                f"{f}: measured another version of the spec (SHA-256 {str(data.get('spec_sha256'))[:12]}...)"
            )
    if data.get("spec") is not None and Path(str(data["spec"])).name != Path(m["spec"]).name:
        out.append(f"{f}: names spec {data['spec']}, the run is of {m['spec']}")
    for key in ("started", "ended"):
        t = data.get(key)
        if isinstance(t, int | float) and not m["started"] - SLACK <= t <= m["ended"] + SLACK:
            out.append(
                f"{f}: `{key}` lies outside the run's window (its manifest: {m['started']:.0f} to "
                f"{m['ended']:.0f})"
            )
    return out


def consistency(series: list[Series], expected: dict[str, list[int]] | None = None) -> list[str]:
    """What each series says against itself; `expected`: per endpoint the statuses the spec counts
    as successes (retried ones too)."""
    problems = []
    shards: dict[tuple, str] = {}
    prints: dict[str, str] = {}
    for s in series:
        what = f"{s.file}: {s.name}" + (f" at {s.workers} workers" if s.workers else "")
        timed = s.histogram.total
        if s.failures > s.count:
            problems.append(f"{what}: {s.failures} failures of {s.count} calls")
        if timed > s.count:
            problems.append(f"{what}: the histogram holds {timed} calls, the count says {s.count}")
        elif s.count - timed > s.failures:
            problems.append(
                f"{what}: {s.count} calls but the histogram holds {timed}, and only a failed "
                f"call can lack a latency ({s.failures} failed)"
            )
        if s.timeline and (slotted := s.timeline.totals()) != (s.count, s.failures):
            problems.append(
                f"{what}: the per-second slots hold {slotted[0]} calls and {slotted[1]} failures, "
                f"the totals {s.count} and {s.failures}"
            )
        if s.kind == "http":
            if sum(s.statuses.values()) > s.count:
                problems.append(f"{what}: {sum(s.statuses.values())} statuses for {s.count} calls")
            wanted = set(map(str, (expected or {}).get(s.name, [])))
            if wanted:
                unexpected = sum(n for code, n in s.statuses.items() if code not in wanted and code != "0")
                if unexpected > s.failures:
                    problems.append(
                        f"{what}: {unexpected} answers with a status the spec does not expect "
                        f"(expected {', '.join(sorted(wanted))}), but {s.failures} failures"
                    )
            if s.errors and sum(s.errors.values()) != s.failures:
                problems.append(
                    f"{what}: failure causes add up to {sum(s.errors.values())}, the failures to {s.failures}"
                )
        process = s.extra.get("process")
        if process:
            key = (s.tool, *process, s.name, s.workers)
            if shards.setdefault(key, s.file) != s.file:
                problems.append(
                    f"{s.file}: written by the same process as {shards[key]} "
                    f"({s.tool} {process[0]} pid {process[1]}): a copy counted twice"
                )
    for file, mark in _fingerprints(series).items():
        if mark in prints:
            problems.append(
                f"{file}: the same measurements as {prints[mark]}, whatever its times say: "
                "a copy counted twice"
            )
        else:
            prints[mark] = file
    return sorted(set(problems), key=problems.index)


def _fingerprints(series: list[Series]) -> dict[str, str]:
    """Per file, a digest of what it measured leaving every time out (names, counts, failures,
    statuses, causes, histograms); only files of at least 10 calls (tiny runs may match)."""
    by_file: dict[str, list[Any]] = {}
    for s in series:
        by_file.setdefault(s.file, []).append(
            (
                s.tool,
                s.name,
                s.workers,
                s.count,
                s.failures,
                sorted(s.statuses.items()),
                sorted(s.errors.items()),
                s.histogram.to_pairs(),
            )
        )
    out = {}
    for file, parts in by_file.items():
        if sum(p[3] for p in parts) >= 10:
            out[file] = hashlib.sha256(repr(sorted(parts, key=repr)).encode()).hexdigest()
    return out

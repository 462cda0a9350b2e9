"""Evidence that cannot lie: a corpus of corrupted and lying variants of one real run's folder
(the quickstart on the embedded demo: Locust, k6, the SQL benchmark, Prometheus evidence). Every
variant is refused by `perfspec check` (exit 2), naming the file and the contradiction; none
passes. A forger who also rewrites manifest.json's file list ("re-signed") is caught by what the
files say against themselves, the run and the spec.

Also: two runs started together into one results folder get a folder each; results without a
manifest are judged as unverified evidence, said in every report."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import ROOT, require_tool

pytestmark = [pytest.mark.tools, pytest.mark.slow]

SPEC = "specs/quickstart.yaml"


def perfspec(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run of the quickstart (3 s of each tool), its folder."""
    for tool in ("locust", "k6", "prometheus"):
        require_tool(tool)
    out = tmp_path_factory.mktemp("runs")
    proc = perfspec("run", SPEC, "--duration", "3s", "--out", str(out), "--k6-output", "ndjson")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    [folder] = list(out.iterdir())
    return folder


def one(folder: Path, pattern: str) -> Path:
    [found] = sorted((folder / "results").glob(pattern))
    return found


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    """A forger's edit of a result file, its seconds listed as rows (a series' packed
    `columns` unpacked into the `timeline` form the reader also reads) so the edit can reach them."""
    from perfspec.runtime.timeline import Timeline

    data = json.loads(path.read_text())
    for s in (data.get("series") or {}).values():
        if "columns" in s:
            s["timeline"] = Timeline.from_columns(s.pop("columns")).flat_rows()
    change(data)
    path.write_text(json.dumps(data))


def resign(folder: Path) -> None:
    """What a careful forger does after editing result files: list them again in the manifest."""

    def change(m: dict) -> None:
        m["files"] = {
            p.relative_to(folder / "results").as_posix(): {
                "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                "bytes": p.stat().st_size,
            }
            for p in sorted((folder / "results").rglob("*"))
            if p.is_file()
        }

    edit_json(folder / "manifest.json", change)


def first_series(data: dict) -> dict:
    return (
        data["series"][sorted(data["series"])[0]]
        if "series" in data
        else next(iter(data["queries"][sorted(data["queries"])[0]]["levels"].values()))
    )


def _copy_locust_shard(f: Path) -> None:
    src = one(f, "locust-*.json")
    copy = src.with_name("locust-elsewhere-1.json")
    shutil.copy(src, copy)
    edit_json(copy, lambda d: d.update(ended=d["ended"] + 0.001))


def _copy_k6_shifted(f: Path) -> None:
    src = one(f, "k6.ndjson")
    text = src.read_text()
    moved = re.sub(
        r'"time":"2026-(\d\d)-(\d\d)T(\d\d)',
        lambda m: f'"time":"2026-{m[1]}-{m[2]}T{(int(m[3]) + 1) % 24:02d}',
        text,
    )
    assert moved != text
    (f / "results" / "k6-shard2.ndjson").write_text(moved)


def _truncate(path: Path, keep: float = 0.6) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _garble_k6(f: Path) -> None:
    path = one(f, "k6.ndjson")
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(len(lines) // 2, "this is not k6 output\n")
    path.write_text("".join(lines))


def _all_500(f: Path) -> None:
    def change(d: dict) -> None:
        s = d["series"]["list_agents"]
        s["statuses"] = {"500": s["count"]}
        s["failures"], s["errors"] = 0, {}
        for slot in s.get("timeline", []):
            slot[2] = 0

    edit_json(one(f, "locust-*.json"), change)


def _timeline_off(f: Path) -> None:
    def change(d: dict) -> None:
        first_series(d)["timeline"][0][1] += 7

    edit_json(one(f, "locust-*.json"), change)


def _count_times_10(pattern: str) -> Callable[[Path], None]:
    def change(f: Path) -> None:
        edit_json(one(f, pattern), lambda d: first_series(d).update(count=first_series(d)["count"] * 10))

    return change


def _causes_off(f: Path) -> None:
    def change(d: dict) -> None:
        s = d["series"]["list_agents"]
        s["errors"] = {"HTTP 503": 5}

    edit_json(one(f, "locust-*.json"), change)


def _failures_over_count(f: Path) -> None:
    def change(d: dict) -> None:
        s = d["series"]["list_agents"]
        s["failures"] = s["count"] + 1
        s["errors"] = {"HTTP 503": s["count"] + 1}

    edit_json(one(f, "locust-*.json"), change)


def _extra_k6(f: Path) -> None:
    lines = one(f, "k6.ndjson").read_text().splitlines(keepends=True)
    (f / "results" / "k6-extra.ndjson").write_text("".join(lines[: len(lines) // 2]))


def _manifest(change: Callable[[dict], None]) -> Callable[[Path], None]:
    return lambda f: edit_json(f / "manifest.json", change)


def _k6_killed(m: dict) -> None:
    m["exit"]["k6"]["code"] = -9
    m["partial"] = False
    m.pop("partial_tools", None)


# name -> (change, re-sign the manifest afterwards, file named in the refusal, reason)
CORPUS: dict[str, tuple[Callable[[Path], None], bool, str, str]] = {
    # the 16 contradictions seen in the trials
    "locust shard copied, ended moved 1 ms": (
        _copy_locust_shard,
        True,
        "locust-elsewhere-1.json",
        "written by the same process as",
    ),
    "k6 NDJSON copied, every time an hour later": (
        _copy_k6_shifted,
        True,
        "k6-shard2.ndjson",
        "the same measurements as",
    ),
    "Locust file names another spec": (
        lambda f: edit_json(one(f, "locust-*.json"), lambda d: d.update(spec="specs/other.yaml")),
        True,
        "locust-",
        "names spec specs/other.yaml",
    ),
    "SQL file names another spec": (
        lambda f: edit_json(one(f, "sql-*.json"), lambda d: d.update(spec="specs/other.yaml")),
        True,
        "sql-",
        "names spec specs/other.yaml",
    ),
    "Locust count 10x the histogram": (
        _count_times_10("locust-*.json"),
        True,
        "locust-",
        "but the histogram holds",
    ),
    "SQL count 10x the histogram": (_count_times_10("sql-*.json"), True, "sql-", "but the histogram holds"),
    "every status 500, no failure": (_all_500, True, "locust-", "with a status the spec does not expect"),
    "k6 NDJSON cut off mid-line": (lambda f: _truncate(one(f, "k6.ndjson")), True, "k6.ndjson", "cut off"),
    "k6 NDJSON with a garbage line": (_garble_k6, True, "k6.ndjson", "not a k6 JSON line"),
    "prometheus.json cut off": (
        lambda f: _truncate(one(f, "prometheus.json")),
        True,
        "prometheus.json",
        "is not JSON",
    ),
    "prometheus.json version 99": (
        lambda f: edit_json(one(f, "prometheus.json"), lambda d: d.update(version=99)),
        True,
        "prometheus.json",
        "version 99 is not 1",
    ),
    "prometheus.json windows reversed": (
        lambda f: edit_json(
            one(f, "prometheus.json"),
            lambda d: d.update(windows={k: v[::-1] for k, v in d["windows"].items()}),
        ),
        True,
        "prometheus.json",
        "not [start, end] in order",
    ),
    "manifest.json cut off": (
        lambda f: _truncate(f / "manifest.json"),
        False,
        "manifest.json",
        "is not JSON",
    ),
    "manifest with a wrong spec hash": (
        _manifest(lambda m: m.update(spec_sha256="0" * 64)),
        False,
        "manifest.json",
        "made with another version of",
    ),
    "manifest naming another spec": (
        _manifest(lambda m: m.update(spec="specs/other.yaml")),
        False,
        "manifest.json",
        "the run is of specs/other.yaml",
    ),
    "manifest: k6 exit -9, not partial": (
        _manifest(_k6_killed),
        False,
        "manifest.json",
        "k6 exited -9 but the run is not marked partial",
    ),
    # and more
    "a result file the run did not write": (
        _extra_k6,
        False,
        "k6-extra.ndjson",
        "not among the result files the run wrote",
    ),
    "a listed result file deleted": (
        lambda f: one(f, "sql-*.json").unlink(),
        False,
        "sql-",
        "listed in manifest.json but missing",
    ),
    "a result file edited, manifest not": (
        _count_times_10("locust-*.json"),
        False,
        "locust-",
        "changed after the run",
    ),
    "Locust file of another run": (
        lambda f: edit_json(
            one(f, "locust-*.json"), lambda d: d.update(run="20260101-000000-0000000-quickstart")
        ),
        True,
        "locust-",
        "written by run",
    ),
    "SQL file of another spec version": (
        lambda f: edit_json(one(f, "sql-*.json"), lambda d: d.update(spec_sha256="f" * 64)),
        True,
        "sql-",
        "measured another version of the spec",
    ),
    "per-second slots do not add up": (_timeline_off, True, "locust-", "per-second slots hold"),
    "failure causes do not add up": (_causes_off, True, "locust-", "failure causes add up to 5"),
    "more failures than calls": (_failures_over_count, True, "locust-", "failures of"),
    "Locust file started a day early": (
        lambda f: edit_json(one(f, "locust-*.json"), lambda d: d.update(started=d["started"] - 86400)),
        True,
        "locust-",
        "outside the run's window",
    ),
    "manifest of another format": (
        _manifest(lambda m: m.pop("format")),
        False,
        "manifest.json",
        "format None is not 'perfspec-run/1'",
    ),
}


def test_the_unchanged_run_passes_and_is_verified(run: Path, tmp_path: Path) -> None:
    """Else every refusal below could come from the checks being wrong."""
    proc = perfspec("check", SPEC, str(run / "results"), "--report", str(tmp_path / "report"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "unverified" not in proc.stdout


def test_every_lie_in_the_corpus_is_refused_naming_its_file_and_reason(run: Path, tmp_path: Path) -> None:
    def check(name: str) -> tuple[str, subprocess.CompletedProcess]:
        change, sign, file, _reason = CORPUS[name]
        folder = tmp_path / re.sub(r"\W+", "-", name)
        shutil.copytree(run, folder)
        change(folder)
        if sign:
            resign(folder)
        return name, perfspec(
            "check", SPEC, str(folder / "results"), "--report", str(folder / "report"), timeout=120
        )

    with ThreadPoolExecutor(2) as pool:
        done = dict(pool.map(check, sorted(CORPUS)))
    passed = [n for n, p in done.items() if p.returncode == 0]
    assert not passed, f"{len(passed)} lies passed: {passed}"
    wrong = {}
    for name, proc in done.items():
        _change, _sign, file, reason = CORPUS[name]
        lines = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
        if proc.returncode != 2 or not any(file in line and reason in line for line in lines):
            wrong[name] = (proc.returncode, proc.stderr[-800:] or proc.stdout[-800:])
    assert not wrong, wrong
    assert len(CORPUS) >= 26


def test_results_without_a_manifest_are_judged_as_unverified_evidence(run: Path, tmp_path: Path) -> None:
    loose = tmp_path / "hand-run"
    shutil.copytree(run / "results", loose)
    report = tmp_path / "report"
    proc = perfspec("check", SPEC, str(loose), "--report", str(report))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.count("note: unverified evidence") == 1
    for name in ("summary.md", "report.html", "junit.xml"):
        assert "unverified evidence" in (report / name).read_text(), name
    # without the manifest, a copied shard (its end moved 1 ms) is still caught by what it measured
    shutil.copy(one(run, "locust-*.json"), loose / "locust-copy-7.json")
    edit_json(loose / "locust-copy-7.json", lambda d: d.update(ended=d["ended"] + 0.001, pid=7))
    proc = perfspec("check", SPEC, str(loose), "--report", str(report))
    assert proc.returncode == 2 and "the same measurements as" in proc.stderr, proc.stderr[-2000:]


def test_two_runs_started_together_get_a_folder_each_and_judge_their_own_evidence(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    env = {**os.environ, "CI": ""}  # the SQL suite alone: no Prometheus needed
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "perfspec.compiler.cli", "run", SPEC, "--only", "sql", "--out", str(out)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    logs = [p.communicate(timeout=240)[0] for p in procs]
    folders = sorted(out.iterdir())
    assert len(folders) == 2, (folders, logs)  # the HTTP targets fail (no HTTP suite ran): exit 1
    files = [set(json.loads((f / "manifest.json").read_text())["files"]) for f in folders]
    assert all(len(f) == 1 for f in files) and files[0] != files[1], files
    for f in folders:
        assert [p.name for p in (f / "results").iterdir()] == list(
            json.loads((f / "manifest.json").read_text())["files"]
        )
        verdicts = {v["target"]: v for v in json.loads((f / "verdicts.json").read_text())}
        # the spec's 1,000 calls of this run alone (both runs' files would make 2,000)
        assert verdicts["db_indexed"]["status"] == "pass" and verdicts["db_indexed"]["samples"] == 1000

"""Result files are not trusted: corrupt values fail the file by name, copies are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from perfspec.runtime.checker import read_results
from perfspec.runtime.results import ResultError

from .test_check import locust_file


def corrupt(tmp_path: Path, change) -> Path:
    path = locust_file(tmp_path, "x", [1000, 2000, 3000])
    data = json.loads(path.read_text())
    change(data, data["series"]["ep"])
    path.write_text(json.dumps(data, allow_nan=True))
    return path


CASES = {
    "negative latency": (lambda d, s: s.update(histogram=[[-5, 3]]), "is not a finite, non-negative"),
    "negative failures": (lambda d, s: s.update(failures=-1000), "failures -1000 is not a whole number"),
    "absurd count": (lambda d, s: s.update(count=1e30), "count 1e+30 is not a whole number"),
    "NaN latency": (lambda d, s: s.update(histogram=[[float("nan"), 1]]), "holds NaN"),
    "infinite start": (lambda d, s: d.update(started=float("inf")), "holds Infinity"),
    "times out of order": (lambda d, s: d.update(started=100, ended=5), "not in order"),
    "5,000-digit integer": (lambda d, s: s.update(count=int("9" * 4000)), "digit number"),
    "negative timeline second": (lambda d, s: s.update(timeline=[[-1, 1, 0, [[5, 1]]]]), "second -1"),
    "string count": (lambda d, s: s.update(count="3"), "count '3' is not a whole number"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_corrupt_value_fails_the_file_by_name(tmp_path: Path, case: str) -> None:
    change, message = CASES[case]
    path = corrupt(tmp_path, change)
    with pytest.raises(ResultError) as info:
        read_results([tmp_path])
    assert str(path) in str(info.value) and message in str(info.value), str(info.value)


def test_non_utf8_and_truncated_k6_lines_fail_the_file_by_name(tmp_path: Path) -> None:
    bad = tmp_path / "locust-bad.json"
    bad.write_bytes(b'{"format": "\xff\xfe"}')
    with pytest.raises(ResultError, match="not a UTF-8 text file"):
        read_results([bad])
    k6 = tmp_path / "k6.ndjson"
    point = {
        "metric": "http_req_duration",
        "type": "Point",
        "data": {"time": "2026-11-28T10:00:00Z", "value": -3.5, "tags": {"endpoint": "ep"}},
    }
    k6.write_text(json.dumps(point) + "\n")
    with pytest.raises(ResultError, match="not a finite, non-negative number"):
        read_results([k6])


def test_a_copied_shard_is_refused_and_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    path = locust_file(run, "a", [1000, 2000])
    series, _ = read_results([path, path, run])
    assert sum(s.count for s in series) == 2  # one file, however often it is named
    shutil.copytree(run, tmp_path / "copy")
    with pytest.raises(ResultError, match="same content as .*counted twice"):
        read_results([run, tmp_path / "copy"])


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda line: line.replace("2026-11-28T10:00:00Z", "nonsense"), "is not an ISO 8601 time"),
        (lambda line: line.replace("3.5", "1e300"), "is not a finite, non-negative number"),
        (
            lambda line: line.replace('"http_req_duration"', '"dropped_iterations"').replace("3.5", "NaN"),
            "is not a finite, non-negative number",
        ),
    ],
)
def test_a_corrupt_k6_point_fails_the_file_by_name(tmp_path: Path, change, message: str) -> None:
    point = json.dumps(
        {
            "metric": "http_req_duration",
            "type": "Point",
            "data": {"time": "2026-11-28T10:00:00Z", "value": 3.5, "tags": {"endpoint": "ep"}},
        }
    )
    k6 = tmp_path / "k6.ndjson"
    k6.write_text(point + "\n" + change(point) + "\n")
    with pytest.raises(ResultError, match=message) as info:
        read_results([k6])
    assert str(k6) in str(info.value) and "line 2" in str(info.value)

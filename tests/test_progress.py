"""The live progress of `perfspec run`: stages from the profile, k6's NDJSON tailed as it grows."""

from __future__ import annotations

import json
from pathlib import Path

from perfspec.runtime.progress import K6Watch, LocustWatch, stage_label

STAGES = [
    {"kind": "ramp", "start": 0, "end": 10, "seconds": 10},
    {"kind": "hold", "start": 10, "end": 10, "seconds": 30},
]


def test_stage_label_follows_the_profile() -> None:
    assert stage_label(STAGES, 5, "users") == "ramp 1/2 (5 users)"
    assert stage_label(STAGES, 25, "users") == "hold 2/2 (10 users)"
    assert stage_label(STAGES, 99, "users") == "hold 2/2 (10 users)"  # overtime: the last stage


def k6_line(metric: str, second: int, value: float, endpoint: str = "ep") -> str:
    return (
        json.dumps(
            {
                "metric": metric,
                "type": "Point",
                "data": {
                    "time": f"2026-11-23T08:00:{second:02d}.5Z",
                    "value": value,
                    "tags": {"endpoint": endpoint, "status": "200"},
                },
            },
            separators=(",", ":"),
        )
        + "\n"
    )


def test_k6_watch_reads_only_complete_new_lines(tmp_path: Path) -> None:
    path = tmp_path / "k6.ndjson"
    watch = K6Watch(path)
    assert watch.poll() == {}  # the file does not exist yet
    lines = [k6_line("http_req_duration", s, 10.0 + s) for s in (0, 0, 1, 1, 1)]
    lines.append(
        json.dumps(
            {
                "metric": "vus",
                "type": "Point",
                "data": {"time": "2026-11-23T08:00:01Z", "value": 7, "tags": {}},
            },
            separators=(",", ":"),
        )
        + "\n"
    )
    lines.append(k6_line("perfspec_failed", 1, 1))
    path.write_text("".join(lines[:3]) + lines[3][:40])  # the last line is still being written
    first = watch.poll()
    assert first["errors"] == "0/3" and first["rps"] == 2  # second 0 is the last full one
    with path.open("a") as out:
        out.write(lines[3][40:] + "".join(lines[4:]) + k6_line("http_req_duration", 2, 99.0))
    second = watch.poll()
    assert second == {"load": "7 VUs", "rps": 3, "p95": "11.0ms", "errors": "1/6"}


def test_locust_watch_shows_the_last_progress_line(tmp_path: Path) -> None:
    path = tmp_path / "progress.ndjson"
    path.write_text(
        json.dumps({"t": 3, "users": 5, "requests": 150, "failures": 2, "rps": 50, "p95_ms": 3.25}) + "\n"
    )
    assert LocustWatch(path).poll() == {"load": "5 users", "rps": 50, "p95": "3.2ms", "errors": "2/150"}


def test_k6_watch_counts_what_k6_counts_through_its_rest_api(tmp_path: Path, monkeypatch) -> None:
    """At 10k requests a second no Python reader follows k6's NDJSON: the live counts come from
    k6's own REST API (`k6 run --address`), summed over its processes, the rate from their change."""
    import io
    import urllib.request

    from perfspec.runtime import progress

    counts = {"127.0.0.1:1": 0, "127.0.0.1:2": 0}

    def urlopen(url: str, timeout: float):
        address = url.split("/")[2]
        data = [
            {"id": "http_reqs", "attributes": {"sample": {"count": counts[address], "rate": 1.0}}},
            {"id": "http_req_failed", "attributes": {"sample": {"rate": 0.25}}},
            {"id": "vus", "attributes": {"sample": {"value": 5}}},
        ]
        return io.BytesIO(json.dumps({"data": data}).encode())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    clock = iter([100.0, 102.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    (tmp_path / "k6.ndjson").write_text("")
    watch = K6Watch(tmp_path / "k6.ndjson", apis=tuple(counts))
    counts.update({"127.0.0.1:1": 4000, "127.0.0.1:2": 4000})
    assert watch.poll() == {"load": "10 VUs", "errors": "2000/8000", "rps": "-"}
    counts.update({"127.0.0.1:1": 14000, "127.0.0.1:2": 14000})
    assert watch.poll() == {"load": "10 VUs", "errors": "7000/28000", "rps": "10000"}

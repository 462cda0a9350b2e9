"""The typed contracts between the layers, each with a version a reader checks:

- targets.json, written by the compiler's targets backend and read by the checker;
- the run request the command line hands the runner (`perfspec run`).

They are TypedDicts: JSON-shaped data that type checkers follow, with no conversion step.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

TARGETS_FORMAT = "perfspec-targets/1"
RUN_REQUEST_VERSION = 1


class StatEntry(TypedDict):
    stat: str  # p95, avg, error_rate, ...
    op: str  # < <= > >= ==
    value: float  # base units: seconds, a fraction, per second
    text: str  # the bound as written
    severity: str  # fail | warn
    line: int


class TargetEntry(TypedDict):
    index: int
    name: str
    kind: str  # measured | external | scaling
    measure: str  # latency | ttfb
    endpoints: list[str]
    queries: list[str]
    profile: str | None
    workers: int | None
    window: float | None  # `for:` in seconds
    line: int
    stats: list[StatEntry]
    extra: NotRequired[dict[str, Any]]  # regression, scaling, external source, during, vs_rest
    demo: NotRequired[bool]
    server: NotRequired[dict[str, Any]]  # the service's metrics (server-side view)
    merge_tools: NotRequired[bool]


class ProfileEntry(TypedDict):
    model: str  # closed | open
    seconds: float
    peak: float
    mean: float
    unit: str
    tools: list[str]
    max_dropped: float
    warmup: NotRequired[float]


class TargetsFile(TypedDict):
    format: str
    generated_by: str
    spec: str
    name: str
    profiles: dict[str, ProfileEntry]
    targets: list[TargetEntry]


class RunRequest(TypedDict, total=False):
    """What `perfspec run` asks of the runner (runtime/runner.py `execute`)."""

    version: int
    file: str
    stem: str
    sha256: str
    profile: str | None
    hosts: dict[str, list]  # name -> template parts
    dsn: list | None
    seconds: float
    duration: float | None
    locust_profiles: list[str]
    k6_profiles: list[str]
    matchers: dict[str, str]
    hosts_used: list[str]
    host_lines: dict[str, str]
    host_health: dict[str, str]
    db_line: str | None
    stages: list[dict[str, Any]]
    unit: str
    no_embedded: bool
    load_setup: bool
    note: str | None
    workers: int
    demo: bool
    no_preflight: bool
    prometheus: str | None
    k6_output: str  # "ndjson" (exact samples) or "prometheus" (constant size: runtime/k6_remote.py)


def check_targets(data: dict) -> TargetsFile:
    """targets.json as the checker reads it; a file of another format is refused by name."""
    found = data.get("format", TARGETS_FORMAT)  # hand-made test data may leave it out
    if found != TARGETS_FORMAT:
        raise ValueError(
            f"targets file format {found!r} is not {TARGETS_FORMAT!r}: rebuild with this "
            "perfspec (perfspec build)"
        )
    return data  # type: ignore[return-value]


def check_request(info: dict) -> RunRequest:
    if info.get("version") != RUN_REQUEST_VERSION:
        raise ValueError(f"run request version {info.get('version')!r} is not {RUN_REQUEST_VERSION}")
    return info  # type: ignore[return-value]

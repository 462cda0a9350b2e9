"""The one internal form of results: series of mergeable histograms, counts and time series."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .histogram import Histogram
from .timeline import Timeline


class ResultError(Exception):
    """A result file that cannot be read: names the file and what is wrong."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message


@dataclass
class Series:
    tool: str  # locust | k6 | sql
    kind: str  # http | query
    name: str  # endpoint or query name
    file: str  # the result file it came from
    shard: str  # host-pid or file stem: series of one run from several shards merge
    profile: str | None = None
    workers: int | None = None  # SQL concurrency level
    count: int = 0
    failures: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    histogram: Histogram = field(default_factory=Histogram)
    ttfb: Histogram = field(default_factory=Histogram)
    # per second since start: calls, failures, histogram (rows of those are taken too)
    timeline: Timeline = field(default_factory=Timeline)
    elapsed: float | None = None  # seconds the series was measured over
    extra: dict[str, Any] = field(default_factory=dict)  # SQL: plan, problems, server version

    def __post_init__(self) -> None:
        if not isinstance(self.timeline, Timeline):
            self.timeline = Timeline.from_slots(self.timeline)

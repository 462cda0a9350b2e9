"""Targets: selectors, statistic bounds, cross-run and external targets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..units import Bound
from .types import (
    STATS,
    AnyBound,
    Duration,
    LabelName,
    LatencyBound,
    Name,
    PercentBound,
    PositiveInt,
    RateBound,
    RatioBound,
    Strict,
    Template,
    bound,
)

# --- targets ------------------------------------------------------------------------------


class Selector(Strict):
    """Which measured series a target judges; all given fields must match."""

    endpoint: str | list[str] | None = None
    class_: str | None = Field(None, alias="class")
    tag: str | None = None
    method: str | None = None
    flow: str | None = None
    profile: str | None = None
    query: str | list[str] | None = None
    sql_class: str | None = None
    workers: PositiveInt | None = Field(None, description="SQL concurrency level")


class StatBounds(Strict):
    avg: LatencyBound | None = None
    min: LatencyBound | None = None
    max: LatencyBound | None = None
    p50: LatencyBound | None = None
    p75: LatencyBound | None = None
    p90: LatencyBound | None = None
    p95: LatencyBound | None = None
    p99: LatencyBound | None = None
    p99_9: LatencyBound | None = Field(None, alias="p99.9")
    throughput: RateBound | None = None
    error_rate: PercentBound | None = None
    success_rate: PercentBound | None = None

    def items(self) -> list[tuple[str, Bound]]:
        """(statistic, bound) in a fixed order."""
        out = []
        for stat in STATS:
            value = getattr(self, stat.replace(".", "_"))
            if value is not None:
                out.append((stat, value))
        return out


class Scaling(Strict):
    from_: str = Field(alias="from")
    to: str


class Against(Strict):
    """Which runs of the history a `regression` target compares with."""

    last: PositiveInt = Field(5, description="the last N comparable runs that passed")
    branch: str | None = Field(
        None, description="only runs of this git branch (e.g. main); default: runs of any branch"
    )


class Abort(Strict):
    """Stop the run once this target's fail bounds are lost."""

    after: Duration = Field(
        description="from this long into the run, the first check at which a fail bound is broken "
        "by everything measured so far stops the run (k6: abortOnFail with delayAbortEval)"
    )


class MetricSource(Strict):
    """Where an external metric comes from: a PromQL query or a JSON file."""

    promql: str | None = None
    prometheus: Template | None = Field(None, description="Prometheus URL; default ${PROMETHEUS_URL}")
    json_: str | None = Field(None, alias="json", description="a JSON file written by another tool")
    path: str | None = Field(None, description="$.json.path inside that file")


class TargetAlert(Strict):
    for_: Duration | None = Field(None, alias="for")
    severity: str | None = None
    labels: dict[LabelName, str] = Field(default_factory=dict)
    runbook: str | None = None


class Target(StatBounds):
    """A check, an alert and a CI gate: measured (select), cross-run (scaling) or external."""

    name: Name | None = None
    description: str | None = None
    select: Selector | None = None
    measure: Literal["latency", "ttfb"] = "latency"
    warn: StatBounds | None = None
    for_: Duration | None = Field(
        None,
        alias="for",
        description="windowed: every bound (and warn band) must also hold over "
        "every full window of this length in the run",
    )
    during: str | None = Field(
        None,
        pattern=r"^\s*[0-9.]+\s*[a-zµ]*\s*\.\.\s*([0-9.]+\s*[a-zµ]*)?\s*$",
        description="judge only this part of the run, in time since its start: `0s..5s` (the cold "
        "start), `30s..` (from 30s to the end)",
        examples=["0s..5s"],
        json_schema_extra={
            "patternErrorMessage": "write a span of the run, e.g. 0s..5s or 30s..",
            "errorMessage": "write a span of the run, e.g. 0s..5s or 30s..",
        },
    )
    vs_rest: dict[str, RatioBound] | None = Field(
        None,
        description="with `during`: statistic -> bound on its ratio to the same statistic "
        "over the rest of the run, e.g. {p50: <= 3x} (the first seconds at most 3x the steady state)",
    )
    merge_tools: bool = Field(
        False,
        description="judge Locust's and k6's samples as one population; default: each tool "
        "on its own, the verdict the worst of them",
    )
    regression: dict[str, bound("percent", example="< +10%")] | None = Field(
        None,
        description="statistic -> allowed change against the history (the last passing runs, "
        "see `against`) or, with --baseline, against one run",
    )
    against: Against | None = Field(
        None, description="with `regression`: which runs of the history to compare with"
    )
    abort: Abort | None = Field(None, description="stop the run early once this target is lost")
    scaling: Scaling | None = None
    throughput_per_user: RatioBound | None = None
    metric: str | None = None
    source: MetricSource | None = None
    value: AnyBound | None = None
    alert: bool | TargetAlert | None = None
    weight: PositiveInt = Field(
        1, description="its share of the spec's `score` (a pass counts fully, a warn half, a fail nothing)"
    )
    key: bool = Field(
        False,
        description="true: a failing key target fails the run whatever the `score` (a key objective)",
    )
    demo: bool = Field(
        True,
        description="false: this target cannot be judged on the embedded demo target "
        "(`perfspec run --demo`), e.g. it reads a file only the real system writes; such a run "
        "warns that it was not judged instead of failing it",
    )

    @property
    def kind(self) -> str:
        if self.scaling is not None:
            return "scaling"
        if self.metric is not None:
            return "external"
        return "measured"

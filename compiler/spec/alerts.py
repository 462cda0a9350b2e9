"""Alerts, CI and the capacity question."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..units import Quantity
from .types import (
    RUNNER_PATTERN,
    AlertName,
    AnyBound,
    Duration,
    LabelName,
    MetricName,
    Name,
    Percent,
    Rate,
    Strict,
    level,
)

# --- alerts and CI ------------------------------------------------------------------------


class ServiceMetrics(Strict):
    """How the service under test names its metrics (defaults: prometheus_client conventions)."""

    latency_histogram: MetricName = "http_request_duration_seconds"
    requests_total: MetricName = "http_requests_total"
    route_label: LabelName = "endpoint"
    method_label: LabelName = "method"
    status_label: LabelName = "status"
    error_status: str = Field("5..", description="regex of the status label values that count as errors")
    matchers: dict[LabelName, str] = Field(default_factory=dict, description="e.g. {job: api}")
    buckets: list[Duration] | None = Field(None, description="the histogram's bucket bounds")
    server_side: Literal["show", "judge", "off"] = Field(
        "show",
        description="with a Prometheus in the run: each HTTP target's server-side value "
        "from these metrics is shown beside the client's (show), also judged (judge), or not "
        "queried (off)",
    )


class FromTargets(Strict):
    enabled: bool = True
    for_: Duration = Field(Quantity(300.0, "duration", "5m"), alias="for")
    window: Duration = Field(Quantity(300.0, "duration", "5m"), description="rate() window")
    min_rate: Rate = Field(
        Quantity(1.0, "rate", "1/s"),
        description="latency alerts stay silent while the service "
        "gets fewer requests per second than this: a few slow requests after the load has "
        "stopped do not page",
    )
    severity: str = "warning"
    labels: dict[LabelName, str] = Field(default_factory=dict)
    runbook: str | None = None


class Slo(Strict):
    """An availability objective; generates multi-window multi-burn-rate alerts."""

    availability: Percent
    period: Duration = Quantity(30 * 86400.0, "duration", "720h")
    windows: list[Duration] | None = Field(
        None, description="long windows of the page alerts; default 1h and 6h"
    )
    ticket_windows: list[Duration] | None = Field(
        None, description="long windows of the ticket alerts; default 1d and 3d"
    )
    runbook: str | None = None


class ExplicitAlert(Strict):
    alert: AlertName
    expr: str = Field(min_length=1)
    when: AnyBound | None = Field(None, description="comparison applied to expr, in units")
    for_: Duration | None = Field(None, alias="for")
    severity: str = "warning"
    labels: dict[LabelName, str] = Field(default_factory=dict)
    summary: str | None = None
    description: str | None = None
    runbook: str | None = None


class Alerts(Strict):
    service: ServiceMetrics = ServiceMetrics()
    from_targets: FromTargets = FromTargets()
    slo: Slo | None = None
    rules: list[ExplicitAlert] = Field(default_factory=list)


Trigger = Literal["push", "pull_request", "schedule", "workflow_dispatch"]


class GithubCi(Strict):
    on: list[Trigger] = Field(default_factory=lambda: ["push", "pull_request"])
    branches: list[str] = Field(default_factory=list)
    schedule: str | list[str] | None = Field(None, description="cron, e.g. '0 2 * * *'")
    profile: str
    baseline: str | None = Field(
        None,
        description="branch whose run history (kept in the Actions cache) regression targets compare with",
    )
    suites: list[Literal["locust", "k6", "sql"]] | None = None
    runs_on: Annotated[str, Field(pattern=RUNNER_PATTERN, description="a runner label")] = "ubuntu-latest"
    timeout: Duration = Quantity(1800.0, "duration", "30m")
    install: str = Field("perfspec[run]==0.1.0", description="what `pip install` installs on the runner")
    embedded: bool = Field(
        False,
        description=(
            "run on the embedded demo target when a host variable is unset (quickstart only); "
            "otherwise an unset host fails the job"
        ),
    )


class Capacity(Strict):
    """`perfspec capacity`'s question: the highest arrival rate at which these targets hold."""

    profile: Name = Field(description="the profile whose flows are driven (k6, constant arrival rate)")
    targets: list[Name] | None = Field(
        None, description="targets that must hold at each step; default: those of the profile's endpoints"
    )
    start: level("rate", example="20/s") = Field(Quantity(20.0, "rate", "20/s"), description="first rate")
    max: level("rate", example="2000/s") = Field(
        Quantity(2000.0, "rate", "2000/s"), description="highest rate tried"
    )
    step: Duration = Field(Quantity(10.0, "duration", "10s"), description="length of each step")
    warmup: Duration = Field(Quantity(2.0, "duration", "2s"), description="start of each step left out")
    budget: Duration = Field(Quantity(180.0, "duration", "3m"), description="time for the whole search")


class Ci(Strict):
    github: GithubCi | None = None

"""The spec model: what a perfspec YAML file may say, as frozen pydantic models.

Structure lives here (types, units, required keys, unknown keys); rules that relate one part of
a spec to another (references, selectors, Little's law) live in checks/, where every node's
position is at hand.

The model is split by section (types, http, sql and profiles, targets, alerts and CI); this
module assembles the Spec and re-exports every part, so `from .spec import Target` works.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import ConfigDict, Field

from .alerts import Alerts, Capacity, Ci, ExplicitAlert, FromTargets, GithubCi, ServiceMetrics, Slo, Trigger
from .descriptions import describe
from .distributed import Distributed, K6Cluster, LocustCluster, Resources
from .http import Database, Endpoint, Expect, Flow, Host, Http, HttpDefaults, Pool, ThinkTime, ThinkTimeField
from .sql import ParamGen, PlanExpectation, PlanField, Profile, Query, Sql, SqlDefaults, Stage
from .targets import MetricSource, Scaling, Selector, StatBounds, Target, TargetAlert
from .types import (
    GUC_PATTERN,
    HEADER_PATTERN,
    HEADER_VALUE_PATTERN,
    LABEL_PATTERN,
    LATENCY_STATS,
    METHODS,
    METRIC_PATTERN,
    NAME_PATTERN,
    PATTERN_NAMES,
    PERCENTILES,
    RATE_STATS,
    RATIO_STATS,
    RUNNER_PATTERN,
    SPEC_VERSION,
    STATS,
    AlertName,
    AnyBound,
    Duration,
    HeaderName,
    HeaderValue,
    LabelName,
    LatencyBound,
    Load,
    MetricName,
    Name,
    Percent,
    PercentBound,
    PositiveInt,
    Rate,
    RateBound,
    RatioBound,
    Size,
    StatusCode,
    Strict,
    Template,
    Users,
    Weight,
    bound,
    level,
    quantity,
)

__all__ = [
    "Distributed",
    "K6Cluster",
    "LocustCluster",
    "Resources",
    "AlertName",
    "Alerts",
    "AnyBound",
    "Capacity",
    "Ci",
    "Database",
    "Duration",
    "ENV_REF",
    "Endpoint",
    "Expect",
    "ExplicitAlert",
    "Flow",
    "FromTargets",
    "GUC_PATTERN",
    "GithubCi",
    "HEADER_PATTERN",
    "HEADER_VALUE_PATTERN",
    "HeaderName",
    "HeaderValue",
    "Host",
    "Http",
    "HttpDefaults",
    "LABEL_PATTERN",
    "LATENCY_STATS",
    "LabelName",
    "LatencyBound",
    "Load",
    "METHODS",
    "METRIC_PATTERN",
    "MetricName",
    "MetricSource",
    "NAME_PATTERN",
    "Name",
    "PATTERN_NAMES",
    "PERCENTILES",
    "ParamGen",
    "Percent",
    "PercentBound",
    "PlanExpectation",
    "PlanField",
    "Pool",
    "PositiveInt",
    "Profile",
    "Query",
    "RATE_STATS",
    "RATIO_STATS",
    "RUNNER_PATTERN",
    "Rate",
    "RateBound",
    "RatioBound",
    "SPEC_VERSION",
    "STATS",
    "Scaling",
    "Selector",
    "ServiceMetrics",
    "Size",
    "Slo",
    "Spec",
    "Sql",
    "SqlDefaults",
    "Stage",
    "StatBounds",
    "StatusCode",
    "Strict",
    "Target",
    "TargetAlert",
    "Template",
    "ThinkTime",
    "ThinkTimeField",
    "Trigger",
    "Users",
    "Weight",
    "bound",
    "json_schema",
    "level",
    "quantity",
]


# --- the spec -----------------------------------------------------------------------------


class Score(Strict):
    """Keptn's total score: each target's weight times 1 (pass), 0.5 (warn) or 0 (fail)."""

    pass_: Percent = Field(alias="pass", description="the lowest score that passes the run, e.g. 90%")
    warn: Percent = Field(description="the lowest score that warns instead of failing, e.g. 75%")


class Spec(Strict):
    """One perfspec file: the single source of truth for a system's performance targets."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "perfspec spec",
        },
    )

    version: Literal[1]
    name: Name
    description: str | None = None
    hosts: dict[Name, Host] = Field(default_factory=dict)
    databases: dict[Name, Database] = Field(default_factory=dict)
    http: Http | None = None
    sql: Sql | None = None
    profiles: dict[Name, Profile] = Field(default_factory=dict)
    targets: list[Target] = Field(default_factory=list)
    score: Score | None = Field(
        None,
        description="the run's verdict from the targets' weighted score instead of any failed target: "
        "pass at `pass` or more, warn at `warn` or more, else fail; a failed `key: true` target fails it",
    )
    alerts: Alerts | None = None
    capacity: Capacity | None = None
    ci: Ci | None = None
    distributed: Distributed | None = None


ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def json_schema() -> dict[str, Any]:
    """The JSON Schema editors use (yaml-language-server modeline in every spec). A name-like
    pattern carries what it means, so an editor shows "a Kubernetes name: use lower-case ..."
    rather than the regular expression (unit patterns carry theirs from their types)."""
    schema = Spec.model_json_schema(by_alias=True)

    def human(node: Any) -> None:
        if isinstance(node, dict):
            for branch in node.get("anyOf") or []:  # an optional field's message, where its pattern is
                if isinstance(branch, dict) and "pattern" in branch and "patternErrorMessage" in node:
                    branch.setdefault("patternErrorMessage", node["patternErrorMessage"])
                    branch.setdefault("errorMessage", node["patternErrorMessage"])
            known = PATTERN_NAMES.get(node.get("pattern", ""))
            if known is not None and "patternErrorMessage" not in node:
                what, hint = known
                node["patternErrorMessage"] = node["errorMessage"] = f"{what}: {hint}"
                node.setdefault("markdownDescription", f"{what}: {hint}")
            for value in node.values():
                human(value)
        elif isinstance(node, list):
            for value in node:
                human(value)

    human(schema)
    describe(schema)
    return schema

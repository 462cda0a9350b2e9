"""The SQL part of a spec (queries, parameters, plans) and the load profiles."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from ..units import Quantity
from .types import Duration, Load, Name, Percent, PositiveInt, Strict, Template, Users, _err, level

# --- SQL ----------------------------------------------------------------------------------


class ParamGen(Strict):
    """A query parameter generator: exactly one of int, choice, csv, uuid, sequence."""

    int_: Annotated[list[int], Field(min_length=2, max_length=2)] | None = Field(
        None, alias="int", description="[low, high], uniform, inclusive"
    )
    choice: Annotated[list[Any], Field(min_length=1)] | None = None
    csv: str | None = Field(None, description="a CSV file beside the spec; pick `column`")
    column: str | None = None
    uuid: bool | None = None
    sequence: int | None = Field(None, description="start value, +1 per call")
    text: Template | None = Field(None, description="text with {uuid} / {seq}")


def _plan(raw: object) -> Any:
    if raw == "index_scan":
        return {"uses_index": True}
    if raw == "no_seq_scan":
        return {"no_seq_scan": True}
    if not isinstance(raw, dict):
        raise _err(
            f"unknown plan expectation {raw!r}",
            "write index_scan, no_seq_scan, {uses_index: NAME} or {no_seq_scan_on: [TABLE]}",
        )
    return raw


class PlanExpectation(Strict):
    """What EXPLAIN (FORMAT JSON) must show for the query."""

    uses_index: bool | str | None = Field(None, description="true: some index scan; a name: that index")
    no_seq_scan: bool | None = None
    no_seq_scan_on: list[str] = Field(default_factory=list)


PlanField = Annotated[
    PlanExpectation,
    BeforeValidator(_plan),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": ["index_scan", "no_seq_scan"]},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "uses_index": {"anyOf": [{"type": "boolean"}, {"type": "string"}]},
                        "no_seq_scan": {"type": "boolean"},
                        "no_seq_scan_on": {"type": "array", "items": {"type": "string"}},
                    },
                },
            ]
        }
    ),
]


class SqlDefaults(Strict):
    warmup: Annotated[int, Field(ge=0)] = 10
    iterations: PositiveInt | None = 1000
    duration: Duration | None = None
    concurrency: list[PositiveInt] = Field(default_factory=lambda: [1])
    prepared: bool = True


class Query(Strict):
    """One benchmarked statement with its parameters, load and expected plan."""

    sql: str = Field(min_length=1)
    params: list[str] = Field(default_factory=list, description="generator names, for $1, $2, ...")
    class_: Name | None = Field(None, alias="class")
    tags: list[Name] = Field(default_factory=list)
    warmup: Annotated[int, Field(ge=0)] | None = None
    iterations: PositiveInt | None = Field(None, description="per concurrency level, all workers")
    iterations_per_worker: PositiveInt | None = None
    duration: Duration | None = None
    concurrency: list[PositiveInt] | None = None
    prepared: bool | None = None
    expect_plan: PlanField | None = None
    description: str | None = None


class Sql(Strict):
    database: str
    defaults: SqlDefaults = SqlDefaults()
    params: dict[Name, ParamGen] = Field(default_factory=dict)
    queries: dict[Name, Query] = Field(min_length=1)


# --- load profiles ------------------------------------------------------------------------


class Stage(Strict):
    """ramp A -> B over D; hold N for D; spike to N (at once) and hold for D."""

    ramp: str | None = Field(None, description="'0 -> 50 users' or '10/s -> 200/s'")
    over: Duration | None = None
    hold: Load | None = None
    spike: Load | None = None
    for_: Duration | None = Field(None, alias="for")


class Profile(Strict):
    """Closed model (users) or open model (arrival rate with a user cap)."""

    users: Users | None = None
    rate: level("rate", example="200/s") | None = None
    for_: Duration | None = Field(None, alias="for", description="hold time at the level")
    spawn_rate: level("rate", example="5/s") | None = Field(
        None, description="users started per second before the hold"
    )
    stages: list[Stage] | None = None
    max_users: Users | None = Field(None, description="open model: cap on concurrent users")
    pre_allocated: Users | None = None
    flows: list[str] | None = Field(None, description="flows this profile runs; default all")
    max_dropped: Percent = Field(
        Quantity(0.01, "percent", "1%"),
        description="open model: the share of scheduled "
        "requests k6 may fail to start (every user busy) before latency and throughput targets of "
        "the run fail; below it they warn",
    )
    warmup: Duration | None = Field(
        None,
        description="the first part of the run left out of every verdict (caches, JIT, "
        "connection pools warming up); still recorded and plotted",
    )
    tools: list[Literal["locust", "k6"]] | None = Field(
        None, description="which load tools run this profile; default all that can"
    )
    description: str | None = None

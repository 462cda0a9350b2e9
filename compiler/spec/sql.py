"""The SQL part of a spec (queries, parameters, plans) and the load profiles."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from ..units import Quantity
from .types import Duration, Load, Name, Percent, PositiveInt, Strict, Template, Users, custom_error, level

# --- SQL ----------------------------------------------------------------------------------

Engine = Literal["asyncpg", "pgbench", "both"]


Bound = int | Annotated[str, Field(min_length=1, description="an expression, e.g. 100000 * scale")]


class ParamGen(Strict):
    """A query parameter generator: exactly one of int, expr, choice, csv, uuid, sequence, text.

    Each generator is drawn once per call (once per transaction), so every statement of a
    transaction that names it gets the same value."""

    int_: Annotated[list[Bound], Field(min_length=2, max_length=2)] | None = Field(
        None,
        alias="int",
        description="[low, high], inclusive; each bound a number or an expression over `scale`",
        examples=[[1, 100000], [1, "100000 * scale"]],
    )
    dist: Literal["uniform", "exponential", "gaussian", "zipfian"] = Field(
        "uniform",
        description="how `int` values are drawn, as pgbench's random functions: exponential "
        "(param > 0), gaussian (param >= 2), zipfian (1.001 <= param <= 1000)",
    )
    param: float | None = Field(None, description="the distribution's parameter (see dist)")
    expr: str | None = Field(
        None,
        description="integer arithmetic (+ - * / %, parentheses) over other generators, "
        "returned columns and `scale`; / divides as pgbench does (truncating)",
        examples=["(aid - 1) / 100000 + 1"],
    )
    choice: Annotated[list[Any], Field(min_length=1)] | None = None
    csv: str | None = Field(None, description="a CSV file beside the spec; pick `column`")
    column: str | None = None
    uuid: bool | None = None
    sequence: int | None = Field(None, description="start value, +1 per call")
    text: Template | None = Field(None, description="text with {uuid} / {seq}")


def _plan(raw: object) -> Any:
    if raw == "index_scan":  # an indexed lookup: read by an index, no table read sequentially
        return {"uses_index": True, "no_seq_scan": True}
    if raw == "no_seq_scan":
        return {"no_seq_scan": True}
    if not isinstance(raw, dict):
        raise custom_error(
            f"unknown plan expectation {raw!r}",
            "write index_scan, no_seq_scan, {uses_index: NAME}, {index_scan_on: [TABLE]} or "
            "{no_seq_scan_on: [TABLE]}",
        )
    return raw


class PlanExpectation(Strict):
    """What EXPLAIN (FORMAT JSON) must show for the query (every statement of a transaction)."""

    uses_index: bool | str | None = Field(None, description="true: some index scan; a name: that index")
    no_seq_scan: bool | None = Field(None, description="no sequential scan on any table")
    no_seq_scan_on: list[str] = Field(default_factory=list, description="no sequential scan on these tables")
    index_scan_on: list[str] = Field(
        default_factory=list,
        description="each of these tables is read by an index (index, index-only or bitmap scan) "
        "wherever the plan reads it",
    )


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
                        "index_scan_on": {"type": "array", "items": {"type": "string"}},
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
    engine: Engine = "asyncpg"


class Step(Strict):
    """One statement of a transaction."""

    sql: str = Field(min_length=1)
    params: list[str] = Field(
        default_factory=list, description="for $1, $2, ...: generator names or columns returned earlier"
    )
    returns: list[Name] = Field(
        default_factory=list,
        description="columns of the statement's first row that later statements may use as params "
        "(pgbench: \\gset)",
    )


Isolation = Literal["read_committed", "repeatable_read", "serializable"]


class Query(Strict):
    """One benchmarked workload: a statement (`sql`), a transaction (`steps`) or a weighted `mix`
    of other queries running at once; with its parameters, load and expected plan."""

    sql: str | None = Field(None, min_length=1)
    params: list[str] = Field(default_factory=list, description="generator names, for $1, $2, ...")
    steps: list[Step] | None = Field(
        None, min_length=1, description="a transaction: statements run in order, in one transaction"
    )
    isolation: Isolation | None = Field(None, description="the transaction's isolation level")
    retries: Annotated[int, Field(ge=0)] = Field(
        0,
        description="retry a transaction failing with a serialization failure (40001) or a "
        "deadlock (40P01) up to this many times; each failure is counted by SQLSTATE",
    )
    mix: dict[Name, Annotated[int, Field(gt=0)]] | None = Field(
        None,
        description="other queries by weight, run at once across the workers: each part measured "
        "on its own (targets select it as `mix/part`) and the mix as a whole",
        examples=[{"lookup": 80, "tpcb": 20}],
    )
    standalone: bool = Field(
        True, description="false: the query runs only inside the mixes that name it, not on its own"
    )
    engine: Engine | None = Field(
        None, description="asyncpg (an application's driver), pgbench (the C reference client) or both"
    )
    rate: level("rate", example="500/s") | None = Field(
        None,
        description="open model: calls started per second across all workers (latency "
        "counts from the scheduled start)",
    )
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
    scale: PositiveInt | None = Field(
        None,
        description="the `scale` of generator expressions; pgbench's -s; setup SQL reads it "
        "as current_setting('perfspec.scale')",
    )
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

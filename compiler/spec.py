"""The spec model: what a perfspec YAML file may say, as frozen pydantic models.

Structure lives here (types, units, required keys, unknown keys); rules that relate one part of
a spec to another (references, selectors, Little's law) live in validate.py, where every node's
position is at hand.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from .units import Bound, Kind, Quantity, UnitError, parse_bound, parse_cap, parse_quantity

SPEC_VERSION = 1
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
LATENCY_STATS = ("avg", "min", "max", "p50", "p75", "p90", "p95", "p99", "p99.9")
RATE_STATS = ("throughput",)
RATIO_STATS = ("error_rate", "success_rate")
STATS = LATENCY_STATS + RATE_STATS + RATIO_STATS
PERCENTILES = {"p50": 50.0, "p75": 75.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p99.9": 99.9}

# --- unit-bearing types -------------------------------------------------------------------

_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_UNIT_RE = {
    "duration": r"(?:us|µs|ms|s|m|min|h|d)",
    "percent": r"%",
    "rate": r"(?:/s|/m|/min|/h|rps|qps)",
    "users": r"(?:users|user|vus)",
    "size": r"(?:B|KB|MB|GB|KiB|MiB|GiB)",
    "ratio": r"x",
    "count": r"",
}


def _err(message: str, hint: str) -> PydanticCustomError:
    return PydanticCustomError("perfspec", "{message}", {"message": message, "hint": hint})


def _quantity_pattern(kinds: tuple[Kind, ...]) -> str:
    units = "|".join(_UNIT_RE[k] for k in kinds if _UNIT_RE[k])
    optional = "?" if "count" in kinds else ""
    return rf"^\s*{_NUM}\s*(?:{units}){optional}\s*$"


def quantity(*kinds: Kind, example: str) -> Any:
    """An annotated type for a quantity of one of `kinds` (`150ms`)."""

    def check(raw: object) -> Quantity:
        if isinstance(raw, Quantity):
            return raw
        try:
            return parse_quantity(raw, kinds)
        except UnitError as exc:
            raise _err(str(exc), exc.hint) from None

    schema: dict[str, Any] = {"type": "string", "pattern": _quantity_pattern(kinds),
                              "examples": [example]}
    if "count" in kinds:
        schema = {"anyOf": [{"type": "number"}, schema]}
    return Annotated[Quantity, PlainValidator(check), WithJsonSchema(schema)]


def bound(*kinds: Kind, example: str) -> Any:
    """An annotated type for a comparison with a quantity (`< 200ms`)."""

    def check(raw: object) -> Bound:
        if isinstance(raw, Bound):
            return raw
        try:
            return parse_bound(raw, kinds)
        except UnitError as exc:
            raise _err(str(exc), exc.hint) from None

    quantity_re = _quantity_pattern(kinds).removeprefix("^")
    schema = {"type": "string", "pattern": rf"^\s*(?:<=|>=|<|>|==){quantity_re}",
              "examples": [example]}
    return Annotated[Bound, PlainValidator(check), WithJsonSchema(schema)]


def level(*kinds: Kind, example: str) -> Any:
    """A load level: `50 users` (or a bare whole number of users) or `200/s`."""

    def check(raw: object) -> Quantity:
        if isinstance(raw, Quantity):
            return raw
        try:
            q = parse_cap(raw, kinds)
        except UnitError as exc:
            raise _err(str(exc), exc.hint) from None
        if q.value < 0:
            raise _err(f"{raw!r} is negative", "a load level is 0 or more")
        if q.kind == "users" and q.value != int(q.value):
            raise _err(f"{raw!r} is not a whole number of users", "write e.g. 50 users")
        return q

    pattern = {"type": "string", "pattern": _quantity_pattern(kinds), "examples": [example]}
    schema: dict[str, Any] = pattern
    if "users" in kinds:
        schema = {"anyOf": [{"type": "integer", "minimum": 0}, pattern]}
    return Annotated[Quantity, PlainValidator(check), WithJsonSchema(schema)]


Duration = quantity("duration", example="30s")
Size = quantity("size", example="200MB")
LatencyBound = bound("duration", example="< 200ms")
RateBound = bound("rate", example="> 50/s")
PercentBound = bound("percent", example="> 99.5%")
RatioBound = bound("ratio", example=">= 0.9x")
AnyBound = bound("duration", "percent", "rate", "size", "ratio", "users", "count",
                 example="> 60%")
Users = level("users", example="50 users")
Load = level("users", "rate", example="50 users")
Percent = quantity("percent", example="99.5%")
Rate = quantity("rate", example="1/s")

# Names become identifiers, file names, tags, metric and label names in the artifacts: letters,
# digits, `_`, `-` and `.`, starting with a letter or `_` (spec text never becomes code).
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,79}$"
METRIC_PATTERN = r"^[A-Za-z_:][A-Za-z0-9_:]{0,199}$"
LABEL_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"
HEADER_PATTERN = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,200}$"  # an RFC 9110 token
HEADER_VALUE_PATTERN = r"^[^\x00-\x08\x0a-\x1f\x7f]*$"  # no line break, no control character
GUC_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.]{0,62}$"
RUNNER_PATTERN = r"^[A-Za-z0-9_.-]{1,100}$"
# what each pattern means, for error messages: (what the text is not, how to fix it)
PATTERN_NAMES = {
    NAME_PATTERN: ("a name", "use letters, digits, _ - and . (starting with a letter or _, at most "
                   "80 characters), e.g. list_agents"),
    METRIC_PATTERN: ("a Prometheus metric name", "use letters, digits, _ and :, e.g. http_requests_total"),
    LABEL_PATTERN: ("a Prometheus label name or alert name",
                    "use letters, digits and _, starting with a letter or _, e.g. team"),
    HEADER_PATTERN: ("an HTTP header name", "use a header name such as X-Request-Id (no spaces or "
                     "separators)"),
    HEADER_VALUE_PATTERN: ("a header value: it holds a line break or control character",
                           "write the value on one line; a header cannot hold line breaks"),
    GUC_PATTERN: ("a PostgreSQL setting name", "e.g. application_name or work_mem"),
    RUNNER_PATTERN: ("a GitHub runner label", "e.g. ubuntu-latest or a self-hosted label"),
}
Name = Annotated[str, Field(pattern=NAME_PATTERN, description="a name: letters, digits, _ - .")]
MetricName = Annotated[str, Field(pattern=METRIC_PATTERN)]
LabelName = Annotated[str, Field(pattern=LABEL_PATTERN)]
AlertName = Annotated[str, Field(pattern=LABEL_PATTERN)]
HeaderName = Annotated[str, Field(pattern=HEADER_PATTERN)]
HeaderValue = Annotated[str, Field(pattern=HEADER_VALUE_PATTERN,
                                   description="text with {var} placeholders and ${ENV} references")]
PositiveInt = Annotated[int, Field(gt=0)]
Weight = Annotated[int, Field(gt=0, description="relative weight, a whole number > 0")]
StatusCode = Annotated[int, Field(ge=100, le=599)]
Template = Annotated[str, Field(description="text with {var} placeholders and ${ENV} references")]


class Strict(BaseModel):
    """Every model rejects unknown keys and is immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=False)


# --- hosts and databases ------------------------------------------------------------------


class Host(Strict):
    """A service under test; the URL may use ${VAR} / ${VAR:-default}, resolved at run time."""

    url: Template
    description: str | None = None
    health: str | None = Field(
        None, description="a path `perfspec run` requests before any load (preflight), e.g. /health; "
        "an answer other than 2xx/3xx stops the run", examples=["/health"])


class Pool(Strict):
    """asyncpg pool settings (asyncpg.create_pool), as the services under test use them."""

    min_size: Annotated[int, Field(ge=0)] = 10
    max_size: PositiveInt = 10
    max_queries: PositiveInt | None = None
    max_inactive_connection_lifetime: Duration | None = None
    timeout: Duration | None = Field(None, description="connection acquisition timeout")
    command_timeout: Duration | None = None
    statement_cache_size: Annotated[int, Field(ge=0)] | None = None
    server_settings: dict[Annotated[str, Field(pattern=GUC_PATTERN)], str] | None = Field(
        None, description="PostgreSQL settings per connection, e.g. {statement_timeout: '30s'}")


class Database(Strict):
    """A PostgreSQL database; the DSN comes from the environment at run time."""

    dsn: Template = Field(description="${VAR} reference; unset -> embedded throwaway PostgreSQL")
    pool: Pool = Pool()
    setup: list[str] = Field(default_factory=list, description="SQL files run before the suite")
    teardown: list[str] = Field(default_factory=list, description="SQL files run after the suite")
    description: str | None = None


# --- HTTP ---------------------------------------------------------------------------------


class Expect(Strict):
    """What counts as success; an expected 429 under rate limiting is a success."""

    status: list[StatusCode] = Field(min_length=1)
    body_contains: str | None = None


class Endpoint(Strict):
    """One request: method and path (`get: /health`), or a WebSocket (`ws: /ws/echo`)."""

    get: Template | None = None
    post: Template | None = None
    put: Template | None = None
    patch: Template | None = None
    delete: Template | None = None
    head: Template | None = None
    options: Template | None = None
    ws: Template | None = Field(None, description="WebSocket path; latency = send to reply")
    host: str | None = None
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    query: dict[str, Template | int | float | bool] = Field(default_factory=dict)
    json_: Any = Field(None, alias="json", description="JSON body; strings may hold {var}")
    form: dict[str, Template] | None = None
    body: Template | None = None
    send: Any = Field(None, description="WebSocket message to send (text, or JSON data)")
    messages: PositiveInt = Field(1, description="WebSocket round trips per connection")
    stream: bool = Field(False, description="streaming response: time to first byte is measured")
    expect: Expect | None = None
    weight: Weight = 1
    class_: Name | None = Field(None, alias="class")
    tags: list[Name] = Field(default_factory=list)
    extract: dict[Name, str] = Field(
        default_factory=dict, description="variable -> $.json.path or header:Name")
    timeout: Duration | None = None
    route: str | None = Field(
        None, description="the service's route label for this endpoint in its metrics "
        "(alerts); default: the path as written")
    description: str | None = None

    @property
    def method(self) -> str:
        for m in METHODS:
            if getattr(self, m) is not None:
                return m.upper()
        return "WS" if self.ws is not None else ""

    @property
    def path(self) -> str:
        for m in (*METHODS, "ws"):
            value = getattr(self, m)
            if value is not None:
                return value
        return ""


def _think(raw: object) -> Any:
    """`1s` or `1s..3s` -> {min, max}."""
    if isinstance(raw, str) and ".." in raw:
        low, high = raw.split("..", 1)
        return {"min": low.strip(), "max": high.strip()}
    if isinstance(raw, str | int | float) and not isinstance(raw, bool):
        return {"min": raw, "max": raw}
    return raw


class ThinkTime(Strict):
    """Pause between a user's tasks, uniformly drawn from [min, max]."""

    min: Duration
    max: Duration


ThinkTimeField = Annotated[
    ThinkTime, BeforeValidator(_think),
    WithJsonSchema({"anyOf": [
        {"type": "string", "pattern": rf"^\s*{_NUM}\s*{_UNIT_RE['duration']}\s*(\.\.\s*{_NUM}\s*"
                                      rf"{_UNIT_RE['duration']}\s*)?$", "examples": ["1s..3s"]},
        {"type": "object", "properties": {"min": {"type": "string"}, "max": {"type": "string"}},
         "required": ["min", "max"], "additionalProperties": False}]}),
]


class HttpDefaults(Strict):
    """Settings every endpoint inherits unless it sets its own."""

    host: str | None = None
    expect: Expect | None = None
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    timeout: Duration | None = None
    think_time: ThinkTimeField | None = None


class Flow(Strict):
    """A virtual user's life: on_start once, weighted tasks in a loop, on_stop once."""

    weight: Weight = 1
    host: str | None = None
    user: dict[Name, Template] = Field(
        default_factory=dict, description="per-user variables, used as {user.NAME}")
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    on_start: list[str] = Field(default_factory=list)
    tasks: list[str] | dict[str, Weight] = Field(
        description="endpoint names (weights from the endpoints) or name -> weight")
    on_stop: list[str] = Field(default_factory=list)
    think_time: ThinkTimeField | None = None
    description: str | None = None

    def task_weights(self, endpoints: dict[str, Endpoint]) -> dict[str, int]:
        if isinstance(self.tasks, dict):
            return dict(self.tasks)
        return {name: endpoints[name].weight if name in endpoints else 1 for name in self.tasks}


class Http(Strict):
    defaults: HttpDefaults = HttpDefaults()
    endpoints: dict[Name, Endpoint] = Field(min_length=1)
    flows: dict[Name, Flow] = Field(
        default_factory=dict,
        description="omitted: one flow runs every endpoint by its weight")


# --- SQL ----------------------------------------------------------------------------------


class ParamGen(Strict):
    """A query parameter generator: exactly one of int, choice, csv, uuid, sequence."""

    int_: Annotated[list[int], Field(min_length=2, max_length=2)] | None = Field(
        None, alias="int", description="[low, high], uniform, inclusive")
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
        raise _err(f"unknown plan expectation {raw!r}",
                   "write index_scan, no_seq_scan, {uses_index: NAME} or {no_seq_scan_on: [TABLE]}")
    return raw


class PlanExpectation(Strict):
    """What EXPLAIN (FORMAT JSON) must show for the query."""

    uses_index: bool | str | None = Field(
        None, description="true: some index scan; a name: that index")
    no_seq_scan: bool | None = None
    no_seq_scan_on: list[str] = Field(default_factory=list)


PlanField = Annotated[
    PlanExpectation, BeforeValidator(_plan),
    WithJsonSchema({"anyOf": [{"enum": ["index_scan", "no_seq_scan"]}, {
        "type": "object", "additionalProperties": False, "properties": {
            "uses_index": {"anyOf": [{"type": "boolean"}, {"type": "string"}]},
            "no_seq_scan": {"type": "boolean"},
            "no_seq_scan_on": {"type": "array", "items": {"type": "string"}}}}]}),
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
        None, description="users started per second before the hold")
    stages: list[Stage] | None = None
    max_users: Users | None = Field(None, description="open model: cap on concurrent users")
    pre_allocated: Users | None = None
    flows: list[str] | None = Field(None, description="flows this profile runs; default all")
    max_dropped: Percent = Field(
        Quantity(0.01, "percent", "1%"), description="open model: the share of scheduled "
        "requests k6 may fail to start (every user busy) before latency and throughput targets of "
        "the run fail; below it they warn")
    warmup: Duration | None = Field(
        None, description="the first part of the run left out of every verdict (caches, JIT, "
        "connection pools warming up); still recorded and plotted")
    tools: list[Literal["locust", "k6"]] | None = Field(
        None, description="which load tools run this profile; default all that can")
    description: str | None = None


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
            value = getattr(self, "p99_9" if stat == "p99.9" else stat)
            if value is not None:
                out.append((stat, value))
        return out


class Scaling(Strict):
    from_: str = Field(alias="from")
    to: str


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
        None, alias="for", description="windowed: every bound (and warn band) must also hold over "
        "every full window of this length in the run")
    during: str | None = Field(
        None, pattern=r"^\s*[0-9.]+\s*[a-zµ]*\s*\.\.\s*([0-9.]+\s*[a-zµ]*)?\s*$",
        description="judge only this part of the run, in time since its start: `0s..5s` (the cold "
        "start), `30s..` (from 30s to the end)", examples=["0s..5s"])
    vs_rest: dict[str, RatioBound] | None = Field(
        None, description="with `during`: statistic -> bound on its ratio to the same statistic "
        "over the rest of the run, e.g. {p50: <= 3x} (the first seconds at most 3x the steady state)")
    merge_tools: bool = Field(
        False, description="judge Locust's and k6's samples as one population; default: each tool "
        "on its own, the verdict the worst of them")
    regression: dict[str, bound("percent", example="< +10%")] | None = Field(
        None, description="statistic -> allowed change against the baseline run")
    scaling: Scaling | None = None
    throughput_per_user: RatioBound | None = None
    metric: str | None = None
    source: MetricSource | None = None
    value: AnyBound | None = None
    alert: bool | TargetAlert | None = None
    demo: bool = Field(
        True, description="false: this target cannot be judged on the embedded demo target "
        "(`perfspec run --demo`), e.g. it reads a file only the real system writes; such a run "
        "warns that it was not judged instead of failing it")

    @property
    def kind(self) -> str:
        if self.scaling is not None:
            return "scaling"
        if self.metric is not None:
            return "external"
        return "measured"


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
        "show", description="with a Prometheus in the run: each HTTP target's server-side value "
        "from these metrics is shown beside the client's (show), also judged (judge), or not "
        "queried (off)")


class FromTargets(Strict):
    enabled: bool = True
    for_: Duration = Field(Quantity(300.0, "duration", "5m"), alias="for")
    window: Duration = Field(Quantity(300.0, "duration", "5m"), description="rate() window")
    min_rate: Rate = Field(
        Quantity(1.0, "rate", "1/s"), description="latency alerts stay silent while the service "
        "gets fewer requests per second than this: a few slow requests after the load has "
        "stopped do not page")
    severity: str = "warning"
    labels: dict[LabelName, str] = Field(default_factory=dict)
    runbook: str | None = None


class Slo(Strict):
    """An availability objective; generates multi-window multi-burn-rate alerts."""

    availability: Percent
    period: Duration = Quantity(30 * 86400.0, "duration", "720h")
    windows: list[Duration] | None = Field(
        None, description="long windows of the page alerts; default 1h and 6h")
    ticket_windows: list[Duration] | None = Field(
        None, description="long windows of the ticket alerts; default 1d and 3d")
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
    baseline: str | None = Field(None, description="branch whose last results are the baseline")
    suites: list[Literal["locust", "k6", "sql"]] | None = None
    runs_on: Annotated[str, Field(pattern=RUNNER_PATTERN, description="a runner label")] = "ubuntu-latest"
    timeout: Duration = Quantity(1800.0, "duration", "30m")
    install: str = Field("perfspec[run]==0.1.0", description="what `pip install` installs on the runner")
    embedded: bool = Field(False, description=(
        "run on the embedded demo target when a host variable is unset (quickstart only); "
        "otherwise an unset host fails the job"))


class Capacity(Strict):
    """`perfspec capacity`'s question: the highest arrival rate at which these targets hold."""

    profile: Name = Field(description="the profile whose flows are driven (k6, constant arrival rate)")
    targets: list[Name] | None = Field(
        None, description="targets that must hold at each step; default: those of the profile's endpoints")
    start: level("rate", example="20/s") = Field(Quantity(20.0, "rate", "20/s"), description="first rate")
    max: level("rate", example="2000/s") = Field(Quantity(2000.0, "rate", "2000/s"),
                                                 description="highest rate tried")
    step: Duration = Field(Quantity(10.0, "duration", "10s"), description="length of each step")
    warmup: Duration = Field(Quantity(2.0, "duration", "2s"), description="start of each step left out")
    budget: Duration = Field(Quantity(180.0, "duration", "3m"), description="time for the whole search")


class Ci(Strict):
    github: GithubCi | None = None


# --- the spec -----------------------------------------------------------------------------


class Spec(Strict):
    """One perfspec file: the single source of truth for a system's performance targets."""

    model_config = ConfigDict(
        extra="forbid", frozen=True,
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema",
                           "title": "perfspec spec"})

    version: Literal[1]
    name: Name
    description: str | None = None
    hosts: dict[Name, Host] = Field(default_factory=dict)
    databases: dict[Name, Database] = Field(default_factory=dict)
    http: Http | None = None
    sql: Sql | None = None
    profiles: dict[Name, Profile] = Field(default_factory=dict)
    targets: list[Target] = Field(default_factory=list)
    alerts: Alerts | None = None
    capacity: Capacity | None = None
    ci: Ci | None = None


ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def json_schema() -> dict[str, Any]:
    """The JSON Schema editors use (yaml-language-server modeline in every spec)."""
    return Spec.model_json_schema(by_alias=True)

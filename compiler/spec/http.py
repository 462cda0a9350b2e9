"""Hosts, databases and the HTTP part of a spec: endpoints, flows, defaults."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from ..units import Quantity
from .types import (
    FILENAME_PATTERN,
    GUC_PATTERN,
    MEDIA_TYPE_PATTERN,
    METHODS,
    NUMBER_RE,
    PART_NAME_PATTERN,
    UNIT_RE,
    Duration,
    HeaderName,
    HeaderValue,
    Name,
    PositiveInt,
    StatusCode,
    Strict,
    Template,
    Weight,
)

# --- hosts and databases ------------------------------------------------------------------


class Host(Strict):
    """A service under test; the URL may use ${VAR} / ${VAR:-default}, resolved at run time."""

    url: Template
    description: str | None = None
    health: str | None = Field(
        None,
        description="a path `perfspec run` requests before any load (preflight), e.g. /health; "
        "an answer other than 2xx/3xx stops the run",
        examples=["/health"],
    )


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
        None, description="PostgreSQL settings per connection, e.g. {statement_timeout: '30s'}"
    )


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
    body_contains: str | None = Field(None, description="the body must contain this text")
    json_: dict[str, Any] | None = Field(
        None,
        alias="json",
        description="JSON body fields that must equal these values: {JSON path: value}, e.g. "
        '{"$.status": "ok", "$.items[0].id": 1}; a missing field or another value fails the call. '
        'Strings are templates ({"$.id": "{record_id}"} compares the field as text); an operator '
        'map checks instead: {exists: true}, {"!=": "x"}, {">": 0, "<=": 10}',
        examples=[{"$.status": "ok"}],
    )


PartName = Annotated[str, Field(pattern=PART_NAME_PATTERN, description="a form field's name")]


class Paginate(Strict):
    """Follow a paged answer: after the response, request the next page while there is one."""

    next: str = Field(
        description="where the next page's URL is: a JSON path (`$.next`, `$.links.next`) "
        'or `header:NAME`: a Link header\'s rel="next" (`<url>; rel="next"`) or a header '
        "holding the bare URL (`Next-Page: https://...`); absent, null or empty ends the pages",
        examples=["$.next"],
    )
    max_pages: Annotated[int, Field(ge=2, le=1000)] = Field(
        10, description="pages per call, the first included"
    )


class Upload(Strict):
    """A file sent as one part of a multipart body, read once when the test starts."""

    file: str = Field(
        description="path from the spec's folder, inside the project", examples=["data/cat.png"]
    )
    content_type: Annotated[str, Field(pattern=MEDIA_TYPE_PATTERN)] = "application/octet-stream"
    filename: Annotated[str, Field(pattern=FILENAME_PATTERN)] | None = Field(
        None, description="the part's file name (default: the file's own)"
    )


class Retry(Strict):
    """Call again when the answer is one of these statuses (409 conflict, 429 too many requests,
    503 unavailable): after the server's Retry-After (seconds or an HTTP date), else after
    `backoff` doubled per attempt; each wait at most `max_wait`. A retried answer is recorded with
    its status and is no failure; the last attempt is judged by `expect`."""

    on: list[StatusCode] = Field(min_length=1, examples=[[409, 429]])
    attempts: Annotated[int, Field(ge=2, le=20)] = Field(3, description="calls in all, the first included")
    backoff: Duration = Field(
        Quantity(0.1, "duration", "100ms"), description="the first wait without Retry-After"
    )
    max_wait: Duration = Field(
        Quantity(10.0, "duration", "10s"), description="the longest wait, Retry-After included"
    )


class BasicAuth(Strict):
    user: Template
    password: Template


class Auth(Strict):
    """Credentials sent as an Authorization header: a flow's on every call, an endpoint's on its
    own (a test-level setup call logging in, say)."""

    basic: BasicAuth = Field(
        description="HTTP Basic auth, e.g. {user: '{user.name}', password: '{user.password}'}"
    )


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
    auth: Auth | None = Field(
        None,
        description="HTTP Basic auth of this call (a flow's auth covers "
        "every call of its users; this one wins for this endpoint)",
    )
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    query: dict[str, Template | int | float | bool] = Field(default_factory=dict)
    json_: Any = Field(None, alias="json", description="JSON body; strings may hold {var}")
    form: dict[str, Template] | None = None
    multipart: dict[PartName, Template | Upload] | None = Field(
        None,
        description="a multipart/form-data body: text fields and files, e.g. "
        "{title: 'pic-{uuid}', image: {file: data/cat.png, content_type: image/png}}",
    )
    body: Template | None = None
    send: Any = Field(None, description="WebSocket message to send (text, or JSON data)")
    messages: PositiveInt = Field(1, description="WebSocket round trips per connection")
    stream: bool = Field(False, description="streaming response: time to first byte is measured")
    expect: Expect | None = None
    retry: Retry | None = None
    weight: Weight = 1
    class_: Name | None = Field(None, alias="class")
    tags: list[Name] = Field(default_factory=list)
    extract: dict[Name, str] = Field(
        default_factory=dict, description="variable -> $.json.path or header:Name"
    )
    timeout: Duration | None = None
    paginate: Paginate | None = None
    route: str | None = Field(
        None,
        description="the service's route label for this endpoint in its metrics "
        "(alerts); default: the path as written",
    )
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
    ThinkTime,
    BeforeValidator(_think),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "pattern": rf"^\s*{NUMBER_RE}\s*{UNIT_RE['duration']}\s*(\.\.\s*{NUMBER_RE}\s*"
                    rf"{UNIT_RE['duration']}\s*)?$",
                    "examples": ["1s..3s"],
                    "patternErrorMessage": "write a duration, or a range of durations, e.g. 1s..3s",
                    "errorMessage": "write a duration, or a range of durations, e.g. 1s..3s",
                },
                {
                    "type": "object",
                    "properties": {"min": {"type": "string"}, "max": {"type": "string"}},
                    "required": ["min", "max"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]


class HttpDefaults(Strict):
    """Settings every endpoint inherits unless it sets its own."""

    host: str | None = None
    expect: Expect | None = None
    retry: Retry | None = None
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    timeout: Duration | None = None
    think_time: ThinkTimeField | None = None


class DataFile(Strict):
    """Rows for the users: a CSV file with a header line, or a JSON array of objects; the path is
    relative to the spec's folder."""

    csv: str | None = None
    json_: str | None = Field(None, alias="json")
    order: Literal["sequential", "random"] = Field(
        "sequential", description="sequential: user N takes row N (wrapping around); random: any row"
    )
    per: Literal["user", "iteration"] = Field(
        "user",
        description="user: each user takes a row when it starts; iteration: also each of its "
        "iterations (a task) takes the next row",
    )


class Flow(Strict):
    """A virtual user's life: on_start once, weighted tasks in a loop, on_stop once."""

    weight: Weight = 1
    host: str | None = Field(
        None, description="not supported: endpoints name their host (validation says so at this line)"
    )
    user: dict[Name, Template] = Field(
        default_factory=dict, description="per-user variables, used as {user.NAME}"
    )
    feed: Name | None = Field(
        None, description="a data set of http.data: each user takes a row, its columns are {user.COLUMN}"
    )
    auth: Auth | None = None
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    on_start: list[str] = Field(default_factory=list)
    sequences: dict[Name, Annotated[list[str], Field(min_length=1)]] = Field(
        default_factory=dict,
        description="ordered sequences, each one task: its endpoints called in order, the first "
        "failed call ends it (the later ones would lack what it returns)",
        examples=[{"checkout": ["add_to_cart", "get_cart", "pay"]}],
    )
    tasks: list[str] | dict[str, Weight] = Field(
        description="endpoint or sequence names (weights from the endpoints, a sequence 1) or name -> weight"
    )
    on_stop: list[str] = Field(default_factory=list)
    k6_on_stop: Literal["skip"] | None = Field(
        None,
        description="`skip`: accept that k6 (which has no per-user teardown) does not run "
        "on_stop; without it validation warns when a k6 profile runs the flow",
    )
    think_time: ThinkTimeField | None = None
    description: str | None = None

    def task_weights(self, endpoints: dict[str, Endpoint]) -> dict[str, int]:
        if isinstance(self.tasks, dict):
            return dict(self.tasks)
        # a sequence (or an unknown name, which validation reports) weighs 1
        return {name: endpoints[name].weight if name in endpoints else 1 for name in self.tasks}


class Http(Strict):
    defaults: HttpDefaults = HttpDefaults()
    data: dict[Name, DataFile] = Field(
        default_factory=dict, description="rows for the users (credentials, ids): flows take them with feed:"
    )
    setup: list[str] = Field(
        default_factory=list,
        description="endpoints called once before the users start (create a bucket, an account); "
        "the values they extract every user can read; a failed call stops the test",
    )
    teardown: list[str] = Field(
        default_factory=list,
        description="endpoints called once after the users stop (delete what setup made)",
    )
    endpoints: dict[Name, Endpoint] = Field(min_length=1)
    flows: dict[Name, Flow] = Field(
        default_factory=dict, description="omitted: one flow runs every endpoint by its weight"
    )

"""The spec's vocabulary: statistics, unit-bearing types (150ms, 99.5%, 200/s), name patterns."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from perfspec.runtime.verdict import QUANTILES

from ..units import Bound, Kind, Quantity, UnitError, parse_bound, parse_cap, parse_quantity

SPEC_VERSION = 1
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
LATENCY_STATS = ("avg", "min", "max", *QUANTILES)  # a new percentile: one entry in QUANTILES
RATE_STATS = ("throughput",)
RATIO_STATS = ("error_rate", "success_rate")
STATS = LATENCY_STATS + RATE_STATS + RATIO_STATS
PERCENTILES = {name: round(q * 100, 6) for name, q in QUANTILES.items()}  # p95 -> 95.0

# --- unit-bearing types -------------------------------------------------------------------

NUMBER_RE = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
UNIT_RE = {
    "duration": r"(?:us|µs|ms|s|m|min|h|d)",
    "percent": r"%",
    "rate": r"(?:/s|/m|/min|/h|rps|qps)",
    "users": r"(?:users|user|vus)",
    "size": r"(?:B|KB|MB|GB|KiB|MiB|GiB)",
    "ratio": r"x",
    "count": r"",
}


_UNIT_WORDS = {
    "duration": "a duration with its unit (us, ms, s, m, h, d)",
    "percent": "a percentage (%)",
    "rate": "a rate (/s, /m, /h)",
    "users": "a number of users",
    "size": "a size (B, KB, MB, GB)",
    "ratio": "a ratio (x)",
    "count": "a number",
}


def _human(kinds: tuple[Kind, ...], example: str, comparison: bool = False) -> dict[str, str]:
    """What an editor shows instead of the pattern: the kind of value and an example."""
    what = " or ".join(_UNIT_WORDS[k] for k in kinds)
    if comparison:
        what = f"a comparison (<, <=, >, >=, ==) with {what}"
    text = f"{what}, e.g. `{example}`" + ("; quote it in YAML" if comparison else "")
    message = f"write {what.split(' (')[0]}, e.g. {example}"
    return {"markdownDescription": text, "patternErrorMessage": message, "errorMessage": message}


def custom_error(message: str, hint: str) -> PydanticCustomError:
    return PydanticCustomError("perfspec", "{message}", {"message": message, "hint": hint})


def _quantity_pattern(kinds: tuple[Kind, ...]) -> str:
    units = "|".join(UNIT_RE[k] for k in kinds if UNIT_RE[k])
    optional = "?" if "count" in kinds else ""
    return rf"^\s*{NUMBER_RE}\s*(?:{units}){optional}\s*$"


def quantity(*kinds: Kind, example: str) -> Any:
    """An annotated type for a quantity of one of `kinds` (`150ms`)."""

    def check(raw: object) -> Quantity:
        if isinstance(raw, Quantity):
            return raw
        try:
            return parse_quantity(raw, kinds)
        except UnitError as exc:
            raise custom_error(str(exc), exc.hint) from None

    schema: dict[str, Any] = {
        "type": "string",
        "pattern": _quantity_pattern(kinds),
        "examples": [example],
        **_human(kinds, example),
    }
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
            raise custom_error(str(exc), exc.hint) from None

    quantity_re = _quantity_pattern(kinds).removeprefix("^")
    schema = {
        "type": "string",
        "pattern": rf"^\s*(?:<=|>=|<|>|==){quantity_re}",
        "examples": [example],
        **_human(kinds, example, comparison=True),
    }
    return Annotated[Bound, PlainValidator(check), WithJsonSchema(schema)]


def level(*kinds: Kind, example: str) -> Any:
    """A load level: `50 users` (or a bare whole number of users) or `200/s`."""

    def check(raw: object) -> Quantity:
        if isinstance(raw, Quantity):
            return raw
        try:
            q = parse_cap(raw, kinds)
        except UnitError as exc:
            raise custom_error(str(exc), exc.hint) from None
        if q.value < 0:
            raise custom_error(f"{raw!r} is negative", "a load level is 0 or more")
        if q.kind == "users" and q.value != int(q.value):
            raise custom_error(f"{raw!r} is not a whole number of users", "write e.g. 50 users")
        return q

    pattern = {
        "type": "string",
        "pattern": _quantity_pattern(kinds),
        "examples": [example],
        **_human(kinds, example),
    }
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
AnyBound = bound("duration", "percent", "rate", "size", "ratio", "users", "count", example="> 60%")
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
K8S_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
IMAGE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$"
QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$"
BASE_URL_PATTERN = r"^https?://[A-Za-z0-9._:\[\]-]+(/[A-Za-z0-9._~/-]*)?$"

PART_NAME_PATTERN = r"^[^\x00-\x1f\x7f]{1,200}$"
MEDIA_TYPE_PATTERN = r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$"
FILENAME_PATTERN = r'^[^\x00-\x1f"\\/]{1,200}$'

PATTERN_NAMES = {
    PART_NAME_PATTERN: ("a form field name", "text on one line, at most 200 characters"),
    MEDIA_TYPE_PATTERN: ("a media type", "e.g. image/png or application/pdf"),
    FILENAME_PATTERN: ("a file name", "one line without quotes, backslashes or slashes, e.g. cat.png"),
    K8S_NAME_PATTERN: (
        "a Kubernetes name",
        "use lower-case letters, digits and - (at most 63), e.g. perf-results",
    ),
    IMAGE_PATTERN: ("a container image", "e.g. grafana/k6:1.1.0 (pin a tag or a digest)"),
    QUANTITY_PATTERN: ("a Kubernetes quantity", "e.g. 500m or 2 (CPU), 512Mi or 2Gi (memory)"),
    BASE_URL_PATTERN: ("a base URL", "e.g. http://prometheus.monitoring:9090"),
    NAME_PATTERN: (
        "a name",
        "use letters, digits, _ - and . (starting with a letter or _, at most "
        "80 characters), e.g. list_agents",
    ),
    METRIC_PATTERN: ("a Prometheus metric name", "use letters, digits, _ and :, e.g. http_requests_total"),
    LABEL_PATTERN: (
        "a Prometheus label name or alert name",
        "use letters, digits and _, starting with a letter or _, e.g. team",
    ),
    HEADER_PATTERN: (
        "an HTTP header name",
        "use a header name such as X-Request-Id (no spaces or separators)",
    ),
    HEADER_VALUE_PATTERN: (
        "a header value: it holds a line break or control character",
        "write the value on one line; a header cannot hold line breaks",
    ),
    GUC_PATTERN: ("a PostgreSQL setting name", "e.g. application_name or work_mem"),
    RUNNER_PATTERN: ("a GitHub runner label", "e.g. ubuntu-latest or a self-hosted label"),
}
Name = Annotated[str, Field(pattern=NAME_PATTERN, description="a name: letters, digits, _ - .")]
MetricName = Annotated[str, Field(pattern=METRIC_PATTERN)]
LabelName = Annotated[str, Field(pattern=LABEL_PATTERN)]
AlertName = Annotated[str, Field(pattern=LABEL_PATTERN)]
HeaderName = Annotated[str, Field(pattern=HEADER_PATTERN)]
HeaderValue = Annotated[
    str, Field(pattern=HEADER_VALUE_PATTERN, description="text with {var} placeholders and ${ENV} references")
]
PositiveInt = Annotated[int, Field(gt=0)]
Weight = Annotated[int, Field(gt=0, description="relative weight, a whole number > 0")]
StatusCode = Annotated[int, Field(ge=100, le=599)]
Template = Annotated[str, Field(description="text with {var} placeholders and ${ENV} references")]


class Strict(BaseModel):
    """Every model rejects unknown keys and is immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=False)

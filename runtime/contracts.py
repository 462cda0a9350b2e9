"""The typed contracts between the layers, each with a version a reader checks:

- targets.json, written by the compiler's targets backend and read by the checker;
- the run request the command line hands the runner (`perfspec run`).

targets.json is read into frozen dataclasses (`TargetsFile.read`): the runtime never walks its
raw dicts; the compiler's TargetPlan is a Target (plus what only the compiler needs), so both
sides use the same definitions. The run request is a TypedDict.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, TypedDict

from .verdict import holds

TARGETS_FORMAT = "perfspec-targets/2"
RUN_REQUEST_VERSION = 1


class ContractError(ValueError):
    """targets.json (or hand-made target data) that is not what this perfspec writes."""


@dataclass(frozen=True, kw_only=True)
class Bound:
    """A bound as the spec wrote it (`text`), in base units: seconds, a fraction, per second,
    a ratio (`x`) or a signed change (regression)."""

    op: str  # < <= > >= ==
    value: float
    text: str

    def holds(self, measured: float) -> bool:
        return holds(self.op, measured, self.value)

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "value": self.value, "text": self.text}

    @classmethod
    def from_json(cls, d: dict) -> Bound:
        return cls(op=d["op"], value=float(d["value"]), text=d["text"])


@dataclass(frozen=True, kw_only=True)
class StatBound(Bound):
    """One statistic's bound: a fail bound, or a warn band (`severity: warn`)."""

    stat: str  # p95, avg, throughput, error_rate, ...
    severity: str  # fail | warn
    line: int

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "stat": self.stat, "severity": self.severity, "line": self.line}

    @classmethod
    def from_json(cls, d: dict) -> StatBound:
        return cls(
            op=d["op"],
            value=float(d["value"]),
            text=d["text"],
            stat=d["stat"],
            severity=d["severity"],
            line=d["line"],
        )


@dataclass(frozen=True, kw_only=True)
class Against:
    """`against: {last, branch}`: the history runs a regression target compares with."""

    last: int = 5
    branch: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"last": self.last, "branch": self.branch}

    @classmethod
    def from_json(cls, d: dict) -> Against:
        return cls(last=int(d.get("last") or 5), branch=d.get("branch"))


@dataclass(frozen=True, kw_only=True)
class Scaling:
    """`scaling: {from, to}, throughput_per_user: BOUND` (a cross-run target)."""

    from_: str
    to: str
    per_user: Bound

    def to_json(self) -> dict[str, Any]:
        return {"from": self.from_, "to": self.to, "per_user": self.per_user.to_json()}

    @classmethod
    def from_json(cls, d: dict) -> Scaling:
        return cls(from_=d["from"], to=d["to"], per_user=Bound.from_json(d["per_user"]))


@dataclass(frozen=True, kw_only=True)
class External:
    """`metric: NAME, value: BOUND, source: {promql | json + path}` (a number perfspec does not
    measure); `keys`: the JSON path parsed once by the compiler."""

    metric: str
    bound: Bound
    unit: str  # duration | percent | rate | number
    promql: str | None = None
    prometheus: str | None = None
    json: str | None = None
    path: str | None = None
    keys: tuple[str | int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        source = {"promql": self.promql, "prometheus": self.prometheus, "json": self.json, "path": self.path}
        return {
            "metric": self.metric,
            "bound": self.bound.to_json(),
            "unit": self.unit,
            "source": {k: v for k, v in source.items() if v is not None},
            **({"keys": list(self.keys)} if self.keys else {}),
        }

    @classmethod
    def from_json(cls, d: dict) -> External:
        source = d.get("source") or {}
        return cls(
            metric=d["metric"],
            bound=Bound.from_json(d["bound"]),
            unit=d["unit"],
            keys=tuple(d.get("keys") or ()),
            **{k: source.get(k) for k in ("promql", "prometheus", "json", "path")},
        )


@dataclass(frozen=True, kw_only=True)
class ServerView:
    """How the checker reads the service's own histogram for an HTTP target (`alerts.service`):
    the same series the alert rules select."""

    mode: str  # show | judge
    histogram: str
    total: str
    selectors: tuple[str, ...]
    error_selectors: tuple[str, ...]
    buckets: tuple[float, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "histogram": self.histogram,
            "total": self.total,
            "selectors": list(self.selectors),
            "error_selectors": list(self.error_selectors),
            **({"buckets": list(self.buckets)} if self.buckets else {}),
        }

    @classmethod
    def from_json(cls, d: dict) -> ServerView:
        return cls(
            mode=d["mode"],
            histogram=d["histogram"],
            total=d["total"],
            selectors=tuple(d["selectors"]),
            error_selectors=tuple(d["error_selectors"]),
            buckets=tuple(d.get("buckets") or ()),
        )


def _bounds(d: dict | None) -> dict[str, Bound]:
    return {k: Bound.from_json(v) for k, v in sorted((d or {}).items())}


@dataclass(frozen=True, kw_only=True)
class Target:
    """One target, as the compiler writes it and the checker reads it: what it selects, each
    statistic's bound and warn band, its windows and part of the run, and its kind's own parts.

    kind `measured`: `stats` over the selected series (`endpoints` or `queries`, scoped to a
    `profile` or SQL `workers` level), `window` (`for:`), `during` and `vs_rest`, `regression`;
    kind `scaling`: `scaling`; kind `external`: `external`."""

    index: int
    name: str
    kind: str  # measured | external | scaling
    line: int
    measure: str = "latency"  # latency | ttfb
    endpoints: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()
    profile: str | None = None
    workers: int | None = None
    stats: tuple[StatBound, ...] = ()
    window: float | None = None  # `for:` in seconds
    during: tuple[float, float | None] | None = None  # seconds since the run's start
    vs_rest: dict[str, Bound] = field(default_factory=dict)
    regression: dict[str, Bound] = field(default_factory=dict)
    against: Against | None = None  # which history runs `regression` compares with
    abort_after: float | None = None  # seconds: from then on, a broken fail bound stops the run
    scaling: Scaling | None = None
    external: External | None = None
    demo: bool = True  # False: not judged on the embedded demo target
    merge_tools: bool = False  # True: Locust's and k6's samples judged as one population
    weight: int = 1  # its share of the spec's score
    key: bool = False  # a key objective: failing it fails the run whatever the score
    not_in_k6: tuple[str, ...] = ()  # endpoints only on_stop calls (k6 never runs them)
    k6_rows: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per profile: what k6's rows differ in
    server: ServerView | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "name": self.name,
            "kind": self.kind,
            "line": self.line,
            "measure": self.measure,
            "endpoints": list(self.endpoints),
            "queries": list(self.queries),
            "profile": self.profile,
            "workers": self.workers,
            "stats": [s.to_json() for s in self.stats],
            "window": self.window,
        }
        optional = {
            "during": list(self.during) if self.during else None,
            "vs_rest": {k: b.to_json() for k, b in self.vs_rest.items()} or None,
            "regression": {k: b.to_json() for k, b in self.regression.items()} or None,
            "against": self.against.to_json() if self.against else None,
            "abort_after": self.abort_after,
            "scaling": self.scaling.to_json() if self.scaling else None,
            "external": self.external.to_json() if self.external else None,
            "demo": False if not self.demo else None,
            "merge_tools": True if self.merge_tools else None,
            "weight": self.weight if self.weight != 1 else None,
            "key": True if self.key else None,
            "not_in_k6": list(self.not_in_k6) or None,
            "k6_rows": {k: list(v) for k, v in self.k6_rows.items()} or None,
            "server": self.server.to_json() if self.server else None,
        }
        return {**out, **{k: v for k, v in optional.items() if v is not None}}

    @classmethod
    def from_json(cls, d: dict) -> Target:
        during = d.get("during")
        return cls(
            index=d["index"],
            name=d["name"],
            kind=d["kind"],
            line=d["line"],
            measure=d.get("measure") or "latency",
            endpoints=tuple(d.get("endpoints") or ()),
            queries=tuple(d.get("queries") or ()),
            profile=d.get("profile"),
            workers=d.get("workers"),
            stats=tuple(StatBound.from_json(s) for s in d.get("stats") or ()),
            window=d.get("window"),
            during=(float(during[0]), None if during[1] is None else float(during[1])) if during else None,
            vs_rest=_bounds(d.get("vs_rest")),
            regression=_bounds(d.get("regression")),
            against=Against.from_json(d["against"]) if d.get("against") else None,
            abort_after=float(d["abort_after"]) if d.get("abort_after") is not None else None,
            scaling=Scaling.from_json(d["scaling"]) if d.get("scaling") else None,
            external=External.from_json(d["external"]) if d.get("external") else None,
            demo=d.get("demo", True) is not False,
            merge_tools=bool(d.get("merge_tools")),
            weight=int(d.get("weight") or 1),
            key=bool(d.get("key")),
            not_in_k6=tuple(d.get("not_in_k6") or ()),
            k6_rows={k: tuple(v) for k, v in (d.get("k6_rows") or {}).items()},
            server=ServerView.from_json(d["server"]) if d.get("server") else None,
        )

    @property
    def selection(self) -> str:
        """What the target selects, for messages."""
        return ", ".join(self.endpoints or self.queries) or "nothing"


@dataclass(frozen=True, kw_only=True)
class Profile:
    """A load profile as the checker needs it: its model, length, load and tools."""

    model: str  # closed | open
    seconds: float = 0.0
    peak: float = 0.0
    mean: float = 0.0  # time-weighted users or arrival rate: the scaling denominator
    unit: str = "users"
    tools: tuple[str, ...] = ()
    max_dropped: float = 0.01
    warmup: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out = {
            "model": self.model,
            "seconds": self.seconds,
            "peak": self.peak,
            "mean": self.mean,
            "unit": self.unit,
            "tools": list(self.tools),
            "max_dropped": self.max_dropped,
        }
        return {**out, **({"warmup": self.warmup} if self.warmup else {})}

    @classmethod
    def from_json(cls, d: dict) -> Profile:
        return cls(
            model=d["model"],
            seconds=d.get("seconds", 0.0),
            peak=d.get("peak", 0.0),
            mean=d.get("mean", 0.0),
            unit=d.get("unit", "users"),
            tools=tuple(d.get("tools", ())),
            max_dropped=d.get("max_dropped", 0.01),
            warmup=d.get("warmup") or 0.0,
        )


@dataclass(frozen=True, kw_only=True)
class TargetsFile:
    """targets.json: a spec's targets and profiles, so the checker judges without the compiler."""

    spec: str
    name: str
    generated_by: str = ""
    expected: dict[str, tuple[int, ...]] = field(default_factory=dict)  # per endpoint: success statuses
    profiles: dict[str, Profile] = field(default_factory=dict)
    targets: tuple[Target, ...] = ()
    score: tuple[float, float] | None = None  # (pass, warn) shares of the weighted score

    def to_json(self) -> dict[str, Any]:
        return {
            "format": TARGETS_FORMAT,
            "generated_by": self.generated_by,
            "spec": self.spec,
            "name": self.name,
            "expected": {k: list(v) for k, v in self.expected.items()},
            "profiles": {k: p.to_json() for k, p in self.profiles.items()},
            "targets": [t.to_json() for t in self.targets],
            **({"score": {"pass": self.score[0], "warn": self.score[1]}} if self.score else {}),
        }

    @classmethod
    def read(cls, data: TargetsFile | dict) -> TargetsFile:
        """targets.json as the checker reads it; a file of another format is refused by name."""
        if isinstance(data, TargetsFile):
            return data
        found = data.get("format", TARGETS_FORMAT)  # hand-made test data may leave it out
        if found != TARGETS_FORMAT:
            raise ContractError(
                f"targets file format {found!r} is not {TARGETS_FORMAT!r}: rebuild with this "
                "perfspec (perfspec build)"
            )
        try:
            return cls(
                spec=data["spec"],
                name=data.get("name", ""),
                generated_by=data.get("generated_by", ""),
                expected={k: tuple(v) for k, v in (data.get("expected") or {}).items()},
                profiles={k: Profile.from_json(p) for k, p in (data.get("profiles") or {}).items()},
                targets=tuple(Target.from_json(t) for t in data.get("targets") or ()),
                score=(float(data["score"]["pass"]), float(data["score"]["warn"]))
                if data.get("score")
                else None,
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ContractError(f"targets file is not {TARGETS_FORMAT}: {type(exc).__name__} {exc}") from None

    def replace_targets(
        self, targets: list[Target], profiles: dict[str, Profile] | None = None
    ) -> TargetsFile:
        return replace(self, targets=tuple(targets), profiles=self.profiles if profiles is None else profiles)


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
    k6_output: str  # "stream" (read through a pipe: runtime/k6_stream.py), "ndjson" or "prometheus"


def check_request(info: dict) -> RunRequest:
    if info.get("version") != RUN_REQUEST_VERSION:
        raise ValueError(f"run request version {info.get('version')!r} is not {RUN_REQUEST_VERSION}")
    return info  # type: ignore[return-value]

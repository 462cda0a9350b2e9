"""Target checks: selectors, bounds and bands, scaling, external sources."""

from __future__ import annotations

from perfspec.runtime import files

from .. import select
from ..errors import choices_hint
from ..profiles import profile_duration, profile_kind
from ..spec import STATS, StatBounds, Target
from ..units import UnitError, format_value, parse_span
from .common import JSONPATH, tighter


class TargetChecks:
    """Mixed into Checker (see checks/__init__.py)."""

    def targets(self) -> None:
        names: dict[str, int] = {}
        for i, t in enumerate(self.spec.targets):
            path = ("targets", i)
            if t.name is not None:
                if t.name in names:
                    self.error(
                        (*path, "name"),
                        f"duplicate target name {t.name!r} (also target #{names[t.name] + 1})",
                        "give each target its own name",
                    )
                names.setdefault(t.name, i)
            kinds = [k for k in ("select", "scaling", "metric") if getattr(t, k) is not None]
            if len(kinds) != 1:
                self.error(
                    path,
                    "a target has exactly one of select (measured), scaling "
                    f"(cross-run) or metric (external); this one has {len(kinds)}",
                    "e.g. {select: {class: auth}, p95: < 200ms}",
                )
                continue
            for key in ("against", "abort", "regression"):
                if t.kind != "measured" and getattr(t, key) is not None:
                    self.error((*path, key), f"{key} applies to a measured (select) target only", "remove it")
            if t.kind == "measured":
                self.measured(i, t)
            elif t.kind == "scaling":
                self.scaling(i, t)
            else:
                self.external(i, t)
        self.score()

    def score(self) -> None:
        """`score: {pass, warn}`: two shares of the targets' weight, warn at most pass."""
        score = self.spec.score
        if score is None:
            return
        for key, q in (("pass", score.pass_), ("warn", score.warn)):
            if not 0 <= q.value <= 1:
                self.error(("score", key), f"score {key} {q.text} is outside 0%..100%", "e.g. 90%")
        if score.warn.value > score.pass_.value:
            self.error(
                ("score", "warn"),
                f"score warn {score.warn.text} is above pass {score.pass_.text}: nothing could warn",
                "write warn at most pass, e.g. {pass: 90%, warn: 75%}",
            )
        if not self.spec.targets:
            self.error(("score",), "a score needs targets to weigh", "add targets, or remove score")

    def measured(self, i: int, t: Target) -> None:
        path = ("targets", i)
        assert t.select is not None
        sel = t.select
        stats = t.items()
        if not stats and not t.regression and not (t.warn and t.warn.items()):
            self.error(
                path,
                "this target judges no statistic",
                "add e.g. p95: < 200ms, error_rate: < 1% or throughput: > 50/s",
            )
        for key in ("throughput_per_user", "value", "source"):
            if getattr(t, key) is not None:
                self.error((*path, key), f"{key} does not apply to a measured (select) target", "remove it")
        dom = select.domain(sel)
        spath = (*path, "select")
        if dom == "mixed":
            self.error(
                spath,
                "a selector picks HTTP endpoints or SQL queries, not both",
                "split it into two targets",
                at_key=True,
            )
            return
        before = len(self.out)
        self.selector_names(spath, sel)
        if len(self.out) > before:
            return
        if self.selection(path, t):
            self.band(path, t)
            self.percent_range(path, t)
            self.time_parts(path, t)
            self.regression(path, t)
            self.abort(path, t)

    def selection(self, path: tuple, t: Target) -> bool:
        """What the selector picks can have data: it matches something, TTFB on streams only,
        a profile runs it, a flow calls it. False when it matches nothing."""
        sel, spath = t.select, (*path, "select")
        assert sel is not None
        eps = select.match_endpoints(self.spec, sel)
        queries = select.match_queries(self.spec, sel)
        if not eps and not queries:
            self.error(
                spath,
                f"selector {select.describe(sel) or '{}'} matches nothing",
                "a target with no data never passes: check the names, or remove it",
                at_key=True,
            )
            return False
        if t.measure == "ttfb":
            if queries:
                self.error(
                    (*path, "measure"),
                    "TTFB is measured on HTTP streams, not SQL queries",
                    "remove measure: ttfb",
                )
            assert self.spec.http is not None
            plain = [e for e in eps if not self.spec.http.endpoints[e].stream]
            if plain:
                self.error(
                    (*path, "measure"),
                    f"TTFB needs streaming endpoints; "
                    f"{', '.join(plain)} {'is' if len(plain) == 1 else 'are'} not",
                    "set stream: true on the endpoint, or narrow the selector",
                )
        if eps and not self.spec.profiles:
            self.error(
                spath,
                "no load profile runs these endpoints, so they would have no data",
                "add profiles: {smoke: {users: 10, for: 1m}}",
                at_key=True,
            )
        if eps and self.spec.http is not None:
            run = {e for f in select.flows(self.spec).values() for e in select.flow_endpoints(f)}
            idle = [e for e in eps if e not in run]
            if idle:
                self.error(
                    spath,
                    f"selected endpoint(s) {', '.join(idle)} are in no flow, so they would have no data",
                    "add them to a flow's tasks",
                    at_key=True,
                )
        return True

    def time_parts(self, path: tuple, t: Target) -> None:
        """`during`, `vs_rest` and `for`: parts and windows of the run."""
        if t.during is not None:
            try:
                parse_span(t.during)
            except UnitError as exc:
                self.error((*path, "during"), str(exc), exc.hint)
        if t.vs_rest and t.during is None:
            self.error(
                (*path, "vs_rest"),
                "vs_rest compares the `during` part with the rest of the run",
                "add during: 0s..5s (the part to compare)",
            )
        for stat in t.vs_rest or {}:
            if stat not in STATS:
                self.error(
                    (*path, "vs_rest", stat),
                    f"unknown statistic {stat!r}",
                    choices_hint(stat, ("avg", "p50", "p95", "p99"), "statistics"),
                    at_key=True,
                )
        if t.for_ is not None and t.measure == "ttfb":
            self.error(
                (*path, "for"),
                "windows (`for`) are judged on response latency; a ttfb target "
                "has no per-second time-to-first-byte series",
                "drop `for`, or measure latency",
            )
        sel = t.select
        if t.for_ is not None and sel is not None and sel.profile is not None:
            prof = self.spec.profiles.get(sel.profile)
            total = profile_duration(prof) if prof else None
            if total is not None and t.for_.value > total:
                self.warn(
                    (*path, "for"),
                    f"window {t.for_.text} is longer than profile "
                    f"{sel.profile!r} ({format_value(total, 'duration')})",
                    "shorten the window or the target can only pass",
                )

    def abort(self, path: tuple, t: Target) -> None:
        """`abort: {after}`: every tool stops the run the same way, so only what both can watch
        while the load runs: latency quantiles, avg, max and error_rate of HTTP endpoints."""
        if t.abort is None:
            return
        apath = (*path, "abort")
        if t.select is not None and select.domain(t.select) != "http":
            self.error(apath, "abort stops HTTP load; SQL benchmarks run to the end", "remove abort")
            return
        watched = {"p50", "p75", "p90", "p95", "p99", "p99.9", "avg", "max", "error_rate"}
        stats = [s for s, _ in t.items()]
        if not stats:
            self.error(apath, "abort needs a fail bound to watch", "add e.g. p95: < 500ms to this target")
        for stat in stats:
            if stat not in watched:
                self.error(
                    (*path, stat),
                    f"abort cannot watch {stat}: over a run's first seconds it says nothing of the run",
                    "move this bound to a target without abort",
                    at_key=True,
                )
        if t.during is not None or t.for_ is not None or t.measure != "latency":
            self.error(
                apath,
                "abort watches everything measured so far: not a part of the run, a window or TTFB",
                "put abort on a target without during, for and measure: ttfb",
            )

    def regression(self, path: tuple, t: Target) -> None:
        if t.against is not None and not t.regression:
            self.error(
                (*path, "against"),
                "against says which runs a regression compares with",
                "add regression: {p95: '< +10%'}, or remove against",
            )
        if t.regression:
            for stat in t.regression:
                if stat not in STATS:
                    self.error(
                        (*path, "regression", stat),
                        f"unknown statistic {stat!r}",
                        choices_hint(
                            stat, ("avg", "p50", "p95", "p99", "throughput", "error_rate"), "statistics"
                        ),
                        at_key=True,
                    )
                elif not t.regression[stat].quantity.signed:
                    self.error(
                        (*path, "regression", stat),
                        "a regression bound is a change against the baseline, with a sign",
                        "write e.g. '< +10%' or '> -5%'",
                    )

    def selector_names(self, path: tuple, sel) -> None:
        http, sql = self.spec.http, self.spec.sql
        endpoints = http.endpoints if http else {}
        checks = [
            ("endpoint", sel.endpoint, endpoints, "endpoints"),
            ("class", sel.class_, {e.class_ for e in endpoints.values() if e.class_}, "classes"),
            (
                "tag",
                sel.tag,
                {t for e in endpoints.values() for t in e.tags}
                | {t for q in (sql.queries.values() if sql else []) for t in q.tags},
                "tags",
            ),
            (
                "method",
                sel.method.upper() if sel.method else None,
                {e.method for e in endpoints.values()},
                "methods",
            ),
            ("flow", sel.flow, select.flows(self.spec), "flows"),
            ("profile", sel.profile, self.spec.profiles, "profiles"),
            ("query", sel.query, select.sql_workloads(self.spec), "queries"),
            (
                "sql_class",
                sel.sql_class,
                {q.class_ for q in sql.queries.values() if q.class_} if sql else set(),
                "SQL classes",
            ),
        ]
        for key, value, known, what in checks:
            if value is None:
                continue
            values = value if isinstance(value, list) else [value]
            for j, v in enumerate(values):
                if v not in known:
                    where = (*path, key, j) if isinstance(value, list) else (*path, key)
                    self.error(
                        where,
                        f"unknown {what[:-1] if not what.endswith('sses') else 'class'} {v!r}",
                        choices_hint(v, known, what),
                    )

    def band(self, path: tuple, t: Target) -> None:
        """A warn band must be stricter than the fail bound of the same statistic."""
        if t.warn is None:
            return
        fail = dict(t.items())
        for stat, warn in t.warn.items():
            key = "p99.9" if stat == "p99.9" else stat
            f = fail.get(stat)
            if f is None:
                continue
            if f.upper != warn.upper:
                self.error(
                    (*path, "warn", key),
                    f"warn bound {warn} points the other way from the fail bound {f}",
                    "use the same direction (both < or both >)",
                )
            elif (warn.upper and warn.quantity.value > f.quantity.value) or (
                not warn.upper and warn.quantity.value < f.quantity.value
            ):
                self.error(
                    (*path, "warn", key),
                    f"warn bound {warn} is looser than the fail bound {f}, so it can never warn",
                    f"make it stricter than {f}, e.g. {tighter(f)}",
                )

    def percent_range(self, path: tuple, t: StatBounds) -> None:
        for stat, b in t.items():
            if b.quantity.kind == "percent" and not 0 <= b.quantity.value <= 1:
                self.error(
                    (*path, stat),
                    f"{stat} {b} is outside 0%..100%",
                    "a rate of requests lies between 0% and 100%",
                )

    def scaling(self, i: int, t: Target) -> None:
        path = ("targets", i)
        assert t.scaling is not None
        for key, prof in (("from", t.scaling.from_), ("to", t.scaling.to)):
            if prof not in self.spec.profiles:
                self.error(
                    (*path, "scaling", key),
                    f"unknown profile {prof!r}",
                    choices_hint(prof, self.spec.profiles, "profiles"),
                )
            elif profile_kind(self.spec.profiles[prof]) != "closed":
                self.error(
                    (*path, "scaling", key),
                    f"profile {prof!r} is not closed-model",
                    "throughput per user compares profiles with a number of users",
                )
        if t.scaling.from_ == t.scaling.to:
            self.error(
                (*path, "scaling"), "scaling compares two different profiles", "e.g. {from: smoke, to: peak}"
            )
        if t.throughput_per_user is None:
            self.error(
                (*path, "scaling"),
                "a scaling target needs throughput_per_user",
                "add throughput_per_user: '>= 0.9x' (per-user throughput at `to` / at `from`)",
            )
        if t.items():
            self.error(
                (*path, t.items()[0][0]),
                "a scaling target judges throughput_per_user only",
                "move the statistic to a measured target with select:",
            )

    def external(self, i: int, t: Target) -> None:
        path = ("targets", i)
        if t.source is None:
            self.error(
                path,
                f"external metric {t.metric!r} needs a source",
                "add source: {promql: '...'} or source: {json: file.json, path: $.value}",
            )
        else:
            given = [k for k in ("promql", "json_") if getattr(t.source, k) is not None]
            if t.source.promql is not None:
                self.promql((*path, "source", "promql"), t.source.promql)
            if len(given) != 1:
                self.error(
                    (*path, "source"),
                    "a source is one of promql or json",
                    "e.g. {promql: 'sum(rate(x[5m]))'}",
                )
            if t.source.json_ is not None and (t.source.path is None or not JSONPATH.match(t.source.path)):
                self.error((*path, "source"), "a json source needs path: $.field", "add path: $.value")
            if t.source.json_ is not None:  # written by another tool later: need not exist yet
                why = files.problem(self.folder, t.source.json_, must_exist=False)
                if why is not None:
                    self.error(
                        (*path, "source", "json"),
                        f"JSON file {t.source.json_!r}: {why}",
                        "paths are relative to the spec file's folder, inside the project",
                    )
        if t.value is None:
            self.error(path, f"external metric {t.metric!r} needs value: a bound", "add e.g. value: '> 60%'")
        if t.items():
            self.error(
                (*path, t.items()[0][0]),
                "an external metric is judged by `value`",
                "write value: '< 60s' instead",
            )

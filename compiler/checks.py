"""Semantic checks: rules that relate one part of a spec to another, each error at its place."""

from __future__ import annotations

import math
import re

from ..runtime import files
from . import promql, select, templates
from .checked import CheckedSpec
from .errors import SpecError, choices_hint
from .spec import METHODS, Endpoint, Profile, Spec, StatBounds, Target
from .units import Bound, Quantity, UnitError, format_value, parse_ramp, parse_span

_JSONPATH = re.compile(r"^\$(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\]|\[\"[^\"]*\"\])*$")
_DOLLAR_PARAM = re.compile(r"\$(\d+)")
_URL_PASSWORD = re.compile(r"(?i)^[a-z][a-z0-9+.-]*://[^:/@]*:([^@/]*)@")
_KEY_PASSWORD = re.compile(r"(?i)(?:^|[?&\s])password\s*=\s*([^&\s]*)")
_FROM_ENV = "\x00env\x00"  # a ${VAR} without default: its value comes at run time


def literal_password(text: str) -> bool:
    """A password written in the spec (in a URL, a `password=` pair, or the default of a
    ${VAR:-default}); one that comes wholly from an environment variable is fine."""
    from .spec import ENV_REF

    resolved = ENV_REF.sub(lambda m: m.group(2) if m.group(2) is not None else _FROM_ENV, text)
    for pattern in (_URL_PASSWORD, _KEY_PASSWORD):
        m = pattern.search(resolved)
        if m and m.group(1) and m.group(1) != _FROM_ENV:
            return True
    return False


class Checker:
    """Collects every semantic problem of one spec."""

    def __init__(self, checked: CheckedSpec) -> None:
        self.spec: Spec = checked.spec
        self.src = checked.source
        self.folder = checked.folder
        self.out: list[SpecError] = []

    def error(self, path: tuple, message: str, hint: str = "", *, at_key: bool = False) -> None:
        self.out.append(self.src.error(path, message, hint, at_key=at_key))

    def warn(self, path: tuple, message: str, hint: str = "") -> None:
        self.out.append(self.src.error(path, message, hint, severity="warning"))

    def run(self) -> list[SpecError]:
        self.hosts()
        self.databases()
        self.http()
        self.sql()
        self.profiles()
        self.targets()
        self.alerts()
        self.capacity()
        self.ci()
        return self.out

    # --- hosts and databases ----------------------------------------------------------------

    def template(self, path: tuple, text: str) -> list[templates.Part]:
        try:
            return templates.parse(text)
        except templates.TemplateError as exc:
            self.error(path, exc.message, exc.hint)
            return []

    def hosts(self) -> None:
        for name, host in sorted(self.spec.hosts.items()):
            parts = self.template(("hosts", name, "url"), host.url)
            if templates.is_plain(parts) and parts and not re.match(
                    r"^https?://", parts[0][1]):
                self.error(("hosts", name, "url"), f"host {name!r} URL {host.url!r} is not http(s)",
                           "write e.g. http://127.0.0.1:8000 or ${API_URL:-http://127.0.0.1:8000}")
            if literal_password(host.url):
                self.error(("hosts", name, "url"), f"host {name!r} URL holds a literal password",
                           "secrets come from the environment: write url: ${API_URL}")
            if host.health is not None and not host.health.startswith("/"):
                self.error(("hosts", name, "health"), f"health path {host.health!r} must start with /",
                           "write e.g. health: /health")

    def databases(self) -> None:
        for name, db in sorted(self.spec.databases.items()):
            path = ("databases", name)
            self.template((*path, "dsn"), db.dsn)
            if literal_password(db.dsn):
                self.error((*path, "dsn"), f"database {name!r} DSN holds a literal password",
                           "secrets come from the environment: write dsn: ${PERFSPEC_DSN}")
            if db.pool.min_size > db.pool.max_size:
                self.error((*path, "pool", "min_size"),
                           f"pool min_size {db.pool.min_size} exceeds max_size {db.pool.max_size}",
                           "make min_size <= max_size")
            for key in ("setup", "teardown"):
                for i, file in enumerate(getattr(db, key)):
                    why = files.problem(self.folder, file)
                    if why is not None:
                        self.error((*path, key, i), f"SQL file {file!r}: {why}",
                                   "paths are relative to the spec file's folder, inside the project")

    # --- HTTP -----------------------------------------------------------------------------

    def http(self) -> None:
        http = self.spec.http
        if http is None:
            return
        hosts = self.spec.hosts
        if http.defaults.host is not None and http.defaults.host not in hosts:
            self.error(("http", "defaults", "host"), f"unknown host {http.defaults.host!r}",
                       choices_hint(http.defaults.host, hosts, "hosts"))
        for k, v in sorted(http.defaults.headers.items()):
            self.template(("http", "defaults", "headers", k), v)
        if not hosts:
            self.error(("http",), "HTTP endpoints need a host, and `hosts` is empty",
                       "add hosts: {api: {url: '${API_URL:-http://127.0.0.1:8000}'}}", at_key=True)
        extracted = {v for ep in http.endpoints.values() for v in ep.extract}
        for name, ep in sorted(http.endpoints.items()):
            self.endpoint(name, ep, extracted)
        self.flows(extracted)

    def endpoint(self, name: str, ep: Endpoint, extracted: set[str]) -> None:
        path = ("http", "endpoints", name)
        given = [m for m in (*METHODS, "ws") if getattr(ep, m) is not None]
        if not given:
            self.error(path, f"endpoint {name!r} has no method and path",
                       "add e.g. `get: /health` (or `ws: /ws` for a WebSocket)", at_key=True)
        elif len(given) > 1:
            self.error((*path, given[1]), f"endpoint {name!r} sets both {given[0]} and {given[1]}",
                       "an endpoint is one request: keep one method, make another endpoint")
        if ep.host is not None and ep.host not in self.spec.hosts:
            self.error((*path, "host"), f"unknown host {ep.host!r}",
                       choices_hint(ep.host, self.spec.hosts, "hosts"))
        if ep.host is None and self.spec.http and self.spec.http.defaults.host is None \
                and len(self.spec.hosts) > 1:
            self.error(path, f"endpoint {name!r} has no host and the spec has several",
                       "set http.defaults.host or the endpoint's host", at_key=True)
        bodies = [k for k in ("json_", "form", "body") if getattr(ep, k) is not None]
        if len(bodies) > 1:
            self.error((*path, bodies[1].rstrip("_")), "an endpoint has one body: json, form or body",
                       "keep one of them")
        if ep.ws is not None:
            for key in ("json_", "form", "body"):
                if getattr(ep, key) is not None:
                    self.error((*path, key.rstrip("_")), "a WebSocket endpoint sends `send`, "
                               f"not {key.rstrip('_')}", "use send: ... for the message")
            if ep.stream:
                self.error((*path, "stream"), "stream applies to HTTP responses, not WebSockets",
                           "remove stream: true")
        elif ep.send is not None:
            self.error((*path, "send"), "send is for WebSocket endpoints (ws: /path)",
                       "use json/form/body for an HTTP request body")
        for var, where in sorted(ep.extract.items()):
            if not (_JSONPATH.match(where) or where.startswith("header:")):
                self.error((*path, "extract", var), f"cannot read {where!r} as a JSON path",
                           "write $.field.sub[0] for the JSON body or header:Name for a header")
        strings: list[tuple[tuple, str]] = []
        if ep.path:
            strings.append(((*path, ep.method.lower() if ep.method != "WS" else "ws"), ep.path))
        strings += [((*path, "headers", k), v) for k, v in sorted(ep.headers.items())]
        strings += [((*path, "query", k), v) for k, v in sorted(ep.query.items()) if isinstance(v, str)]
        strings += [((*path, "form", k), v) for k, v in sorted((ep.form or {}).items())]
        if ep.body is not None:
            strings.append(((*path, "body"), ep.body))
        strings += [((*path, "json", *p), s) for p, s in templates.walk_strings(ep.json_)]
        strings += [((*path, "send", *p), s) for p, s in templates.walk_strings(ep.send)]
        for spath, text in strings:
            for part in self.template(spath, text):
                if part[0] == "var":
                    self.variable(spath, part[1], extracted)

    def variable(self, path: tuple, var: str, extracted: set[str], user: set[str] | None = None
                 ) -> None:
        if var in templates.BUILTINS or var in extracted:
            return
        if var.startswith("user."):
            if user is None:
                return  # checked per flow: each flow running the endpoint must define it
            if var[5:] not in user:
                self.error(path, f"unknown per-user variable {{{var}}}",
                           choices_hint(var[5:], user, "per-user variables")
                           + " (define it in the flow's `user:` block)")
            return
        known = {*templates.BUILTINS, *extracted}
        self.error(path, f"unknown variable {{{var}}}",
                   choices_hint(var, known, "variables") + " (variables are built-ins "
                   "(uuid, seq), values an endpoint extracts, or user.NAME)")

    def flows(self, extracted: set[str]) -> None:
        http = self.spec.http
        assert http is not None
        for fname, flow in sorted(http.flows.items()):
            path = ("http", "flows", fname)
            if flow.host is not None and flow.host not in self.spec.hosts:
                self.error((*path, "host"), f"unknown host {flow.host!r}",
                           choices_hint(flow.host, self.spec.hosts, "hosts"))
            tasks = flow.tasks if isinstance(flow.tasks, list) else list(flow.tasks)
            if not tasks:
                self.error((*path, "tasks"), f"flow {fname!r} has no tasks",
                           "list the endpoints a user repeats, e.g. tasks: [list_agents, health]")
            if isinstance(flow.tasks, list):
                seen: set[str] = set()
                for i, t in enumerate(flow.tasks):
                    if t in seen:
                        self.error((*path, "tasks", i), f"task {t!r} is listed twice",
                                   "give weights instead: tasks: {name: 2, other: 1}")
                    seen.add(t)
            for key in ("on_start", "tasks", "on_stop"):
                names = getattr(flow, key)
                items = list(enumerate(names)) if isinstance(names, list) else [(n, n) for n in names]
                for idx, ename in items:
                    if ename not in http.endpoints:
                        where = (*path, key, idx)
                        self.error(where, f"unknown endpoint {ename!r} in flow {fname!r}",
                                   choices_hint(ename, http.endpoints, "endpoints"),
                                   at_key=isinstance(idx, str))
            user_vars = set(flow.user)
            for k, v in sorted(flow.user.items()):
                for part in self.template((*path, "user", k), v):
                    if part[0] == "var" and part[1] not in templates.BUILTINS:
                        self.error((*path, "user", k), f"per-user variable {k!r} uses {{{part[1]}}}",
                                   "per-user values may use only {uuid} and {seq}")
            for k, v in sorted(flow.headers.items()):
                for part in self.template((*path, "headers", k), v):
                    if part[0] == "var":
                        self.variable((*path, "headers", k), part[1], extracted, user_vars)
            # an endpoint using {user.x} must be run only by flows that define x
            for ename in select.flow_endpoints(flow):
                ep = http.endpoints.get(ename)
                if ep is None:
                    continue
                for var in sorted(_endpoint_vars(ep)):
                    if var.startswith("user.") and var[5:] not in user_vars:
                        self.error((*path, "user") if flow.user else path,
                                   f"flow {fname!r} runs {ename!r}, which uses {{{var}}}, "
                                   f"but the flow does not define it",
                                   f"add `user: {{{var[5:]}: ...}}` to the flow", at_key=True)

    # --- SQL ------------------------------------------------------------------------------

    def sql(self) -> None:
        sql = self.spec.sql
        if sql is None:
            return
        if sql.database not in self.spec.databases:
            self.error(("sql", "database"), f"unknown database {sql.database!r}",
                       choices_hint(sql.database, self.spec.databases, "databases"))
        for gname, gen in sorted(sql.params.items()):
            path = ("sql", "params", gname)
            kinds = [k for k in ("int_", "choice", "csv", "uuid", "sequence", "text")
                     if getattr(gen, k) not in (None, False)]
            if len(kinds) != 1:
                self.error(path, f"parameter generator {gname!r} needs exactly one of int, choice, "
                           f"csv, uuid, sequence, text (has {len(kinds)})",
                           "e.g. {int: [1, 10000]} for a random id", at_key=True)
            if gen.int_ is not None and gen.int_[0] > gen.int_[1]:
                self.error((*path, "int"), f"int range {gen.int_} is empty", "write [low, high]")
            if gen.csv is not None:
                if gen.column is None:
                    self.error((*path, "csv"), "a csv generator needs a `column`",
                               "add column: NAME")
                why = files.problem(self.folder, gen.csv)
                if why is not None:
                    self.error((*path, "csv"), f"CSV file {gen.csv!r}: {why}",
                               "paths are relative to the spec file's folder, inside the project")
            if gen.text is not None:
                for part in self.template((*path, "text"), gen.text):
                    if part[0] == "var" and part[1] not in templates.BUILTINS:
                        self.error((*path, "text"), f"unknown variable {{{part[1]}}}",
                                   "generated text may use {uuid} and {seq}")
        for qname, q in sorted(sql.queries.items()):
            path = ("sql", "queries", qname)
            for i, p in enumerate(q.params):
                if p not in sql.params:
                    self.error((*path, "params", i), f"unknown parameter generator {p!r}",
                               choices_hint(p, sql.params, "generators (sql.params)"))
            used = {int(n) for n in _DOLLAR_PARAM.findall(q.sql)}
            need = max(used, default=0)
            if need != len(q.params):
                self.error((*path, "params") if q.params else (*path, "sql"),
                           f"query {qname!r} uses {need} parameter(s) ($1..${need}) "
                           f"but lists {len(q.params)}",
                           "give one generator per $N placeholder, in order")
            if q.iterations is not None and q.duration is not None:
                self.error((*path, "duration"), "a query runs for iterations or for a duration, not both",
                           "remove one of them")
            if q.iterations is not None and q.iterations_per_worker is not None:
                self.error((*path, "iterations_per_worker"),
                           "iterations and iterations_per_worker are alternatives", "keep one")
            levels = select.query_levels(self.spec, qname)
            if len(set(levels)) != len(levels):
                self.error((*path, "concurrency"), "a concurrency level is listed twice",
                           "list each worker count once")
            if q.duration is not None and q.duration.value <= 0:
                self.error((*path, "duration"), "duration must be positive", "write e.g. 30s")

    # --- profiles -------------------------------------------------------------------------

    def profiles(self) -> None:
        flows = select.flows(self.spec)
        for name, prof in sorted(self.spec.profiles.items()):
            path = ("profiles", name)
            model = self.profile_model(name, prof)
            if prof.flows is not None:
                for i, f in enumerate(prof.flows):
                    if f not in flows:
                        self.error((*path, "flows", i), f"unknown flow {f!r}",
                                   choices_hint(f, flows, "flows"))
            if self.spec.http is None:
                self.error(path, f"profile {name!r} has no HTTP endpoints to load",
                           "add http.endpoints, or remove the profile (SQL load is set per query)",
                           at_key=True)
            if model == "open":
                if prof.tools is not None and "locust" in prof.tools:
                    self.error((*path, "tools"), f"profile {name!r} is open-model; Locust runs "
                               "closed-model users and cannot measure latency from the intended "
                               "start", "use tools: [k6] (the default for open-model profiles)")
                if prof.max_users is None:
                    self.error(path, f"open-model profile {name!r} needs max_users",
                               "add max_users: N users (the cap on concurrent requests in flight)",
                               at_key=True)
                else:
                    self.littles_law(name, prof)
            if model == "closed" and prof.max_users is not None:
                self.error((*path, "max_users"), "max_users applies to open-model (rate) profiles",
                           "remove it; a closed profile's users are its level")

    def profile_model(self, name: str, prof: Profile) -> str | None:
        """'open' or 'closed', checking the profile's shape on the way."""
        path = ("profiles", name)
        shapes = [k for k in ("users", "rate", "stages") if getattr(prof, k) is not None]
        if len(shapes) != 1:
            self.error(path, f"profile {name!r} needs exactly one of users, rate, stages "
                       f"(has {', '.join(shapes) or 'none'})",
                       "e.g. {users: 10, for: 1m} or {rate: 200/s, for: 5m, max_users: 400}",
                       at_key=True)
            return None
        if prof.stages is None:
            if prof.for_ is None:
                self.error(path, f"profile {name!r} needs `for` (how long to hold the level)",
                           "add for: 2m", at_key=True)
            if prof.spawn_rate is not None and prof.users is None:
                self.error((*path, "spawn_rate"), "spawn_rate applies to users", "remove it")
            return "closed" if prof.users is not None else "open"
        kinds: set[str] = set()
        if not prof.stages:
            self.error((*path, "stages"), "stages is empty", "add e.g. {hold: 10 users, for: 1m}")
        for i, st in enumerate(prof.stages):
            spath = (*path, "stages", i)
            given = [k for k in ("ramp", "hold", "spike") if getattr(st, k) is not None]
            if len(given) != 1:
                self.error(spath, "a stage is one of ramp, hold or spike",
                           "e.g. {ramp: 0 -> 50 users, over: 30s} or {hold: 50 users, for: 2m}")
                continue
            kind = given[0]
            if kind == "ramp":
                try:
                    start, end = parse_ramp(st.ramp, ("users", "rate"))
                    kinds.add(end.kind)
                except UnitError as exc:
                    self.error((*spath, "ramp"), str(exc), exc.hint)
                if st.over is None:
                    self.error(spath, "a ramp needs `over` (its duration)",
                               "add over: 30s", at_key=True)
                if st.for_ is not None:
                    self.error((*spath, "for"), "a ramp lasts `over`; `for` is for hold and spike",
                               "rename for to over")
            else:
                level = st.hold if kind == "hold" else st.spike
                assert level is not None
                kinds.add(level.kind)
                if st.for_ is None:
                    self.error(spath, f"a {kind} needs `for` (how long it lasts)", "add for: 1m",
                               at_key=True)
                if st.over is not None:
                    self.error((*spath, "over"), f"a {kind} lasts `for`; `over` is for ramps",
                               "rename over to for")
            for key in ("over", "for_"):
                d = getattr(st, key)
                if d is not None and d.value <= 0:
                    self.error((*spath, key.rstrip("_")), "a stage duration must be positive",
                               "write e.g. 30s")
        if len(kinds) > 1:
            self.error((*path, "stages"), f"profile {name!r} mixes users and rates",
                       "a profile is closed (users) or open (rates), not both")
            return None
        if not kinds:
            return None
        return "closed" if kinds == {"users"} else "open"

    def littles_law(self, name: str, prof: Profile) -> None:
        """An arrival rate needs rate x iteration time users in flight (Little's law)."""
        peak = profile_peak(prof)
        assert prof.max_users is not None
        if peak is None or peak.kind != "rate":
            return
        iteration = self.iteration_time(name)
        if iteration is None:
            return
        seconds, basis = iteration
        needed = peak.value * seconds
        if needed > prof.max_users.value:
            self.error(("profiles", name, "max_users"),
                       f"{prof.max_users.text} cannot serve {format_value(peak.value, 'rate')}: "
                       f"by Little's law {format_value(peak.value, 'rate')} x "
                       f"{format_value(seconds, 'duration')} per iteration ({basis}) needs "
                       f"{needed:.0f} users in flight",
                       f"raise max_users to at least {int(needed) + 1} users, or lower the rate")

    def iteration_time(self, profile: str) -> tuple[float, str] | None:
        """Worst-case time of one iteration from the latency bounds that judge its endpoints."""
        if self.spec.http is None:
            return None
        flows = select.flows(self.spec)
        worst = 0.0
        basis = ""
        for fname in select.profile_flows(self.spec, profile):
            flow = flows[fname]
            tasks = flow.task_weights(self.spec.http.endpoints)
            total_w = sum(tasks.values()) or 1
            t = 0.0
            for ename, w in tasks.items():
                bound = self.latency_bound(ename, profile)
                if bound is not None:
                    t += bound * w / total_w
            think = flow.think_time or self.spec.http.defaults.think_time
            if think is not None:
                t += (think.min.value + think.max.value) / 2
            if t > worst:
                worst, basis = t, f"flow {fname!r}: latency bounds of its tasks + think time"
        return (worst, basis) if worst > 0 else None

    def latency_bound(self, endpoint: str, profile: str) -> float | None:
        values = []
        for t in self.spec.targets:
            if t.select is None:
                continue
            if t.select.profile is not None and t.select.profile != profile:
                continue
            if endpoint not in select.match_endpoints(self.spec, t.select):
                continue
            for stat in ("avg", "p50", "p95"):
                b = getattr(t, stat)
                if b is not None and b.upper:
                    values.append(b.quantity.value)
                    break
        return max(values) if values else None

    # --- targets --------------------------------------------------------------------------

    def targets(self) -> None:
        names: dict[str, int] = {}
        for i, t in enumerate(self.spec.targets):
            path = ("targets", i)
            if t.name is not None:
                if t.name in names:
                    self.error((*path, "name"), f"duplicate target name {t.name!r} "
                               f"(also target #{names[t.name] + 1})", "give each target its own name")
                names.setdefault(t.name, i)
            kinds = [k for k in ("select", "scaling", "metric") if getattr(t, k) is not None]
            if len(kinds) != 1:
                self.error(path, "a target has exactly one of select (measured), scaling "
                           f"(cross-run) or metric (external); this one has {len(kinds)}",
                           "e.g. {select: {class: auth}, p95: < 200ms}")
                continue
            if t.kind == "measured":
                self.measured(i, t)
            elif t.kind == "scaling":
                self.scaling(i, t)
            else:
                self.external(i, t)

    def measured(self, i: int, t: Target) -> None:
        path = ("targets", i)
        assert t.select is not None
        sel = t.select
        stats = t.items()
        if not stats and not t.regression and not (t.warn and t.warn.items()):
            self.error(path, "this target judges no statistic",
                       "add e.g. p95: < 200ms, error_rate: < 1% or throughput: > 50/s")
        for key in ("throughput_per_user", "value", "source"):
            if getattr(t, key) is not None:
                self.error((*path, key), f"{key} does not apply to a measured (select) target",
                           "remove it")
        dom = select.domain(sel)
        spath = (*path, "select")
        if dom == "mixed":
            self.error(spath, "a selector picks HTTP endpoints or SQL queries, not both",
                       "split it into two targets", at_key=True)
            return
        before = len(self.out)
        self.selector_names(spath, sel)
        if len(self.out) > before:
            return
        eps = select.match_endpoints(self.spec, sel)
        queries = select.match_queries(self.spec, sel)
        if not eps and not queries:
            self.error(spath, f"selector {select.describe(sel) or '{}'} matches nothing",
                       "a target with no data never passes: check the names, or remove it",
                       at_key=True)
            return
        if t.measure == "ttfb":
            if queries:
                self.error((*path, "measure"), "TTFB is measured on HTTP streams, not SQL queries",
                           "remove measure: ttfb")
            assert self.spec.http is not None
            plain = [e for e in eps if not self.spec.http.endpoints[e].stream]
            if plain:
                self.error((*path, "measure"), f"TTFB needs streaming endpoints; "
                           f"{', '.join(plain)} {'is' if len(plain) == 1 else 'are'} not",
                           "set stream: true on the endpoint, or narrow the selector")
        if eps and not self.spec.profiles:
            self.error(spath, "no load profile runs these endpoints, so they would have no data",
                       "add profiles: {smoke: {users: 10, for: 1m}}", at_key=True)
        if eps and self.spec.http is not None:
            run = {e for f in select.flows(self.spec).values() for e in select.flow_endpoints(f)}
            idle = [e for e in eps if e not in run]
            if idle:
                self.error(spath, f"selected endpoint(s) {', '.join(idle)} are in no flow, so "
                           "they would have no data", "add them to a flow's tasks", at_key=True)
        self.band(path, t)
        self.percent_range(path, t)
        if t.during is not None:
            try:
                parse_span(t.during)
            except UnitError as exc:
                self.error((*path, "during"), str(exc), exc.hint)
        if t.vs_rest and t.during is None:
            self.error((*path, "vs_rest"), "vs_rest compares the `during` part with the rest of the run",
                       "add during: 0s..5s (the part to compare)")
        for stat in t.vs_rest or {}:
            if stat not in ("avg", "min", "max", "p50", "p75", "p90", "p95", "p99", "p99.9",
                            "throughput", "error_rate", "success_rate"):
                self.error((*path, "vs_rest", stat), f"unknown statistic {stat!r}",
                           choices_hint(stat, ("avg", "p50", "p95", "p99"), "statistics"), at_key=True)
        if t.for_ is not None and t.measure == "ttfb":
            self.error((*path, "for"), "windows (`for`) are judged on response latency; a ttfb target "
                       "has no per-second time-to-first-byte series", "drop `for`, or measure latency")
        if t.for_ is not None and sel.profile is not None:
            prof = self.spec.profiles.get(sel.profile)
            total = profile_duration(prof) if prof else None
            if total is not None and t.for_.value > total:
                self.warn((*path, "for"), f"window {t.for_.text} is longer than profile "
                          f"{sel.profile!r} ({format_value(total, 'duration')})",
                          "shorten the window or the target can only pass")
        if t.regression:
            for stat in t.regression:
                if stat not in ("avg", "min", "max", "p50", "p75", "p90", "p95", "p99", "p99.9",
                                "throughput", "error_rate", "success_rate"):
                    self.error((*path, "regression", stat), f"unknown statistic {stat!r}",
                               choices_hint(stat, ("avg", "p50", "p95", "p99", "throughput",
                                                   "error_rate"), "statistics"), at_key=True)
                elif not t.regression[stat].quantity.signed:
                    self.error((*path, "regression", stat), "a regression bound is a change "
                               "against the baseline, with a sign", "write e.g. '< +10%' or '> -5%'")

    def selector_names(self, path: tuple, sel) -> None:
        http, sql = self.spec.http, self.spec.sql
        endpoints = http.endpoints if http else {}
        checks = [
            ("endpoint", sel.endpoint, endpoints, "endpoints"),
            ("class", sel.class_, {e.class_ for e in endpoints.values() if e.class_}, "classes"),
            ("tag", sel.tag, {t for e in endpoints.values() for t in e.tags}
             | {t for q in (sql.queries.values() if sql else []) for t in q.tags}, "tags"),
            ("method", sel.method.upper() if sel.method else None,
             {e.method for e in endpoints.values()}, "methods"),
            ("flow", sel.flow, select.flows(self.spec), "flows"),
            ("profile", sel.profile, self.spec.profiles, "profiles"),
            ("query", sel.query, sql.queries if sql else {}, "queries"),
            ("sql_class", sel.sql_class, {q.class_ for q in sql.queries.values() if q.class_}
             if sql else set(), "SQL classes"),
        ]
        for key, value, known, what in checks:
            if value is None:
                continue
            values = value if isinstance(value, list) else [value]
            for j, v in enumerate(values):
                if v not in known:
                    where = (*path, key, j) if isinstance(value, list) else (*path, key)
                    self.error(where, f"unknown {what[:-1] if not what.endswith('sses') else 'class'}"
                               f" {v!r}", choices_hint(v, known, what))

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
                self.error((*path, "warn", key), f"warn bound {warn} points the other way from "
                           f"the fail bound {f}", "use the same direction (both < or both >)")
            elif (warn.upper and warn.quantity.value > f.quantity.value) or (
                    not warn.upper and warn.quantity.value < f.quantity.value):
                self.error((*path, "warn", key), f"warn bound {warn} is looser than the fail "
                           f"bound {f}, so it can never warn",
                           f"make it stricter than {f}, e.g. {_tighter(f)}")

    def percent_range(self, path: tuple, t: StatBounds) -> None:
        for stat, b in t.items():
            if b.quantity.kind == "percent" and not 0 <= b.quantity.value <= 1:
                self.error((*path, stat), f"{stat} {b} is outside 0%..100%",
                           "a rate of requests lies between 0% and 100%")

    def scaling(self, i: int, t: Target) -> None:
        path = ("targets", i)
        assert t.scaling is not None
        for key, prof in (("from", t.scaling.from_), ("to", t.scaling.to)):
            if prof not in self.spec.profiles:
                self.error((*path, "scaling", key), f"unknown profile {prof!r}",
                           choices_hint(prof, self.spec.profiles, "profiles"))
            elif profile_kind(self.spec.profiles[prof]) != "closed":
                self.error((*path, "scaling", key), f"profile {prof!r} is not closed-model",
                           "throughput per user compares profiles with a number of users")
        if t.scaling.from_ == t.scaling.to:
            self.error((*path, "scaling"), "scaling compares two different profiles",
                       "e.g. {from: smoke, to: peak}")
        if t.throughput_per_user is None:
            self.error((*path, "scaling"), "a scaling target needs throughput_per_user",
                       "add throughput_per_user: '>= 0.9x' (per-user throughput at `to` / at `from`)")
        if t.items():
            self.error((*path, t.items()[0][0]), "a scaling target judges throughput_per_user only",
                       "move the statistic to a measured target with select:")

    def external(self, i: int, t: Target) -> None:
        path = ("targets", i)
        if t.source is None:
            self.error(path, f"external metric {t.metric!r} needs a source",
                       "add source: {promql: '...'} or source: {json: file.json, path: $.value}")
        else:
            given = [k for k in ("promql", "json_") if getattr(t.source, k) is not None]
            if t.source.promql is not None:
                self.promql((*path, "source", "promql"), t.source.promql)
            if len(given) != 1:
                self.error((*path, "source"), "a source is one of promql or json",
                           "e.g. {promql: 'sum(rate(x[5m]))'}")
            if t.source.json_ is not None and (t.source.path is None
                                               or not _JSONPATH.match(t.source.path)):
                self.error((*path, "source"), "a json source needs path: $.field",
                           "add path: $.value")
            if t.source.json_ is not None:  # written by another tool later: need not exist yet
                why = files.problem(self.folder, t.source.json_, must_exist=False)
                if why is not None:
                    self.error((*path, "source", "json"), f"JSON file {t.source.json_!r}: {why}",
                               "paths are relative to the spec file's folder, inside the project")
        if t.value is None:
            self.error(path, f"external metric {t.metric!r} needs value: a bound",
                       "add e.g. value: '> 60%'")
        if t.items():
            self.error((*path, t.items()[0][0]), "an external metric is judged by `value`",
                       "write value: '< 60s' instead")

    # --- alerts and CI --------------------------------------------------------------------

    def promql(self, path: tuple, text: str) -> None:
        try:
            promql.check(text)
        except promql.PromQLError as exc:
            self.error(path, f"not a PromQL expression: {exc}",
                       "fix the expression (promtool and Prometheus would refuse it), e.g. "
                       "sum(rate(http_requests_total[5m]))")

    def alerts(self) -> None:
        alerts = self.spec.alerts
        if alerts is None:
            return
        names: set[str] = set()
        for i, rule in enumerate(alerts.rules):
            path = ("alerts", "rules", i)
            if rule.alert in names:
                self.error((*path, "alert"), f"duplicate alert {rule.alert!r}",
                           "give each alert its own name")
            names.add(rule.alert)
            self.promql((*path, "expr"), rule.expr)
        status = alerts.service.error_status
        try:
            re.compile(status)
            re2_only = not re.search(r"\(\?[=!<]|\\[1-9]", status)  # no lookaround, no backreference
        except re.error:
            re2_only = False
        if not re2_only:
            self.error(("alerts", "service", "error_status"),
                       f"{status!r} is not a regular expression Prometheus (RE2) accepts",
                       "write e.g. '5..' or '5..|429'")
        self.bucket_sanity(alerts)
        if alerts.slo is not None:
            a = alerts.slo.availability.value
            if not 0 < a < 1:
                self.error(("alerts", "slo", "availability"), f"availability "
                           f"{alerts.slo.availability.text} must lie strictly between 0% and 100%",
                           "an error budget needs room: write e.g. 99.5%")
            for key in ("windows", "ticket_windows"):
                for i, w in enumerate(getattr(alerts.slo, key) or []):
                    if w.value < 60:  # the short window is a twelfth of it; rate() needs a range
                        self.error(("alerts", "slo", key, i), f"window {w.text} is shorter than 1m",
                                   "burn-rate windows are hours: write e.g. [1h, 6h]")
            self.burn_windows(alerts.slo)
            if alerts.slo.period.value < 3600:
                self.error(("alerts", "slo", "period"), f"SLO period {alerts.slo.period.text} is "
                           "shorter than 1h", "write the period the SLO is kept over, e.g. 30d")
        for path, w in ((("alerts", "from_targets", "window"), alerts.from_targets.window),):
            if w.value < 4:  # rate() needs two samples in its window; the tests step window/4
                self.error(path, f"rate window {w.text} is shorter than 4s",
                           "write a window of a few scrape intervals, e.g. 5m (4s at the least)")
        if alerts.from_targets.min_rate.value < 0:
            self.error(("alerts", "from_targets", "min_rate"), "min_rate is negative",
                       "write a request rate, e.g. 1/s (0/s: no guard)")
        for i, b in enumerate(alerts.service.buckets or []):
            if b.value <= 0:
                self.error(("alerts", "service", "buckets", i), f"bucket bound {b.text} is not above 0",
                           "bucket bounds are the histogram's positive `le` values, e.g. 50ms")

    def burn_windows(self, slo) -> None:
        """Each burn-rate alert must be able to fire: spending its share of the budget within its
        window needs an error ratio below 100 %."""
        budget, period = 1 - slo.availability.value, slo.period.value
        if len(slo.windows or []) > 2:
            self.error(("alerts", "slo", "windows", 2), "page alerts take two windows",
                       "write two long windows, e.g. [1h, 6h] (2 % and 5 % of the budget)")
        pages = zip(slo.windows or [], (0.02, 0.05), strict=False)
        tickets = ((w, 0.10) for w in slo.ticket_windows or [])
        for key, pairs in (("windows", pages), ("ticket_windows", tickets)):
            for i, (w, spent) in enumerate(pairs):
                if w.value < 60:
                    continue  # said above
                if w.value > period:
                    self.error(("alerts", "slo", key, i), f"window {w.text} is longer than the SLO "
                               f"period {slo.period.text}", "a burn-rate window is a part of the period")
                elif spent * period / w.value * budget >= 1:
                    need = spent * period / w.value * budget
                    self.error(("alerts", "slo", key, i), f"window {w.text} can never fire: spending "
                               f"{spent:.0%} of a {slo.period.text} budget in it needs an error "
                               f"ratio of {need:.0%}", "write a longer window, or a shorter period")

    def bucket_sanity(self, alerts) -> None:
        """Latency bounds that are not bucket boundaries make histogram_quantile interpolate."""
        svc = alerts.service
        if not svc.buckets or not alerts.from_targets.enabled or self.spec.http is None:
            return
        edges = sorted(b.value for b in svc.buckets)
        shown = lambda v: next((b.text for b in svc.buckets if b.value == v), f"{v}s")  # noqa: E731
        for i, t in enumerate(self.spec.targets):
            if t.alert is False or t.select is None or t.select.profile is not None:
                continue
            if not select.match_endpoints(self.spec, t.select):
                continue
            for stat, bound in t.items():
                if not stat.startswith("p"):
                    continue
                v = bound.quantity.value
                if any(math.isclose(v, e, rel_tol=1e-9) for e in edges):
                    continue
                below = [e for e in edges if e < v]
                above = [e for e in edges if e > v]
                where = ("targets", i, stat)  # the key as written (p99.9)
                metric = svc.latency_histogram
                if not above:
                    self.warn(where, f"{stat} {bound} lies above the largest bucket of {metric} "
                              f"({shown(edges[-1])}): histogram_quantile can never exceed it, so the "
                              "alert can never fire",
                              f"add a bucket above {bound.quantity.text} to the service and to "
                              "alerts.service.buckets")
                else:
                    near = " and ".join(shown(e) for e in ([below[-1]] if below else []) + [above[0]])
                    self.warn(where, f"{stat} {bound} is not a bucket boundary of {metric}; "
                              f"histogram_quantile interpolates between {near}",
                              f"move the bound to {near.replace(' and ', ' or ')}, or add "
                              f"{bound.quantity.text} to the service's buckets and alerts.service.buckets")

    def capacity(self) -> None:
        cap = self.spec.capacity
        if cap is None:
            return
        prof = self.spec.profiles.get(cap.profile)
        if prof is None:
            self.error(("capacity", "profile"), f"unknown profile {cap.profile!r}",
                       choices_hint(cap.profile, self.spec.profiles, "profiles"))
        elif prof.tools is not None and "k6" not in prof.tools:
            self.error(("capacity", "profile"), f"profile {cap.profile!r} is not run by k6, which runs "
                       "the capacity steps", "choose a profile k6 runs, or add k6 to its tools")
        names = {t.name for t in self.spec.targets if t.name}
        for i, name in enumerate(cap.targets or []):
            if name not in names:
                self.error(("capacity", "targets", i), f"unknown target {name!r}",
                           choices_hint(name, names, "targets"))
        if cap.max.value < cap.start.value:
            self.error(("capacity", "max"), f"max {cap.max.text} is below start {cap.start.text}",
                       "the search goes up from start to max")
        if cap.warmup.value >= cap.step.value:
            self.error(("capacity", "warmup"), f"warm-up {cap.warmup.text} leaves nothing of a "
                       f"{cap.step.text} step", "make the warm-up shorter than the step")

    def ci(self) -> None:
        if self.spec.ci is None or self.spec.ci.github is None:
            return
        gh = self.spec.ci.github
        path = ("ci", "github")
        if gh.profile not in self.spec.profiles:
            self.error((*path, "profile"), f"unknown profile {gh.profile!r}",
                       choices_hint(gh.profile, self.spec.profiles, "profiles"))
        crons = [gh.schedule] if isinstance(gh.schedule, str) else list(gh.schedule or [])
        for j, cron in enumerate(crons):
            where = (*path, "schedule") if isinstance(gh.schedule, str) else (*path, "schedule", j)
            if len(cron.split()) != 5 or not all(re.fullmatch(r"[0-9A-Za-z*/,\-]+", f) for f in cron.split()):
                self.error(where, f"{cron!r} is not a 5-field cron schedule",
                           "write e.g. '0 2 * * *' (daily at 02:00 UTC)")
        for j, branch in enumerate(gh.branches):
            bad = _bad_ref(branch, pattern=True)
            if bad:
                self.error((*path, "branches", j), f"{branch!r} is not a git branch name or pattern: {bad}",
                           "write the branch as git names it, e.g. main or release/*")
        if gh.baseline is not None:
            bad = _bad_ref(gh.baseline, pattern=False)
            if bad:
                self.error((*path, "baseline"), f"{gh.baseline!r} is not a git branch name: {bad}",
                           "name one branch, e.g. main")
        if "schedule" in gh.on and not crons:
            self.error((*path, "on"), "the schedule trigger needs `schedule: '<cron>'`",
                       "add schedule: '0 2 * * *'")


def _bad_ref(name: str, pattern: bool) -> str | None:
    """Why `name` cannot be a branch (git check-ref-format; `pattern` allows * ? [ ] !)."""
    if not name:
        return "it is empty"
    for c in name:
        if ord(c) < 0x20 or ord(c) == 0x7F:
            return "it holds a control character (a line break?)"
        if c == " ":
            return "it holds a space"
        if c in "~^:\\${}" or (not pattern and c in "*?[]"):
            return f"it holds {c!r}"  # $ { }: GitHub and actionlint would read an expression
    if ".." in name or "@{" in name or "//" in name:
        return "it holds '..', '@{' or '//'"
    if pattern and name.count("[") != name.count("]"):
        return "its [ ] do not pair up (a glob character class)"
    if name.startswith(("-", "/")) or name.endswith(("/", ".", ".lock")):
        return "it starts with '-' or '/', or ends with '/', '.' or '.lock'"
    return None


def _endpoint_vars(ep: Endpoint) -> set[str]:
    strings = [ep.path, *ep.headers.values(), *(v for v in ep.query.values() if isinstance(v, str)),
               *(ep.form or {}).values(), *([ep.body] if ep.body else []),
               *(s for _, s in templates.walk_strings(ep.json_)),
               *(s for _, s in templates.walk_strings(ep.send))]
    out: set[str] = set()
    for s in strings:
        try:
            out.update(templates.variables(s))
        except templates.TemplateError:
            pass
    return out


def _tighter(b: Bound) -> str:
    factor = 0.8 if b.upper else 1.2
    if b.quantity.kind == "percent":
        return f"{b.op} {b.quantity.text}"
    return f"{b.op} {format_value(b.quantity.value * factor, b.quantity.kind)}"


def profile_kind(prof: Profile) -> str | None:
    """'closed', 'open' or None for a malformed profile (already reported)."""
    if prof.users is not None:
        return "closed"
    if prof.rate is not None:
        return "open"
    kinds = set()
    for st in prof.stages or []:
        try:
            if st.ramp is not None:
                kinds.add(parse_ramp(st.ramp, ("users", "rate"))[1].kind)
        except UnitError:
            return None
        for lv in (st.hold, st.spike):
            if lv is not None:
                kinds.add(lv.kind)
    if kinds == {"users"}:
        return "closed"
    if kinds == {"rate"}:
        return "open"
    return None


def profile_peak(prof: Profile) -> Quantity | None:
    """The highest level a profile reaches (users or rate)."""
    levels: list[Quantity] = []
    for q in (prof.users, prof.rate):
        if q is not None:
            levels.append(q)
    for st in prof.stages or []:
        try:
            if st.ramp is not None:
                levels.extend(parse_ramp(st.ramp, ("users", "rate")))
        except UnitError:
            return None
        levels.extend(q for q in (st.hold, st.spike) if q is not None)
    return max(levels, key=lambda q: q.value) if levels else None


def profile_duration(prof: Profile) -> float | None:
    """Total seconds of a profile: ramp-up at spawn_rate, then the full hold."""
    if prof.stages is None:
        if prof.for_ is None:
            return None
        ramp = 0.0
        if prof.users is not None and prof.spawn_rate is not None and prof.spawn_rate.value > 0:
            ramp = prof.users.value / prof.spawn_rate.value
        return ramp + prof.for_.value
    total = 0.0
    for st in prof.stages:
        d = st.over if st.ramp is not None else st.for_
        if d is None:
            return None
        total += d.value
    return total


def semantic_checks(checked: CheckedSpec) -> list[SpecError]:
    return Checker(checked).run()

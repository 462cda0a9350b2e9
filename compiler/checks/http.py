"""HTTP checks: endpoints, their templates and variables, flows."""

from __future__ import annotations

import re

from ...runtime import files
from .. import select, templates
from ..errors import choices_hint
from ..spec import METHODS, Endpoint
from .common import _JSONPATH, _endpoint_vars

_COMPARISON_TEXT = re.compile(r"^\s*(<=|>=|!=|==|<|>)\s*([-+]?[0-9][0-9.eE+-]*)\s*$")  # "> 0"


class HttpChecks:
    """Mixed into Checker (see checks/__init__.py)."""

    def http(self) -> None:
        http = self.spec.http
        if http is None:
            return
        hosts = self.spec.hosts
        if http.defaults.host is not None and http.defaults.host not in hosts:
            self.error(
                ("http", "defaults", "host"),
                f"unknown host {http.defaults.host!r}",
                choices_hint(http.defaults.host, hosts, "hosts"),
            )
        for k, v in sorted(http.defaults.headers.items()):
            self.template(("http", "defaults", "headers", k), v)
        self.json_expect(("http", "defaults", "expect"), http.defaults.expect)
        if not hosts:
            self.error(
                ("http",),
                "HTTP endpoints need a host, and `hosts` is empty",
                "add hosts: {api: {url: '${API_URL:-http://127.0.0.1:8000}'}}",
                at_key=True,
            )
        extracted = {v for ep in http.endpoints.values() for v in ep.extract}
        for name, ep in sorted(http.endpoints.items()):
            self.endpoint(name, ep, extracted)
        self.columns = {name: self.data_columns(name) for name in sorted(http.data)}
        self.flows(extracted)
        self.test_level(extracted)

    def endpoint(self, name: str, ep: Endpoint, extracted: set[str]) -> None:
        path = ("http", "endpoints", name)
        given = [m for m in (*METHODS, "ws") if getattr(ep, m) is not None]
        if not given:
            self.error(
                path,
                f"endpoint {name!r} has no method and path",
                "add e.g. `get: /health` (or `ws: /ws` for a WebSocket)",
                at_key=True,
            )
        elif len(given) > 1:
            self.error(
                (*path, given[1]),
                f"endpoint {name!r} sets both {given[0]} and {given[1]}",
                "an endpoint is one request: keep one method, make another endpoint",
            )
        if ep.host is not None and ep.host not in self.spec.hosts:
            self.error(
                (*path, "host"), f"unknown host {ep.host!r}", choices_hint(ep.host, self.spec.hosts, "hosts")
            )
        if (
            ep.host is None
            and self.spec.http
            and self.spec.http.defaults.host is None
            and len(self.spec.hosts) > 1
        ):
            self.error(
                path,
                f"endpoint {name!r} has no host and the spec has several",
                "set http.defaults.host or the endpoint's host",
                at_key=True,
            )
        bodies = [k for k in ("json_", "form", "multipart", "body") if getattr(ep, k) is not None]
        if len(bodies) > 1:
            self.error(
                (*path, bodies[1].rstrip("_")),
                "an endpoint has one body: json, form, multipart or body",
                "keep one of them",
            )
        if ep.ws is not None:
            for key in ("json_", "form", "multipart", "body"):
                if getattr(ep, key) is not None:
                    self.error(
                        (*path, key.rstrip("_")),
                        f"a WebSocket endpoint sends `send`, not {key.rstrip('_')}",
                        "use send: ... for the message",
                    )
            if ep.stream:
                self.error(
                    (*path, "stream"),
                    "stream applies to HTTP responses, not WebSockets",
                    "remove stream: true",
                )
        elif ep.send is not None:
            self.error(
                (*path, "send"),
                "send is for WebSocket endpoints (ws: /path)",
                "use json/form/body for an HTTP request body",
            )
        self.paginate(path, ep)
        self.retry(path, ep)
        for var, where in sorted(ep.extract.items()):
            if not (_JSONPATH.match(where) or where.startswith("header:")):
                self.error(
                    (*path, "extract", var),
                    f"cannot read {where!r} as a JSON path",
                    "write $.field.sub[0] for the JSON body or header:Name for a header",
                )
        for spath, text in self.endpoint_strings(path, ep):
            for part in self.template(spath, text):
                if part[0] == "var":
                    self.variable(spath, part[1], extracted)

    def endpoint_strings(self, path: tuple, ep: Endpoint) -> list[tuple[tuple, str]]:
        """Every template of an endpoint with its place (its multipart files checked on the way)."""
        strings = self.json_expect((*path, "expect"), ep.expect)
        if ep.path:
            strings.append(((*path, ep.method.lower() if ep.method != "WS" else "ws"), ep.path))
        strings += [((*path, "headers", k), v) for k, v in sorted(ep.headers.items())]
        strings += [((*path, "query", k), v) for k, v in sorted(ep.query.items()) if isinstance(v, str)]
        strings += [((*path, "form", k), v) for k, v in sorted((ep.form or {}).items())]
        for k, v in sorted((ep.multipart or {}).items()):
            if isinstance(v, str):
                strings.append(((*path, "multipart", k), v))
            elif (why := files.problem(self.folder, v.file)) is not None:
                self.error(
                    (*path, "multipart", k, "file"),
                    f"file {v.file!r}: {why}",
                    "paths are relative to the spec file's folder, inside the project",
                )
        if ep.body is not None:
            strings.append(((*path, "body"), ep.body))
        strings += [((*path, "json", *p), s) for p, s in templates.walk_strings(ep.json_)]
        strings += [((*path, "send", *p), s) for p, s in templates.walk_strings(ep.send)]
        if ep.auth is not None:
            basic = ep.auth.basic
            strings += [
                ((*path, "auth", "basic", "user"), basic.user),
                ((*path, "auth", "basic", "password"), basic.password),
            ]
        return strings

    def retry(self, path: tuple, ep: Endpoint) -> None:
        """A retried status is never also a success; only plain HTTP calls retry."""
        http = self.spec.http
        retry = ep.retry or http.defaults.retry
        if retry is None:
            return
        where = (*path, "retry") if ep.retry else ("http", "defaults", "retry")
        if ep.method == "WS" or ep.stream:
            if ep.retry:
                self.error(
                    where,
                    "retry applies to plain HTTP calls, not WebSockets or streams",
                    "remove retry: from this endpoint",
                )
            return
        expect = ep.expect or http.defaults.expect
        both = sorted(set(retry.on) & set(expect.status if expect else [200]))
        if both:
            self.error(
                (*where, "on"),
                f"status {', '.join(map(str, both))} is both expected and retried",
                "a status is a success (expect.status) or a reason to call again (retry.on)",
            )

    def test_level(self, extracted: set[str]) -> None:
        """http.setup / http.teardown: known endpoints that need no user's values."""
        http = self.spec.http
        for key in ("setup", "teardown"):
            for i, ename in enumerate(getattr(http, key)):
                where = ("http", key, i)
                if ename not in http.endpoints:
                    self.error(
                        where,
                        f"unknown endpoint {ename!r} in http.{key}",
                        choices_hint(ename, http.endpoints, "endpoints"),
                    )
                    continue
                ep = http.endpoints[ename]
                if ep.method == "WS" or ep.stream:
                    self.error(
                        where,
                        f"http.{key} calls plain HTTP endpoints; {ename!r} is not one",
                        "call a plain request here",
                    )
                users = sorted(v for v in _endpoint_vars(ep) if v.startswith("user."))
                if users:
                    when = "before any user starts" if key == "setup" else "after every user has stopped"
                    self.error(
                        where,
                        f"{ename!r} uses {{{users[0]}}}, but http.{key} runs once, {when}, "
                        "with no user's values",
                        "test-level calls may use {uuid}, {seq}, ${ENV} "
                        "and values extracted earlier by http.setup",
                    )

    def fed_columns(self, path: tuple, flow) -> set[str]:
        """The {user.COLUMN} variables a flow's `feed:` gives its users."""
        if flow.feed is None:
            return set()
        data = self.spec.http.data
        if flow.feed not in data:
            self.error(
                (*path, "feed"),
                f"unknown data set {flow.feed!r}",
                choices_hint(flow.feed, data, "data sets") + " (define it under http.data)",
            )
            return set()
        if data[flow.feed].per == "iteration":
            self.k6_rows_per_iteration(path, flow.feed)
        return self.columns.get(flow.feed, set())

    def k6_rows_per_iteration(self, path: tuple, feed: str) -> None:
        """k6 numbers iterations across every VU of a profile, whatever flow they run, while
        Locust hands a data set's next row to each task run that uses it: the rows a flow sees
        differ when a k6 profile runs other flows beside it. Said at the flow's `feed` line."""
        fname = path[-1]
        every = sorted(select.flows(self.spec))
        mixed = sorted(
            n
            for n, p in self.spec.profiles.items()
            if "k6" in (p.tools or ["locust", "k6"])
            and fname in (p.flows or every)
            and len(p.flows or every) > 1
        )
        if mixed:
            self.warn(
                (*path, "feed"),
                f"k6 takes rows of {feed!r} by the test's iteration number, "
                f"counted over every flow of profile {', '.join(mixed)}: this flow sees every row "
                "in turn but not consecutive ones (Locust: the next row per task run)",
                "run the flow in a profile of its own (profiles.NAME.flows) for the same rows in both tools",
            )

    def data_columns(self, name: str) -> set[str]:
        """A data set's columns, read from its file (its header, or the keys of its objects)."""
        import csv
        import json

        d = self.spec.http.data[name]
        where = ("http", "data", name)
        if (d.csv is None) == (d.json_ is None):
            self.error(
                where,
                f"data set {name!r} needs exactly one of csv, json",
                "e.g. {csv: data/users.csv}",
                at_key=True,
            )
            return set()
        key, rel = ("csv", d.csv) if d.csv is not None else ("json", d.json_)
        why = files.problem(self.folder, rel)
        if why is not None:
            self.error(
                (*where, key),
                f"data file {rel!r}: {why}",
                "paths are relative to the spec file's folder, inside the project",
            )
            return set()
        try:
            with open(self.folder / rel, encoding="utf-8", newline="") as handle:
                if key == "csv":
                    reader = csv.DictReader(handle)
                    columns, first = set(reader.fieldnames or []), next(reader, None)
                else:
                    rows = json.load(handle)
                    if not (isinstance(rows, list) and all(isinstance(r, dict) for r in rows)):
                        raise ValueError("not an array of objects")
                    columns, first = (set(rows[0]) if rows else set()), (rows[0] if rows else None)
        except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
            self.error(
                (*where, key),
                f"cannot read data file {rel!r}: {exc}",
                "a CSV file with a header line, or a JSON array of objects",
            )
            return set()
        if first is None:
            self.error((*where, key), f"data file {rel!r} has no rows", "users need at least one row")
        return columns

    def paginate(self, path: tuple, ep: Endpoint) -> None:
        if ep.paginate is None:
            return
        where = ep.paginate.next
        if not (_JSONPATH.match(where) or (where.startswith("header:") and len(where) > 7)):
            self.error(
                (*path, "paginate", "next"),
                f"cannot read {where!r} as a JSON path or header",
                "write $.next (a field of the JSON body) or header:Link",
            )
        if ep.method != "GET" or ep.retry is not None or ep.stream:
            self.error(
                (*path, "paginate"),
                "paginate follows the pages of a GET without retry or stream",
                "make the endpoint a plain GET, or drop paginate",
                at_key=True,
            )

    def json_expect(self, path: tuple, expect) -> list[tuple[tuple, str]]:
        """`expect: {json: {PATH: value}}`: every path readable, as extract reads them; a value is
        JSON data whose strings are templates, or an operator map ({">": 0}, {exists: true}).
        Returns the template strings (for the variable checks)."""
        strings: list[tuple[tuple, str]] = []
        for where, value in sorted(((expect.json_ or {}) if expect else {}).items()):
            at = (*path, "json", where)
            if not _JSONPATH.match(where):
                self.error(
                    at,
                    f"cannot read {where!r} as a JSON path",
                    'write $.field.sub[0] or $["a key"]',
                    at_key=True,
                )
            if isinstance(value, str) and (m := _COMPARISON_TEXT.match(value)):
                self.error(
                    at,
                    f"{value!r} would be compared as text, not as a comparison",
                    f'write {{"{m[1]}": {m[2]}}} for a comparison, or {{"==": "{value}"}} for the text',
                )
            elif templates.is_operator_map(value):
                self.json_operators(at, value)
            strings += [((*at, *p), s) for p, s in templates.walk_strings(value)]
        return strings

    def json_operators(self, at: tuple, value: dict) -> None:
        """An operator map: only operators, `exists` true or false, comparisons with numbers."""
        ops = ", ".join(templates.JSON_OPERATORS)
        for op, operand in value.items():
            if op not in templates.JSON_OPERATORS:
                self.error(
                    (*at, op),
                    f"{op!r} is not an operator, and an operator map holds only operators ({ops})",
                    'to compare with an object, write {"==": {...}}',
                    at_key=True,
                )
            elif op == "exists" and not isinstance(operand, bool):
                self.error(
                    (*at, op),
                    "exists takes true (the field is there) or false (it is not)",
                    "write exists: true",
                )
            elif op in ("<", "<=", ">", ">=") and (
                isinstance(operand, bool) or not isinstance(operand, int | float)
            ):
                self.error(
                    (*at, op), f"{op} compares numbers; {operand!r} is not one", f'write e.g. {{"{op}": 0}}'
                )

    def variable(self, path: tuple, var: str, extracted: set[str], user: set[str] | None = None) -> None:
        if var in templates.BUILTINS or var in extracted:
            return
        if var.startswith("user."):
            if user is None:
                return  # checked per flow: each flow running the endpoint must define it
            if var[5:] not in user:
                self.error(
                    path,
                    f"unknown per-user variable {{{var}}}",
                    choices_hint(var[5:], user, "per-user variables")
                    + " (per-user variables: the flow's `user:` block and the columns of its `feed:`)",
                )
            return
        known = {*templates.BUILTINS, *extracted}
        self.error(
            path,
            f"unknown variable {{{var}}}",
            choices_hint(var, known, "variables") + " (variables are built-ins "
            "(uuid, seq), values an endpoint extracts, or user.NAME)",
        )

    def k6_on_stop(self, path: tuple, fname: str, flow) -> None:
        """k6 has no per-user teardown: a flow's on_stop that a k6 profile runs is said at its line
        (the run's verdict says it again)."""
        if not flow.on_stop or flow.k6_on_stop == "skip":
            return
        k6 = sorted(
            n
            for n, p in self.spec.profiles.items()
            if "k6" in (p.tools or ["locust", "k6"]) and (p.flows is None or fname in p.flows)
        )
        if k6:
            self.warn(
                (*path, "on_stop"),
                f"k6 cannot run the on_stop of flow {fname!r} (profile "
                f"{', '.join(k6)}): it has no per-user teardown, so what its users create stays "
                "behind; Locust runs it",
                "delete what a test-level http.setup created in http.teardown (runs once after "
                "every user, in both tools), give the profile tools: [locust], or accept it: "
                "k6_on_stop: skip",
            )

    def sequences(self, path: tuple, fname: str, flow) -> None:
        """Each sequence: a name no endpoint has, steps that are endpoints, used as a task."""
        endpoints = self.spec.http.endpoints if self.spec.http else {}
        tasks = set(flow.tasks)
        for sname, steps in sorted(flow.sequences.items()):
            where = (*path, "sequences", sname)
            if sname in endpoints:
                self.error(
                    where,
                    f"sequence {sname!r} has the name of an endpoint",
                    "give the sequence another name",
                    at_key=True,
                )
            if sname not in tasks:
                self.error(
                    where,
                    f"sequence {sname!r} is in no task of flow {fname!r}",
                    f"add it to tasks, e.g. tasks: {{{sname}: 1}}",
                    at_key=True,
                )
            for i, step in enumerate(steps):
                if step not in endpoints:
                    self.error(
                        (*where, i),
                        f"unknown endpoint {step!r} in sequence {sname!r}",
                        choices_hint(step, endpoints, "endpoints"),
                    )

    def flows(self, extracted: set[str]) -> None:
        http = self.spec.http
        assert http is not None
        for fname, flow in sorted(http.flows.items()):
            path = ("http", "flows", fname)
            if flow.host is not None:  # validated, then ignored by every tool before: refused
                self.error(
                    (*path, "host"),
                    "a flow has no host of its own: each request goes to its endpoint's host",
                    "set the host on the endpoints (host: NAME) or in http.defaults.host",
                    at_key=True,
                )
            tasks = flow.tasks if isinstance(flow.tasks, list) else list(flow.tasks)
            if not tasks:
                self.error(
                    (*path, "tasks"),
                    f"flow {fname!r} has no tasks",
                    "list the endpoints a user repeats, e.g. tasks: [list_agents, health]",
                )
            if isinstance(flow.tasks, list):
                seen: set[str] = set()
                for i, t in enumerate(flow.tasks):
                    if t in seen:
                        self.error(
                            (*path, "tasks", i),
                            f"task {t!r} is listed twice",
                            "give weights instead: tasks: {name: 2, other: 1}",
                        )
                    seen.add(t)
            self.sequences(path, fname, flow)
            self.k6_on_stop(path, fname, flow)
            for key in ("on_start", "tasks", "on_stop"):
                names = getattr(flow, key)
                items = list(enumerate(names)) if isinstance(names, list) else [(n, n) for n in names]
                for idx, ename in items:
                    if ename not in http.endpoints and not (key == "tasks" and ename in flow.sequences):
                        where = (*path, key, idx)
                        self.error(
                            where,
                            f"unknown endpoint {ename!r} in flow {fname!r}",
                            choices_hint(ename, http.endpoints, "endpoints"),
                            at_key=isinstance(idx, str),
                        )
            user_vars = set(flow.user) | self.fed_columns(path, flow)
            if flow.auth is not None:
                for key in ("user", "password"):
                    where = (*path, "auth", "basic", key)
                    for part in self.template(where, getattr(flow.auth.basic, key)):
                        if part[0] == "var":
                            self.variable(where, part[1], extracted, user_vars)
            for k, v in sorted(flow.user.items()):
                for part in self.template((*path, "user", k), v):
                    if part[0] == "var" and part[1] not in templates.BUILTINS:
                        self.error(
                            (*path, "user", k),
                            f"per-user variable {k!r} uses {{{part[1]}}}",
                            "per-user values may use only {uuid}, {seq}, {now} and {epoch_ms}",
                        )
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
                        self.error(
                            (*path, "user") if flow.user else path,
                            f"flow {fname!r} runs {ename!r}, which uses {{{var}}}, "
                            f"but the flow does not define it",
                            f"add `user: {{{var[5:]}: ...}}` to the flow",
                            at_key=True,
                        )

"""HTTP checks: endpoints, their templates and variables, paging, retries, JSON checks,
test-level calls (flows: checks/flows.py)."""

from __future__ import annotations

import re

from perfspec.runtime import files

from .. import templates
from ..errors import choices_hint
from ..spec import METHODS, Endpoint
from .common import JSONPATH, endpoint_vars

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
            if not (JSONPATH.match(where) or where.startswith("header:")):
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
                users = sorted(v for v in endpoint_vars(ep) if v.startswith("user."))
                if users:
                    when = "before any user starts" if key == "setup" else "after every user has stopped"
                    self.error(
                        where,
                        f"{ename!r} uses {{{users[0]}}}, but http.{key} runs once, {when}, "
                        "with no user's values",
                        "test-level calls may use {uuid}, {seq}, ${ENV} "
                        "and values extracted earlier by http.setup",
                    )

    def paginate(self, path: tuple, ep: Endpoint) -> None:
        if ep.paginate is None:
            return
        where = ep.paginate.next
        if not (JSONPATH.match(where) or (where.startswith("header:") and len(where) > 7)):
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
            if not JSONPATH.match(where):
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

"""Locust backend: an idiomatic locustfile per spec, and the support module once per output folder.

Per endpoint a method whose body is the request (`self.client.get("/path", name=...)`), per flow
a `PerfspecUser` class with weighted tasks, on_start/on_stop and headers, and a LoadTestShape with
the spec's profiles. Recording, results and the shape's logic live in the support module
`perfspec_locust.py` (runtime/support/), imported by every locustfile."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ... import templates
from ...plan import EndpointPlan, Plan
from ..base import Artifact, environment, header
from ..code import PY, Call, Coll, Expr, Raw, check_value, data, flat, py_str, statement, template
from ..http import comment_text, default_host, method_names, provenance, support_source, uploads, variables
from .flows import abort_rules, flow_class, rows_constant, template_var, test_level
from .names import RESERVED, support_names, used_names

_ENV = environment(Path(__file__).parent)
SUPPORT = PurePosixPath("perfspec_locust.py")
RESULTS = PurePosixPath("perfspec_locust_results.py")  # recording and result files; SUPPORT imports it
CHECKS = PurePosixPath("perfspec_locust_checks.py")  # a response's checks; SUPPORT re-exports them
SHAPE = PurePosixPath("perfspec_locust_shape.py")  # the profiles' load shape; SUPPORT re-exports it
HISTOGRAM = PurePosixPath("perfspec_histogram.py")  # the 3-digit histogram RESULTS records into
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
FORM = "application/x-www-form-urlencoded"


def _url(ep: EndpointPlan, main: str | None, bases: dict[str, str]) -> Raw:
    """The request's path (on the default host) or absolute URL; a static query folded in."""
    path = template(ep.path, PY, template_var).text
    if ep.host != main:
        path = f"{bases[ep.host]} + {path}"
    if not ep.query:
        return Raw(path)
    parsed = {k: templates.parse(v) for k, v in ep.query.items()}
    if all(templates.is_plain(p) for p in parsed.values()):
        fixed = templates.query_string({k: templates.text_of(p) for k, p in parsed.items()})
        return Raw(f"{path} + {py_str(fixed)}")
    query = Coll("{", "}", tuple((Raw(py_str(k)), template(p, PY, template_var)) for k, p in parsed.items()))
    return Raw(f"{path} + query_string({flat(query)})")


def _condition(head: str, parts: list[str], tail: str, indent: int) -> list[str]:
    """`a and b and c` on one line, or one operand a line inside parentheses, as ruff formats it."""
    pad = " " * indent
    line = f"{pad}{head}{' and '.join(parts)}{tail}"
    if len(line) <= 110:
        return [line]
    inner = [f"{pad}    {p}" if i == 0 else f"{pad}    and {p}" for i, p in enumerate(parts)]
    return [f"{pad}{head}(", *inner, f"{pad}){tail}"]


def _headers(ep: EndpointPlan, flow_headers: bool) -> Raw | Coll | None:
    own = tuple((Raw(py_str(k)), template(v, PY, template_var)) for k, v in ep.headers.items())
    if ep.auth:  # its own Basic auth wins over the flow's
        own += (
            (
                Raw('"Authorization"'),
                Call("basic_auth", tuple(template(p, PY, template_var) for p in ep.auth)),
            ),
        )
    if ep.body_kind == "form" and not any(k.lower() == "content-type" for k in ep.headers):
        own += ((Raw('"Content-Type"'), Raw(py_str(FORM))),)  # as k6 sends it: no charset
    if not flow_headers:
        return Coll("{", "}", own) if own else None
    return Coll("{", "}", (Raw("**self.headers()"), *own)) if own else Raw("self.headers()")


def _checks(ep: EndpointPlan, indent: int) -> list[str]:
    """After the request: expected statuses, body text, JSON fields, extracted values."""
    parts = ["expect(resp, " + ", ".join(str(s) for s in ep.expect) + ")"]
    if ep.body_contains is not None:
        parts.append(f"expect_text(resp, {py_str(ep.body_contains)})")
    for path, keys, checks in ep.json_expect:
        walk = [py_str(k) if isinstance(k, str) else str(k) for k in keys]
        if len(checks) == 1 and checks[0][0] == "==":
            value = flat(data(checks[0][1], PY, template_var))
            parts.append(f"expect_json(resp, {', '.join([py_str(path), value, *walk])})")
            continue
        pairs = Coll(
            "[",
            "]",
            tuple(
                Coll("(", ")", (Raw(py_str(op)), check_value(op, v, PY, template_var))) for op, v in checks
            ),
        )
        parts.append(f"match_json(resp, {', '.join([py_str(path), flat(pairs), *walk])})")
    if not ep.extract:
        return _condition("", parts, "", indent)
    if any(s >= 300 for s in ep.expect):
        parts.append("resp.status_code < 300")  # values come only from successful responses
    lines = _condition("if ", parts, ":", indent)
    for var, where in ep.extract.items():
        what = py_str(f"{var} from {where}")
        if where.startswith("header:"):
            value = Call("header", (Raw("resp"), Raw(py_str(where[7:])), Raw(what)))
        else:
            keys = [Raw(py_str(k) if isinstance(k, str) else str(k)) for k in templates.json_path_keys(where)]
            value = Call("json_value", (Raw("resp"), Raw(what), *keys))
        lines.append(statement(f"self.vars[{py_str(var)}] = ", value, "", indent + 4))
    return lines


def endpoint_method(
    ep: EndpointPlan,
    ident: str,
    main: str | None,
    bases: dict[str, str],
    flow_headers: bool,
    files: dict[str, tuple[str, object]] | None = None,
) -> list[str]:
    """One endpoint as a method: the request a Locust user would write by hand."""
    lines = [f"    def {ident}(self):", f"        # {provenance('http.endpoints', ep.name)}"]
    url: Raw = _url(ep, main, bases)
    hdrs = _headers(ep, flow_headers)
    if ep.body_kind == "multipart":  # text fields as templates, files as the constants read once
        payload: Expr | None = Coll(
            "{",
            "}",
            tuple(
                (
                    Raw(py_str(k)),
                    Raw((files or {})[k][0]) if not isinstance(v, str) else data(v, PY, template_var),
                )
                for k, v in ep.body.items()
            ),
        )
    else:
        payload = data(ep.body, PY, template_var) if ep.body_kind is not None else None
    if ep.body_kind == "form":  # encoded here, in the spec's order (k6 sends the same text)
        payload = Call("urlencode", (payload,))
    if variables(ep):  # build the request first: a value no response gave yet fails the call
        lines.append("        try:")
        lines.append(statement("url = ", url, "", 12))
        url = Raw("url")
        if payload is not None:
            lines.append(statement("body = ", payload, "", 12))
            payload = Raw("body")
        if isinstance(hdrs, Coll):
            lines.append(statement("headers = ", hdrs, "", 12))
            hdrs = Raw("headers")
        lines.append("        except MissingValue as exc:")
        lines.append(f"            return self.missing({py_str(ep.name)}, {py_str(ep.method)}, exc)")
    if ep.method == "WS":
        return lines + [_websocket(ep, url, hdrs, main)]
    if ep.stream:
        args: list = [
            Raw(py_str(ep.name)),
            Raw(py_str(ep.method)),
            url,
            ("expect", Raw("(" + ", ".join(map(str, ep.expect)) + ",)")),
        ]
        if ep.body_contains is not None:
            args.append(("contains", Raw(py_str(ep.body_contains))))
        if hdrs is not None:
            args.append(("headers", hdrs))
        return lines + [statement("", Call("self.stream", tuple(args)), "", 8)]
    if ep.body_kind == "multipart":  # the body and its Content-Type, with the other headers
        assert payload is not None
        lines.append(statement("form = ", Call("multipart", (hdrs or Raw("{}"), payload)), "", 8))
        hdrs, payload = None, None
    plain = _status_only(ep)
    request = _request(ep, url, hdrs, payload, plain)
    if plain:
        return lines + [statement("", request, "", 8)]
    if ep.retry is None:
        lines += [statement("with ", request, " as resp:", 8), *_checks(ep, 12)]
        return lines + (_pages(ep, hdrs) if ep.paginate else [])
    return lines + _retrying(ep, request)


def _request(ep: EndpointPlan, url: Expr, hdrs: Expr | None, payload: Expr | None, plain: bool) -> Call:
    """The client call: caught (`catch_response`), or plain with its statuses in its context."""
    args: list = [url, ("name", Raw(py_str(ep.name)))]
    if hdrs is not None:
        args.append(("headers", hdrs))
    if payload is not None:
        args.append(("json" if ep.body_kind == "json" else "data", payload))
    if plain:
        args.append(("context", Raw(f'{{"expect": {tuple(ep.expect)!r}}}')))
    else:
        args.append(("catch_response", Raw("True")))
    if ep.body_kind == "multipart":
        args.append(Raw("**form"))
    if ep.method in METHODS:
        return Call(f"self.client.{ep.method.lower()}", tuple(args))
    return Call("self.client.request", (Raw(py_str(ep.method)), *args))


def _status_only(ep: EndpointPlan) -> bool:
    """Judged by its status alone, each expected one a success to Locust (under 400): a plain
    call, judged by perfspec's listener (`catch_response` costs Locust about 4 % of its rps,
    bench/). Checks, extraction, retries, pages and an expected 4xx need a caught response."""
    return (
        all(s < 400 for s in ep.expect)
        and ep.body_contains is None
        and not ep.json_expect
        and not ep.extract
        and ep.retry is None
        and not ep.paginate
    )


def _pages(ep: EndpointPlan, hdrs: Expr | None) -> list[str]:
    """`paginate:` the next pages, each a GET judged like the first, while there is a next one."""
    pg = ep.paginate
    assert pg is not None
    keys = [Raw(py_str(pg["next"])), *(Raw(py_str(k) if isinstance(k, str) else str(k)) for k in pg["keys"])]
    args = [
        Raw("url"),
        ("name", Raw(py_str(ep.name))),
        *([("headers", hdrs)] if hdrs is not None else []),
        ("catch_response", Raw("True")),
    ]
    return [
        f"        for _page in range({pg['pages'] - 1}):  # paginate: the next page at "
        f"{comment_text(pg['next'])}, up to {pg['pages']} pages",
        statement("url = ", Call("next_page", (Raw("resp"), *keys)), "", 12),
        "            if url is None:",
        "                break",
        statement("with ", Call("self.client.get", tuple(args)), " as resp:", 12),
        f"                expect(resp, {', '.join(map(str, ep.expect))})",
    ]


def _retrying(ep: EndpointPlan, request: Call) -> list[str]:
    """`retry:`: the request in a loop of attempts; a retried answer waits, the last is judged."""
    r = ep.retry
    assert r is not None
    on = repr(tuple(r["on"]))
    statuses = ", ".join(map(str, r["on"]))
    wait_args = (
        Raw("resp"),
        Raw("attempt"),
        Raw(str(r["attempts"])),
        Raw(on),
        Raw(repr(r["backoff"])),
        Raw(repr(r["max_wait"])),
    )
    return [
        f"        for attempt in range(1, {r['attempts'] + 1}):  # retry: {statuses}",
        statement("with ", request, " as resp:", 12),
        statement("wait = ", Call("retry_wait", wait_args), "", 16),
        "                if wait is None:",
        *_checks(ep, 20),
        "            if wait is None:",
        "                break",
        "            time.sleep(wait)",
    ]


def _websocket(ep: EndpointPlan, url: Raw, hdrs, main: str | None) -> str:
    message = flat(data(ep.ws_send, PY, template_var))
    if isinstance(ep.ws_send, dict | list):
        message = f"json.dumps({message})"
    base = 'self.host.rstrip("/") + ' if ep.host == main else ""
    args: list = [
        Raw(py_str(ep.name)),
        Raw(base + url.text),
        Raw(f"[{message} for _ in range({ep.ws_messages})]"),
    ]
    if hdrs is not None:
        args.append(("headers", hdrs))
    if ep.timeout:
        args.append(("timeout", Raw(repr(float(ep.timeout)))))
    return statement("", Call("self.websocket", tuple(args)), "", 8)


def _profiles(plan: Plan, closed: dict) -> list[str]:
    stages = Coll(
        "{",
        "}",
        tuple(
            (
                Raw(py_str(n)),
                Coll(
                    "[",
                    "]",
                    tuple(
                        Raw(f"({py_str(s.kind)}, {s.start!r}, {s.end!r}, {s.seconds!r})") for s in p.stages
                    ),
                ),
            )
            for n, p in closed.items()
        ),
    )
    flows = Coll(
        "{",
        "}",
        tuple(
            (Raw(py_str(n)), Coll("[", "]", tuple(Raw(plan.flows[f].ident) for f in p.flows)))
            for n, p in closed.items()
        ),
    )
    return [statement("profiles = ", stages, "", 4), statement("flows = ", flows, "", 4)]


class LocustBackend:
    name = "locust"

    def emit(self, plan: Plan) -> list[Artifact]:
        closed = {n: p for n, p in plan.profiles.items() if "locust" in p.tools}
        if not plan.endpoints or not closed:
            return []
        default = plan.default_profile if plan.default_profile in closed else next(iter(closed))
        main = default_host(plan)
        bases = {
            h: "HOST_" + "".join(c if c.isalnum() else "_" for c in h).upper()
            for h in plan.hosts
            if h != main
        }
        idents = method_names(plan, RESERVED)
        flow_headers = any(f.headers or f.auth for f in plan.flows.values())
        files = uploads(plan)
        body = [
            "class Endpoints(PerfspecUser):",
            '    """The spec\'s endpoints, one method each; the flows below run them as tasks."""',
            "",
            "    abstract = True",
            f"    host = {_host(plan.hosts.get(main or '', []))}",
        ]
        if flow_headers:
            body += ["", "    def headers(self):", "        return {}"]
        for name in plan.endpoints:
            body += [""] + endpoint_method(
                plan.endpoints[name], idents[name], main, bases, flow_headers, files.get(name)
            )
        for flow in plan.flows.values():
            each = bool(flow.feed) and plan.data[flow.feed or ""].get("per") == "iteration"
            body += ["", ""] + flow_class(flow, idents, each)
        body += test_level(plan, idents)
        body += abort_rules(plan)
        code = "\n".join(body)
        constants = [
            statement(f"{const} = ", template(plan.hosts[h], PY, template_var)) for h, const in bases.items()
        ]
        constants += [rows_constant(name, d) for name, d in plan.data.items()]
        constants += [
            statement(
                f"{const} = ",
                Call("Upload", tuple(Raw(py_str(t)) for t in (u.path, u.content_type, u.filename))),
            )
            for fields in files.values()
            for const, u in fields.values()
        ]
        used = used_names(code + "\n".join(constants))
        text = _ENV.get_template("locustfile.py.j2").render(
            header=header(plan, "#"),
            plan=plan,
            default_profile=default,
            code=code,
            constants=constants,
            main_env=_env_names(plan.hosts.get(main or "", [])),
            support=[n for n in support_names() if n in used or n in ("PerfspecUser", "ProfileShape")],
            locust=[n for n in ("between", "constant", "events") if n in used],
            stdlib={"json": "json" in used, "time": "time" in used, "urlencode": "urlencode" in used},
            profiles=_profiles(plan, closed),
            py_str=py_str,
        )
        source = next(iter(closed.values())).source
        return [
            Artifact(plan.folder / "locustfile.py", text, source),
            Artifact(SUPPORT, support_source("perfspec_locust.py"), source, shared=True),
            Artifact(RESULTS, support_source("perfspec_locust_results.py"), source, shared=True),
            Artifact(CHECKS, support_source("perfspec_locust_checks.py"), source, shared=True),
            Artifact(SHAPE, support_source("perfspec_locust_shape.py"), source, shared=True),
            Artifact(HISTOGRAM, support_source("perfspec_histogram.py"), source, shared=True),
        ]


def _host(parts: list) -> str:
    """The default host: Locust's --host overrides it; None asks for --host."""
    if not parts:
        return "None"
    if len(parts) == 1 and parts[0][0] == "env":
        return f"env({', '.join(py_str(p) for p in parts[0][1:])})"
    if any(p[0] == "env" for p in parts):  # text and ${VAR}s: None (ask for --host) while one is unset
        args = [
            py_str(p[1])
            if p[0] == "text"
            else "(" + ", ".join(py_str(x) for x in p[1:] if x is not None) + ",)"
            for p in parts
        ]
        return f"env_text({', '.join(args)})"
    return flat(template(parts, PY, template_var))


def _env_names(parts: list) -> list[str]:
    return [p[1] for p in parts if p[0] == "env"]

"""k6 backend: an idiomatic k6 script per spec, and the support module once per output folder.

Per endpoint a function calling `http.<method>(url, body, params)` with its tags (a flow's only
task, when that function is one `return` of the request, made in the flow's function itself: a
call less per iteration), per flow an object naming its tasks, per profile a scenario, per target
(TARGETS, by name) thresholds keyed by its selection (`http_req_duration{class:api}`,
`{name:health}`, or a flag `{target_api:yes}`); handleSummary prints a line per target, met or
not, before k6's own summary. The per-VU loop, checks and profile selection live in the support
module `perfspec_k6.js` (runtime/support/).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from ... import templates
from ...plan import EndpointPlan, Plan, identifier
from ..base import Artifact, header
from ..code import JS, WIDTH, Call, Coll, Raw, check_value, data, flat, js_str, literal, statement, template
from ..http import comment_text, method_names, provenance, support_source, uploads, variables
from .flows import (
    carries,
    data_const,
    data_path,
    flow_config,
    flow_function,
    sequence_const,
    template_var,
    test_level,
)
from .options import options_lines
from .params import content_type, member, params_lines, static_headers

SUPPORT = PurePosixPath("perfspec_k6.js")
# what a script may import from the support module (only what its code calls is imported)
SUPPORT_NAMES = (
    "targetSummary",
    "targetThresholds",
    "basicAuth",
    "bodyContains",
    "env",
    "expect",
    "extractHeader",
    "extractJson",
    "Flow",
    "fileField",
    "follow",
    "formBody",
    "host",
    "idle",
    "jsonEquals",
    "jsonMatches",
    "multipartBody",
    "once",
    "scenarios",
    "retry",
    "rows",
    "sequence",
    "think",
    "uuid",
    "websocket",
)
# JavaScript reserved words and the names the script imports: never an endpoint function's name
RESERVED = {
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "arguments",
    "eval",
    "http",
    "ws",
    "options",
    "handleSummary",
    "setup",
    "teardown",
    *SUPPORT_NAMES,
    "PROFILE",
    "PARAMS",
    "TARGETS",
    # the globals generated code uses (an endpoint or flow called `open` shadowed k6's open())
    "open",
    "Math",
    "JSON",
    "Date",
    "String",
    "Object",
    "Array",
    "Number",
    "Error",
    "encodeURIComponent",
    "console",
    "undefined",
    "globalThis",
    "__ENV",
    "__VU",
    "__ITER",
    # a flow function's names: its argument, its user, the abort rule's count, its pick, the
    # response and its status
    "shared",
    "u",
    "unread",
    "r",
    "res",
    "status",
}
METHODS = {
    "GET": "get",
    "POST": "post",
    "PUT": "put",
    "PATCH": "patch",
    "DELETE": "del",
    "HEAD": "head",
    "OPTIONS": "options",
}


def _url(ep: EndpointPlan, bases: dict[str, str]) -> Raw:
    path = f"{bases[ep.host]} + {template(ep.path, JS, template_var).text}"
    if not ep.query:
        return Raw(path)
    pieces = []
    parsed = {k: templates.parse(v) for k, v in ep.query.items()}
    if all(templates.is_plain(p) for p in parsed.values()):  # encoded once, as Locust's is
        fixed = templates.query_string({k: templates.text_of(p) for k, p in parsed.items()})
        return Raw(f"{path} + {js_str(fixed)}")
    pieces = []
    for i, (k, p) in enumerate(parsed.items()):
        key = templates.query_string({k: ""})[1:]  # `k=`, percent-encoded as the value is
        value = template(p, JS, template_var).text
        pieces.append(f"{js_str(('?' if i == 0 else '&') + key)} + encodeURIComponent({value})")
    return Raw(path + " + " + " + ".join(pieces))


_JS_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def endpoint_function(
    ep: EndpointPlan,
    ident: str,
    bases: dict[str, str],
    flow_headers: bool,
    files: dict[str, tuple[str, object]] | None = None,
    carried: bool = False,
) -> list[str]:
    """One endpoint as a function: the request a k6 user would write by hand; it takes the VU's
    state (`user`) only when it reads it (the flows pass it to every call)."""
    lines = _endpoint_lines(ep, ident, bases, flow_headers, files, carried)
    code = _JS_STRING.sub('""', "\n".join(lines[2:]))
    if not re.search(r"\buser\b", code):
        lines[1] = lines[1].replace("(user) {", "() {", 1)
    return lines


def _endpoint_lines(
    ep: EndpointPlan,
    ident: str,
    bases: dict[str, str],
    flow_headers: bool,
    files: dict[str, tuple[str, object]] | None = None,
    carried: bool = False,
) -> list[str]:
    fixed = member("PARAMS", ep.name)
    # the tags of the endpoint a VU carries (its flow's only task) are the VU's: its entry may be
    # gone (flows.py `carries`)
    tags = f"{fixed}?.tags" if carried else f"{fixed}.tags"
    lines = [f"// {provenance('http.endpoints', ep.name)}", f"export function {ident}(user) {{"]
    request_params = _request_params(ep, fixed, flow_headers)
    url: Raw = _url(ep, bases)
    body = None
    if ep.body_kind == "multipart":  # the support module's encoding: Locust's, byte for byte
        body = Call(
            "multipartBody",
            (
                Coll(
                    "{",
                    "}",
                    tuple(
                        (
                            Raw(js_str(k)),
                            data(v, JS, template_var) if isinstance(v, str) else Raw((files or {})[k][0]),
                        )
                        for k, v in ep.body.items()
                    ),
                ),
            ),
        )
    elif ep.body_kind is not None:
        body = data(ep.body, JS, template_var)
        if ep.body_kind == "json":
            body = Raw(f"JSON.stringify({flat(body, JS)})")
        elif ep.body_kind == "form":  # in the spec's order (an object would be sent sorted by name)
            body = Call("formBody", (body,))
    if variables(ep) or any(p[0] == "env" for p in ep.path):
        lines += ["  let url;", "  let body;"] if body is not None else ["  let url;"]
        lines.append("  try {")
        lines.append(statement("url = ", url, ";", 4, JS))
        if body is not None:
            lines.append(statement("body = ", body, ";", 4, JS))
            body = Raw("body")
        lines += ["  } catch (e) {", f"    return user.missing({tags}, e);", "  }"]
        url = Raw("url")
    if ep.method == "WS":
        message = flat(data(ep.ws_send, JS, template_var), JS)
        if isinstance(ep.ws_send, dict | list):
            message = f"JSON.stringify({message})"
        messages = f"Array.from({{ length: {ep.ws_messages} }}, () => {message})"
        timeout = Raw(repr(float(ep.timeout or 30)))
        call = Call("websocket", (Raw("ws"), url, Raw(messages), request_params, timeout))
        return lines + [statement("", call, ";", 2, JS), "}"]
    args: list = [url]
    if ep.method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):  # k6's http.X(url, body, params)
        args.append(body if body is not None else Raw("null"))
    elif body is not None:
        args.append(body)
    args.append(request_params)
    if ep.method in METHODS and (body is None or ep.method not in ("GET", "HEAD")):
        request = Call(f"http.{METHODS[ep.method]}", tuple(args))
    else:
        request = Call("http.request", (Raw(js_str(ep.method)), *args))
    if ep.retry is not None:  # retried answers count as expected (see params); the last is judged
        r = ep.retry
        request = Call(
            "retry",
            (
                Raw(f"() => {flat(request)}"),
                Raw(tags),
                Raw("[" + ", ".join(map(str, r["on"])) + "]"),
                Raw(str(r["attempts"])),
                Raw(f"{r['backoff'] * 1000:g}"),
                Raw(f"{r['max_wait'] * 1000:g}"),
            ),
        )
    checks = _checks(ep)
    if not checks and not ep.paginate:  # k6 judges the status itself (expectedStatuses)
        return lines + [statement("return ", request, ";", 2, JS), "}"]
    lines.append(statement("const res = ", request, ";", 2, JS))
    if checks:
        lines.append(statement("", Call("expect", (Raw("res"), Raw(tags), *checks)), ";", 2, JS))
    if ep.paginate:
        lines.append(_follow(ep, request_params))
    return lines + ["  return res;", "}"]


def _follow(ep: EndpointPlan, request_params: Raw | Coll) -> str:
    """`paginate:` the next pages, each a GET with the same parameters, judged like the first."""
    pg = ep.paginate
    assert pg is not None
    get = Raw(f"(next) => http.get(next, {flat(request_params, JS)})")
    keys = [Raw(js_str(pg["next"])), *(Raw(js_str(k) if isinstance(k, str) else str(k)) for k in pg["keys"])]
    return statement("", Call("follow", (Raw("res"), get, Raw(str(pg["pages"])), *keys)), ";", 2, JS)


def _request_params(ep: EndpointPlan, fixed: str, flow_headers: bool) -> Raw | Coll:
    """The endpoint's fixed PARAMS, or those with headers built per call (templates, a flow's)."""
    if static_headers(ep, flow_headers) is not None:
        return Raw(fixed)
    own = [(Raw(js_str(k)), template(v, JS, template_var)) for k, v in ep.headers.items()]
    own += content_type(ep)
    if ep.auth:  # its own Basic auth wins over the flow's
        own.append(
            (Raw('"Authorization"'), Call("basicAuth", tuple(template(p, JS, template_var) for p in ep.auth)))
        )
    flow = [Raw("...user.headers()")] if flow_headers else []
    hdrs = Raw("user.headers()") if flow and not own else Coll("{", "}", (*flow, *own))
    return Coll("{", "}", (Raw(f"...{fixed}"), (Raw("headers"), hdrs)))


def _checks(ep: EndpointPlan) -> list:
    """The response checks beyond the status: body text, JSON fields, extracted values."""
    checks: list = []
    if ep.body_contains is not None:
        checks.append(Raw(f"bodyContains({js_str(ep.body_contains)})"))
    for path, keys, tests in ep.json_expect:
        walk = tuple(literal(k, JS) for k in keys)
        if len(tests) == 1 and tests[0][0] == "==":
            checks.append(Call("jsonEquals", (Raw(js_str(path)), data(tests[0][1], JS, template_var), *walk)))
            continue
        pairs = Coll(
            "[",
            "]",
            tuple(Coll("[", "]", (Raw(js_str(op)), check_value(op, v, JS, template_var))) for op, v in tests),
        )
        checks.append(Call("jsonMatches", (Raw(js_str(path)), pairs, *walk)))
    for var, where in ep.extract.items():
        what = js_str(f"{var} from {where}")
        if where.startswith("header:"):
            checks.append(
                Call("extractHeader", (Raw("user"), Raw(js_str(var)), Raw(what), Raw(js_str(where[7:]))))
            )
        else:
            keys = [literal(k, JS) for k in templates.json_path_keys(where)]
            checks.append(Call("extractJson", (Raw("user"), Raw(js_str(var)), Raw(what), *keys)))
    return checks


def _host(parts: list) -> str:
    """A host's URL: `host("API_URL", default)`, or its template when it is more than a variable."""
    if len(parts) == 1 and parts[0][0] == "env":
        return f"host({', '.join(js_str(p) for p in parts[0][1:])})"
    return f'{template(parts, JS, template_var).text}.replace(/\\/+$/, "")'


class K6Backend:
    name = "k6"

    @staticmethod
    def _flows(
        plan: Plan, run: list, flow_idents: dict, idents: dict, takes_user: set, taken: set, plain: dict
    ) -> list[str]:
        """Per flow its `Flow`, its sequences and its function; a flow of one task whose endpoint
        function is one `return` of its request (`plain`) makes the request itself."""
        expected = {n: ep.expect for n, ep in plan.endpoints.items()}
        order = {n: f"{d['order']}/{d['per']}" for n, d in plan.data.items()}
        out: list[str] = [
            "",
            "let u = null; // this VU's user (a VU runs one flow: its scenario's)",
            "// the abort rule reads one response's status in 8 while the target answers (a read of a",
            "// response's field costs k6 about 3 % of its rate), each one from a failure to an answer",
            "let unread = 0;",
        ]
        for flow in run:
            const = identifier(flow_idents[flow.name].upper(), taken, "FLOW")
            out += ["", *flow_config(flow, const, idents, expected, order)]
            calls = {e: f"{idents[e]}({'u' if e in takes_user else ''})" for e in flow.tasks if e in idents}
            if len(calls) == 1 and (only := next(iter(calls))) in plain and not flow.sequences:
                calls[only] = plain[only]  # a call less per iteration: about 0.7 % of k6's rate
            for name in flow.sequences:
                seq = identifier(f"{flow_idents[flow.name]}_{name}".upper(), taken, "SEQUENCE")
                out += ["", *sequence_const(flow, name, seq, idents, expected)]
                calls[name] = f"{seq}(u)"
            each = bool(flow.feed) and order.get(flow.feed or "", "").endswith("/iteration")
            out += flow_function(flow, flow_idents[flow.name], const, calls, each)
        return out

    def _calls(
        self, plan: Plan, run: list, flow_idents: dict, idents: dict, taken: set, functions: dict
    ) -> list:
        """The endpoints' functions, the flows and the test-level calls. A flow whose only task's
        function is one `return` of its request (`plain`) makes the request itself, and a
        function no flow or test-level call uses any more is left out."""
        takes_user = {name for name, lines in functions.items() if "(user) {" in lines[1]}
        plain = {
            name: lines[2].removeprefix("  return ").removesuffix(";")
            for name, lines in functions.items()
            if len(lines) == 4
            and lines[2].startswith("  return http.")
            and name not in takes_user
            and len(lines[2].split("\n")[0]) + len("const res = ") - len("return ") <= WIDTH
        }
        rest = self._flows(plan, run, flow_idents, idents, takes_user, taken, plain)
        rest += test_level(plan, idents)
        later = "\n".join(rest)
        out = []
        for name, lines in functions.items():
            called = rf"(?<![\w.\"$]){re.escape(idents[name])}\s*[(,]"  # data(u), [data, "data", ...]
            if name not in plain or re.search(called, later):
                out += ["", *lines]
        return out + rest

    def emit(self, plan: Plan) -> list[Artifact]:
        profiles = {n: p for n, p in plan.profiles.items() if "k6" in p.tools}
        if not plan.endpoints or not profiles:
            return []
        default = plan.default_profile if plan.default_profile in profiles else next(iter(profiles))
        bases = {h: "".join(c if c.isalnum() else "_" for c in h).upper() + "_URL" for h in plan.hosts}
        idents = method_names(plan, RESERVED | set(bases.values()))
        flow_headers = any(f.headers or f.auth for f in plan.flows.values())
        has_ws = any(e.method == "WS" for e in plan.endpoints.values())
        out = [
            header(plan, "//"),
            "//",
            f"// k6 load test of the perfspec spec {comment_text(plan.file)}; needs only k6:",
            f"//   k6 run -e PERFSPEC_PROFILE={comment_text(default)} {comment_text(str(plan.folder))}/k6.js",
            "// Hosts come from the environment at run time. Every target of the spec is thresholds",
            "// (TARGETS below): `k6 run` exits 99 when one fails, and prints a line per target, met",
            "// or not, before its summary. On_stop steps do not run in k6 (no per-VU teardown);",
            "// Locust runs them.",
            'import http from "k6/http";',
        ]
        if has_ws:
            out.append('import ws from "k6/ws";')
        body_lines = [f"const {const} = {_host(plan.hosts[h])};" for h, const in bases.items()]
        up = "/".join([".."] * (len(plan.folder.parts) + 1))  # from this script to the build's folder
        for name, d in plan.data.items():  # open() reads relative to this script
            body_lines += [
                f"// http.data.{comment_text(name)}: each user takes a row (feed:); "
                "$PERFSPEC_ROOT: the folder perfspec build ran in",
                f"const {data_const(name)} = rows({js_str(name)}, {data_path(d['path'], up)});",
            ]
        files = uploads(plan)
        for fields in files.values():  # a multipart file: read once, made a field once per VU
            for const, u in fields.values():
                opened = Raw(f'open({data_path(u.path, up)}, "b")')
                made = Call("fileField", (opened, Raw(js_str(u.filename)), Raw(js_str(u.content_type))))
                body_lines.append(statement(f"const {const} = ", made, ";", 0, JS))
        taken = RESERVED | set(bases.values()) | set(idents.values()) | {data_const(n) for n in plan.data}
        taken |= {const for fields in files.values() for const, _u in fields.values()}
        run = [f for f in plan.flows.values() if any(f.name in p.flows for p in profiles.values())]
        # a flow called `default` (the one a spec without flows has) is k6's default function
        flow_idents = {
            f.name: "default" if f.name == "default" else identifier(f.name, taken, "flow") for f in run
        }
        body_lines += options_lines(plan, profiles, default, flow_idents)
        body_lines += params_lines(plan, flow_headers)
        functions = {  # per endpoint its function's lines
            name: endpoint_function(
                ep, idents[name], bases, flow_headers, files.get(name), any(name in carries(f) for f in run)
            )
            for name, ep in plan.endpoints.items()
        }
        code = "\n".join(body_lines + self._calls(plan, run, flow_idents, idents, taken, functions))
        used = sorted((n for n in SUPPORT_NAMES if f"{n}(" in code), key=str.lower)
        out.append(
            statement(
                "import ", Coll("{", "}", tuple(Raw(n) for n in used)), ' from "../perfspec_k6.js";', 0, JS
            )
        )
        text = "\n".join(out) + "\n\n" + code + "\n"
        source = next(iter(profiles.values())).source
        return [
            Artifact(plan.folder / "k6.js", text, source),
            Artifact(SUPPORT, support_source("perfspec_k6.js"), source, shared=True),
        ]

"""The flows of a k6 script: per flow a `Flow` (per-user values, data row, on_start calls, headers)
and an exported function its scenario runs (a task per iteration by weight, the think time);
http.setup / http.teardown; the paths of the data files k6 opens."""

from __future__ import annotations

import textwrap
from pathlib import PurePosixPath

from ... import templates
from ...plan import FlowPlan, Plan
from ..code import JS, Call, Coll, Raw, js_str, statement, template
from ..http import comment_text, provenance


def template_var(name: str) -> str:
    if name == "uuid":
        return "uuid()"
    if name == "seq":
        return "user.seq()"
    if name == "now":
        return 'new Date().toISOString().slice(0, 19) + "Z"'
    if name == "epoch_ms":
        return "String(Date.now())"
    return f"user.var({js_str(name)})"


def data_path(path: str, up: str) -> str:
    """A data file's path for k6's open(): as written when absolute, else from $PERFSPEC_ROOT (the
    folder perfspec build ran in), by default `up` from the script."""
    if PurePosixPath(path).is_absolute():
        return js_str(path)
    return f"(__ENV.PERFSPEC_ROOT || {js_str(up)}) + {js_str('/' + path)}"


def test_level(plan: Plan, idents: dict[str, str]) -> list[str]:
    """http.setup / http.teardown as k6's setup() and teardown()."""

    def steps(names: list[str]) -> str:
        expected = {n: ", ".join(map(str, plan.endpoints[n].expect)) for n in names}
        return "[" + ", ".join(f"[{idents[n]}, {js_str(n)}, [{expected[n]}]]" for n in names) + "]"

    out = []
    if plan.setup:
        out += [
            "",
            "// http.setup: once before the users start; every user reads what it extracts",
            "export function setup() {",
            f'  return once("setup", {steps(plan.setup)});',
            "}",
        ]
    if plan.teardown:
        out += [
            "",
            "// http.teardown: once after the users stop",
            "export function teardown(shared) {",
            f'  once("teardown", {steps(plan.teardown)}, shared);',
            "}",
        ]
    return out


def data_const(name: str) -> str:
    return "DATA_" + "".join(c if c.isalnum() else "_" for c in name).upper()


def _step(ident: str, name: str, expected: list[int]) -> str:
    """[an endpoint's function, its name, its expected statuses]: a call of on_start or a sequence."""
    return f"[{ident}, {js_str(name)}, [{', '.join(map(str, expected))}]]"


def carries(flow) -> list[str]:
    """The endpoint whose tags the flow's VUs carry as their own: its only task (not a sequence),
    set on the VU once, which costs k6 less than tags on every request."""
    (only,) = flow.tasks if len(flow.tasks) == 1 else (None,)
    return [only] if only is not None and only not in flow.sequences else []


def flow_config(
    flow: FlowPlan,
    const: str,
    idents: dict[str, str],
    expected: dict[str, list[int]],
    data_order: dict[str, str],
) -> list[str]:
    """`const USER = new Flow("user", {...})`: how the flow's users start and what they send."""
    items: list = []
    if flow.user:
        sets = "".join(
            f"\n    user.vars[{js_str('user.' + k)}] = {template(v, JS, template_var).text};"
            for k, v in flow.user.items()
        )
        items.append((Raw("vars"), Raw(f"(user) => {{{sets}\n  }}")))
    if flow.feed:  # [rows, random, each iteration]: this user's row, its columns are {user.COLUMN}
        order = data_order.get(flow.feed, "")
        random = "true" if order.startswith("random") else "false"
        each = ", true" if order.endswith("/iteration") else ""
        items.append((Raw("feed"), Raw(f"[{data_const(flow.feed)}, {random}{each}]")))
    if flow.on_start:  # a failed call stops the user
        steps = (Raw(_step(idents[e], e, expected[e])) for e in flow.on_start)
        items.append((Raw("onStart"), Coll("[", "]", tuple(steps))))
    if flow.headers or flow.auth:
        items.append((Raw("headers"), Raw(_headers(flow))))
    if answers(flow, expected):
        items.append((Raw("answers"), Raw(f"[{', '.join(map(str, answers(flow, expected)))}]")))
    for only in carries(flow):  # the VU carries its only endpoint's tags
        items.append((Raw("carries"), Raw(f"[PARAMS, {js_str(only)}]")))
    head = f"// {provenance('http.flows', flow.name)}: how its users start"
    if not items:
        return [head, f"const {const} = new Flow({js_str(flow.name)});"]
    lines = [head, f"const {const} = new Flow({js_str(flow.name)}, {{"]
    lines += [statement(f"{key.text}: ", value, ",", 2, JS) for key, value in items]
    return [*lines, "});"]


def _headers(flow: FlowPlan) -> str:
    """The flow's headers per call: each one once the values it reads exist."""
    parts = []
    if flow.auth:
        needed = sorted(
            {p[1] for p in [*flow.auth[0], *flow.auth[1]] if p[0] == "var" and p[1] not in templates.BUILTINS}
        )
        user, password = (template(part, JS, template_var).text for part in flow.auth)
        call = f"basicAuth({user}, {password})"
        parts.append(
            (
                f"user.has({', '.join(js_str(n) for n in needed)})" if needed else None,
                ('"Authorization"', call),
            )
        )
    for key, value in flow.headers.items():
        needed = sorted({p[1] for p in value if p[0] == "var" and p[1] not in templates.BUILTINS})
        expr = (js_str(key), template(value, JS, template_var).text)
        parts.append((f"user.has({', '.join(js_str(n) for n in needed)})" if needed else None, expr))
    body = "".join(
        f"\n    if ({cond}) h[{k}] = {v};" if cond else f"\n    h[{k}] = {v};" for cond, (k, v) in parts
    )
    return f"(user) => {{\n    const h = {{}};{body}\n    return h;\n  }}"


def answers(flow: FlowPlan, expected: dict[str, list[int]]) -> list[int]:
    """The 4xx statuses the flow's tasks expect: answers, not failures, to the abort rule."""
    steps = {e for task in flow.tasks for e in flow.sequences.get(task, [task])}
    return sorted({s for e in steps for s in expected[e] if 400 <= s < 500})


def flow_function(flow: FlowPlan, ident: str, const: str, calls: dict[str, str], row_each: bool) -> list[str]:
    """The flow's function, run by its scenario: the VU's user started at its first iteration,
    then per iteration one task picked by weight, its response looked at by the abort rule, the
    think time. Only the think time calls into the support module (each call costs k6 about 3 %
    of its rate). `calls`: per task the code calling it."""
    about = f"{comment_text(flow.name)}, run by its scenario: per iteration a task by weight"
    if len(flow.tasks) == 1:
        only = comment_text(next(iter(flow.tasks)))
        about = f"{comment_text(flow.name)}, run by its scenario: per iteration {only}"
    if flow.think:
        about += f", {flow.think[0]:g}-{flow.think[1]:g} s apart"
    lines = [
        "",
        *textwrap.wrap(about, 97, initial_indent="// ", subsequent_indent="// "),
        "export default function (shared) {" if ident == "default" else f"export function {ident}(shared) {{",
        f"  if (u === null) u = {const}.start(shared); // its values and on_start calls",
    ]
    if flow.on_start:  # only a failed on_start call stops a user
        lines.append("  if (u.stopped) return idle(); // its on_start failed")
    if row_each:  # the data set's `per: iteration`
        lines.append("  u.nextRow();")
    tasks = list(flow.tasks.items())
    if len(tasks) == 1:
        call = calls[tasks[0][0]]
        if call.startswith("http."):  # the endpoint's request itself (K6Backend._flows)
            lines.append(f"  // {provenance('http.endpoints', tasks[0][0])}")
        lines.append(f"  const res = {call};")
    else:
        total = sum(w for _t, w in tasks)
        lines += [f"  const r = Math.random() * {total:g};", "  let res;"]
        bound = 0.0
        for i, (task, weight) in enumerate(tasks):  # each its own range (a task added: one line)
            bound += weight
            lines.append(f"  {'if' if i == 0 else 'else if'} (r < {bound:g}) res = {calls[task]};")
    lines += [  # the status read once: each read of a response's field costs k6 work
        "  if (++unread >= 8) {",
        "    const status = res ? res.status : -1; // -1: not sent (a value it needs is missing)",
        "    if (status === 0 || status >= 400) u.failed(res); // the abort rule's clock",
        "    else if (status > 0) unread = u.since = 0;",
        "  }",
    ]
    if flow.think:
        lines.append(f"  think({flow.think[0]!r}, {flow.think[1]!r});")
    return [*lines, "}"]


def sequence_const(flow: FlowPlan, name: str, const: str, idents: dict[str, str], expected) -> list[str]:
    """A sequence task as one function: its calls in order, the first that fails ends it."""
    steps = tuple(Raw(_step(idents[e], e, expected[e])) for e in flow.sequences[name])
    return [
        f"// {provenance(f'http.flows.{flow.name}.sequences', name)}: in order; a failed call ends it",
        statement(f"const {const} = ", Call("sequence", steps), ";", 0, JS),
    ]

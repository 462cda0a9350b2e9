"""The flows of a k6 script: per flow an object (weight, per-user values, on_start steps, weighted
tasks and sequences, headers), the default function with http.setup / http.teardown, and the
paths of the data files k6 opens."""

from __future__ import annotations

from pathlib import PurePosixPath

from ... import templates
from ...plan import FlowPlan, Plan
from ..code import JS, Coll, Raw, js_str, statement, template
from ..http import provenance


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
    """The default function, and http.setup / http.teardown as k6's setup() and teardown()."""

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
    out += [
        "",
        "// every VU iteration: on_start first, then a task of the VU's flow (perfspec_k6.js)",
        "export default iterate(FLOWS, PROFILE_FLOWS, PARAMS);",
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


def flow_object(
    flow: FlowPlan, idents: dict[str, str], expected: dict[str, list[int]], data_order: dict[str, str]
) -> list[str]:
    items: list = [(Raw("weight"), Raw(str(flow.weight)))]
    if flow.user:
        sets = "".join(
            f"\n      user.vars[{js_str('user.' + k)}] = {template(v, JS, template_var).text};"
            for k, v in flow.user.items()
        )
        items.append((Raw("vars"), Raw(f"(user) => {{{sets}\n    }}")))
    if flow.feed:  # [rows, random, each iteration]: this user's row, its columns are {user.COLUMN}
        order = data_order.get(flow.feed, "")
        random = "true" if order.startswith("random") else "false"
        each = ", true" if order.endswith("/iteration") else ""
        items.append((Raw("feed"), Raw(f"[{data_const(flow.feed)}, {random}{each}]")))
    if flow.on_start:  # [function, name, expected statuses]: a failed call stops the user
        steps = (
            Raw(f"[{idents[e]}, {js_str(e)}, [{', '.join(map(str, expected[e]))}]]") for e in flow.on_start
        )
        items.append((Raw("onStart"), Coll("[", "]", tuple(steps))))

    def statuses(names: list[str]) -> str:
        return "[" + ", ".join(map(str, sorted({s for e in names for s in expected[e]}))) + "]"

    def task(name: str, weight: int) -> str:
        """[an endpoint's function, its weight, its expected statuses (the abort rule's: a 4xx
        listed is an answer)] (and its PARAMS key when it is the flow's only task: the VU then
        carries its tags), or [a sequence of [function, name, expected statuses], its weight,
        the statuses any of its calls expects]"""
        if name not in flow.sequences:
            own = f"{idents[name]}, {weight}, {statuses([name])}"
            return f"[{own}, {js_str(name)}]" if len(flow.tasks) == 1 else f"[{own}]"
        steps = ", ".join(
            f"[{idents[e]}, {js_str(e)}, [{', '.join(map(str, expected[e]))}]]" for e in flow.sequences[name]
        )
        return f"[sequence({steps}), {weight}, {statuses(flow.sequences[name])}]"

    tasks = Coll("[", "]", tuple(Raw(task(e, w)) for e, w in flow.tasks.items()))
    items.append((Raw("tasks"), tasks))
    if flow.headers or flow.auth:
        parts = []
        if flow.auth:
            needed = sorted(
                {
                    p[1]
                    for p in [*flow.auth[0], *flow.auth[1]]
                    if p[0] == "var" and p[1] not in templates.BUILTINS
                }
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
            f"\n      if ({cond}) h[{k}] = {v};" if cond else f"\n      h[{k}] = {v};"
            for cond, (k, v) in parts
        )
        items.append(
            (Raw("headers"), Raw(f"(user) => {{\n      const h = {{}};{body}\n      return h;\n    }}"))
        )
    if flow.think:
        items.append((Raw("think"), Raw(f"[{flow.think[0]!r}, {flow.think[1]!r}]")))
    lines = [f"  // {provenance('http.flows', flow.name)}"]
    lines.append(statement(f"{js_str(flow.name)}: ", Coll("{", "}", tuple(items)), ",", 2, JS))
    return lines

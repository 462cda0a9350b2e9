"""The flows of a locustfile: per flow a user class (weight, think time, weighted tasks,
on_start/on_stop, headers, credentials, its row of a data set) and the data sets' rows."""

from __future__ import annotations

from ... import templates
from ...plan import FlowPlan, Plan, identifier
from ..code import PY, Call, Coll, Raw, literal, py_str, statement, template
from ..http import comment_text, provenance


def template_var(name: str) -> str:
    """A template variable in a user method: uuid(), self.seq(), self.var(NAME)."""
    if name == "uuid":
        return "uuid()"
    if name == "seq":
        return "self.seq()"
    if name == "now":
        return 'time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())'
    if name == "epoch_ms":
        return "str(int(time.time() * 1000))"
    return f"self.var({py_str(name)})"


def data_const(name: str) -> str:
    return "DATA_" + "".join(c if c.isalnum() else "_" for c in name).upper()


def rows_constant(name: str, d: dict[str, str]) -> str:
    """A data set's rows, read once when Locust imports the file."""
    order = ", random=True" if d["order"] == "random" else ""
    return f"# http.data.{comment_text(name)}: each user takes a row (feed:)\n" + statement(
        f"{data_const(name)} = ", Raw(f"Rows({py_str(d['path'])}{order})")
    )


def _basic_auth(auth: tuple[list, list]) -> list[str]:
    """The flow's Basic credentials as its Authorization header, once their values exist."""
    parts = [*auth[0], *auth[1]]
    needed = sorted({p[1] for p in parts if p[0] == "var" and p[1] not in templates.BUILTINS})
    call = Call("basic_auth", (template(auth[0], PY, template_var), template(auth[1], PY, template_var)))
    if not needed:
        return [statement('headers["Authorization"] = ', call, "", 8)]
    return [
        f"        if self.has({', '.join(py_str(n) for n in needed)}):",
        statement('headers["Authorization"] = ', call, "", 12),
    ]


def flow_class(flow: FlowPlan, idents: dict[str, str], each: bool = False) -> list[str]:
    """A flow as a user class: weight, think time, weighted tasks, on_start/on_stop, headers."""
    lines = [
        f"class {flow.ident}(Endpoints):",
        f"    # {provenance('http.flows', flow.name)}",
        f"    weight = {flow.weight}",
    ]
    if flow.think:
        lines.append(f"    wait_time = between({flow.think[0]!r}, {flow.think[1]!r})")
    else:
        lines.append("    wait_time = constant(0)")
    # each sequence a method of the flow (defined before `tasks`, which names it)
    taken = set(idents.values()) | {"on_start", "on_stop", "headers", "tasks", "weight", "wait_time"}
    methods = {name: identifier(name, taken, "sequence") for name in flow.sequences}
    for name, steps in flow.sequences.items():
        call = Call("self.sequence", tuple(Raw(f"self.{idents[e]}") for e in steps))
        lines += [
            "",
            f"    def {methods[name]}(self):",
            f"        # {provenance(f'http.flows.{flow.name}.sequences', name)}: in order; the "
            "first failed call ends it",
            statement("", call, "", 8),
        ]
    if each:  # per iteration: each task first takes the data set's next row
        for name in flow.tasks:
            call = f"self.{methods.get(name) or idents[name]}()"
            fed = methods[f"fed {name}"] = identifier(f"{name}_fed", taken, "task")
            lines += [
                "",
                f"    def {fed}(self):",
                f"        self.feed({data_const(flow.feed or '')}, iteration=True)  # the next row, "
                "then the task",
                f"        {call}",
            ]
    if flow.sequences or each:
        lines.append("")
    tasks = Coll(
        "{",
        "}",
        tuple(
            (Raw(methods.get(f"fed {e}") or methods.get(e) or f"Endpoints.{idents[e]}"), Raw(str(w)))
            for e, w in flow.tasks.items()
        ),
    )
    lines.append(statement("tasks = ", tasks, "", 4))
    if flow.user or flow.on_start or flow.feed:
        lines += ["", "    def on_start(self):"]
        if flow.feed:  # this user's row of the data set: its columns are {user.COLUMN}
            lines.append(f"        self.feed({data_const(flow.feed)})")
        for name, parts in flow.user.items():
            lines.append(
                statement(f"self.vars[{py_str('user.' + name)}] = ", template(parts, PY, template_var), "", 8)
            )
        if flow.on_start:  # up to the first failed call: then the user stops, reported once
            steps = (Raw(py_str(flow.name)), *(Raw(f"self.{idents[e]}") for e in flow.on_start))
            lines.append(statement("self.on_start_calls", Coll("(", ")", steps), "", 8))
    if flow.on_stop:
        skip = "        self.stopping = True  # a step without its values is skipped"
        lines += ["", "    def on_stop(self):", skip]
        lines += [f"        self.{idents[e]}()" for e in flow.on_stop]
    if flow.headers or flow.auth:
        lines += ["", "    def headers(self):", "        headers = {}"]
        if flow.auth:
            lines += _basic_auth(flow.auth)
        for key, parts in flow.headers.items():
            needed = sorted({p[1] for p in parts if p[0] == "var" and p[1] not in templates.BUILTINS})
            if needed:  # a flow header waits for its values: no Authorization before login
                lines.append(f"        if self.has({', '.join(py_str(n) for n in needed)}):")
            value = template(parts, PY, template_var)
            lines.append(statement(f"headers[{py_str(key)}] = ", value, "", 12 if needed else 8))
        lines.append("        return headers")
    return lines


def abort_rules(plan: Plan) -> list[str]:
    """A target's `abort: {after}`: its endpoints and fail bounds, watched by the support module
    while the load runs."""
    out: list[str] = []
    for t in plan.targets:
        if t.abort_after is None or not t.endpoints:
            continue
        bounds = [[s.stat, s.op, s.value, s.text] for s in t.stats if s.severity == "fail"]
        args: list = [
            Raw(py_str(t.name)),
            ("after", Raw(repr(t.abort_after))),
            ("endpoints", literal(list(t.endpoints), PY)),
            ("bounds", literal(bounds, PY)),
        ]
        if t.profile:
            args.append(("profile", Raw(py_str(t.profile))))
        out += ["", "", f"# target {comment_text(t.name)}: stop the run once a fail bound is lost"]
        out.append(statement("", Call("abort_when", tuple(args))))
    return out


def test_level(plan: Plan, idents: dict[str, str]) -> list[str]:
    """http.setup and http.teardown as Locust's test_start / test_stop listeners, each calling the
    endpoints by a user of its own."""
    out: list[str] = []
    for key, event, when in (
        ("setup", "test_start", "before the users start; every user reads what it extracts"),
        ("teardown", "test_stop", "after the users stop"),
    ):
        names = getattr(plan, key)
        if not names:
            continue
        out += [
            "",
            "",
            f"@events.{event}.add_listener",
            f"def {key}(environment, **_kwargs):",
            f"    # http.{key}: once {when}",
            "    user = test_user(Endpoints, environment)",
        ]
        out += [f"    user.{idents[n]}()" for n in names]
        out.append(f"    user.finished({py_str(key)})")
    return out

"""SQL checks: queries, their parameters, plans and setup files."""

from __future__ import annotations

import re

from perfspec.runtime import files
from perfspec.runtime.support import perfspec_sql_values as sqlexpr

from .. import select, templates
from ..errors import choices_hint
from .common import DOLLAR_PARAM

EXAMPLE_PARAM = {"exponential": 5, "gaussian": 5, "zipfian": 1.1}


class SqlChecks:
    """Mixed into Checker (see checks/__init__.py)."""

    def sql(self) -> None:
        sql = self.spec.sql
        if sql is None:
            return
        if sql.database not in self.spec.databases:
            self.error(
                ("sql", "database"),
                f"unknown database {sql.database!r}",
                choices_hint(sql.database, self.spec.databases, "databases"),
            )
        for gname, gen in sorted(sql.params.items()):
            path = ("sql", "params", gname)
            kinds = [
                k
                for k in ("int_", "expr", "choice", "csv", "uuid", "sequence", "text")
                if getattr(gen, k) not in (None, False)
            ]
            if len(kinds) != 1:
                self.error(
                    path,
                    f"parameter generator {gname!r} needs exactly one of int, expr, choice, "
                    f"csv, uuid, sequence, text (has {len(kinds)})",
                    "e.g. {int: [1, 10000]} for a random id",
                    at_key=True,
                )
            self.sql_draws(path, gname, gen)
            if gen.csv is not None:
                if gen.column is None:
                    self.error((*path, "csv"), "a csv generator needs a `column`", "add column: NAME")
                why = files.problem(self.folder, gen.csv)
                if why is not None:
                    self.error(
                        (*path, "csv"),
                        f"CSV file {gen.csv!r}: {why}",
                        "paths are relative to the spec file's folder, inside the project",
                    )
            if gen.text is not None:
                for part in self.template((*path, "text"), gen.text):
                    if part[0] == "var" and part[1] not in templates.BUILTINS:
                        self.error(
                            (*path, "text"),
                            f"unknown variable {{{part[1]}}}",
                            "generated text may use {uuid}, {seq}, {now} and {epoch_ms}",
                        )
        self.sql_expr_cycles()
        empty_default = False
        for qname, q in sorted(sql.queries.items()):
            path = ("sql", "queries", qname)
            self.sql_workload(path, qname, q)
            if q.iterations is not None and q.duration is not None:
                self.error(
                    (*path, "duration"),
                    "a query runs for iterations or for a duration, not both",
                    "remove one of them",
                )
            if q.iterations is not None and q.iterations_per_worker is not None:
                self.error(
                    (*path, "iterations_per_worker"),
                    "iterations and iterations_per_worker are alternatives",
                    "keep one",
                )
            levels = select.query_levels(self.spec, qname)
            if not levels and (q.concurrency is not None or not empty_default):
                empty_default = empty_default or q.concurrency is None  # said once for the defaults
                where = (path if q.concurrency is not None else ("sql", "defaults")) + ("concurrency",)
                self.error(
                    where,
                    "no concurrency level: the queries would never run",
                    "list at least one worker count, e.g. [1, 8]",
                )
            if len(set(levels)) != len(levels):
                self.error(
                    (*path, "concurrency"),
                    "a concurrency level is listed twice",
                    "list each worker count once",
                )
            if q.duration is not None and q.duration.value <= 0:
                self.error((*path, "duration"), "duration must be positive", "write e.g. 30s")

    def sql_draws(self, path: tuple, gname: str, gen) -> None:
        """An int range (its bounds, its distribution) or an expression generator."""
        sql = self.spec.sql
        if gen.int_ is not None:
            bounds = []
            for i, b in enumerate(gen.int_):
                if isinstance(b, int):
                    bounds.append(b)
                    continue
                tree = self.sql_expr((*path, "int", i), b, {"scale"} if sql.scale else set())
                bounds.append(sqlexpr.evaluate(tree, {"scale": sql.scale}) if tree else None)
            if None not in bounds and bounds[0] > bounds[1]:
                self.error((*path, "int"), f"int range {gen.int_} is empty", "write [low, high]")
        if gen.dist != "uniform":
            if gen.int_ is None:
                self.error(
                    (*path, "dist"), f"dist {gen.dist} draws from an int range", "add int: [low, high]"
                )
            low, high, closed = sqlexpr.PARAM_RANGE[gen.dist]
            if gen.param is None or gen.param < low or (gen.param == low and not closed) or gen.param > high:
                shown = f"{'>=' if closed else '>'} {low:g}" + (f" and <= {high:g}" if high < 1e300 else "")
                self.error(
                    (*path, "param") if gen.param is not None else (*path, "dist"),
                    f"dist {gen.dist} needs a param {shown} (as pgbench's random_{gen.dist})",
                    f"e.g. param: {EXAMPLE_PARAM[gen.dist]}",
                )
        elif gen.param is not None:
            self.error((*path, "param"), "param shapes a non-uniform dist", "add dist: or remove param")
        if gen.expr is not None:
            others = set(sql.params) - {gname} | ({"scale"} if sql.scale else set())
            self.sql_expr((*path, "expr"), gen.expr, others)

    def sql_expr(self, path: tuple, text: str, known: set[str]):
        try:
            tree = sqlexpr.parse(text)
        except sqlexpr.ExprError as exc:
            self.error(path, str(exc), "integer arithmetic: + - * / % and parentheses")
            return None
        for name in sorted(sqlexpr.names(tree) - known):
            hint = (
                "set sql.scale"
                if name == "scale"
                else choices_hint(name, sorted(known), "names (generators and scale)")
            )
            self.error(path, f"unknown name {name!r} in {text!r}", hint)
            return None
        return tree

    def sql_expr_cycles(self) -> None:
        sql = self.spec.sql
        deps = {}
        for gname, gen in sql.params.items():
            if gen.expr is not None:
                try:
                    deps[gname] = sqlexpr.names(sqlexpr.parse(gen.expr)) & set(sql.params)
                except sqlexpr.ExprError:
                    deps[gname] = set()
        for start in sorted(deps):
            seen, todo = set(), list(deps[start])
            while todo:
                name = todo.pop()
                if name == start:
                    self.error(
                        ("sql", "params", start, "expr"),
                        f"generator {start!r} depends on itself",
                        "an expression may read only generators that do not read it back",
                    )
                    break
                if name not in seen:
                    seen.add(name)
                    todo.extend(deps.get(name, ()))

    def sql_workload(self, path: tuple, qname: str, q) -> None:
        """A statement, a transaction or a mix: its parameters, its engine, its load."""
        sql = self.spec.sql
        kinds = [k for k in ("sql", "steps", "mix") if getattr(q, k) is not None]
        if len(kinds) != 1:
            self.error(
                path,
                f"query {qname!r} needs exactly one of sql, steps, mix (has {', '.join(kinds) or 'none'})",
                "sql: one statement; steps: a transaction; mix: {query: weight, ...}",
                at_key=True,
            )
            return
        if q.steps is not None:
            returned: set[str] = set()
            for i, step in enumerate(q.steps):
                self.sql_statement(
                    (*path, "steps", i), f"step {i + 1} of {qname!r}", step.sql, step.params, returned
                )
                returned |= set(step.returns)
            if q.params:
                self.error(
                    (*path, "params"),
                    "a transaction's parameters belong to its steps",
                    "move params: into each step",
                )
        elif q.sql is not None:
            self.sql_statement(path, f"query {qname!r}", q.sql, q.params, set())
        else:
            self.sql_mix(path, qname, q)
        if not q.standalone and not any(o.mix and qname in o.mix for o in sql.queries.values()):
            self.warn(
                (*path, "standalone"),
                f"query {qname!r} runs nowhere: it is in no mix",
                "remove standalone: false, or name it in a mix",
            )
        engine = q.engine or sql.defaults.engine
        if engine != "asyncpg":
            self.sql_pgbench(path, qname, q)
        if q.rate is not None and q.rate.value <= 0:
            self.error((*path, "rate"), "a rate must be positive", "write e.g. 500/s")

    def sql_statement(self, path: tuple, what: str, text: str, params: list[str], returned: set[str]) -> None:
        sql = self.spec.sql
        for i, p in enumerate(params):
            if p not in sql.params and p not in returned:
                self.error(
                    (*path, "params", i),
                    f"unknown parameter generator {p!r}",
                    choices_hint(
                        p,
                        [*sql.params, *returned],
                        "generators (sql.params) and columns returned by earlier steps",
                    ),
                )
        used = {int(n) for n in DOLLAR_PARAM.findall(text)}
        need = max(used, default=0)
        if need != len(params):
            self.error(
                (*path, "params") if params else (*path, "sql"),
                f"{what} uses {need} parameter(s) ($1..${need}) but lists {len(params)}",
                "give one generator per $N placeholder, in order",
            )

    def sql_mix(self, path: tuple, qname: str, q) -> None:
        queries = self.spec.sql.queries
        for part in q.mix:
            where = (*path, "mix", part)
            if part not in queries:
                self.error(
                    where,
                    f"unknown query {part!r} in mix {qname!r}",
                    choices_hint(part, queries, "queries"),
                    at_key=True,
                )
            elif queries[part].mix is not None or part == qname:
                self.error(
                    where,
                    f"{part!r} is a mix itself",
                    "a mix's parts are statements or transactions",
                    at_key=True,
                )
        for field in ("expect_plan", "isolation", "params"):
            if getattr(q, field):
                self.error(
                    (*path, field),
                    f"{field} belongs to the mix's parts",
                    f"set {field} on each query of the mix",
                )

    def sql_pgbench(self, path: tuple, qname: str, q) -> None:
        """What the pgbench engine cannot express, at its place."""
        sql = self.spec.sql
        parts = [sql.queries[p] for p in (q.mix or {}) if p in sql.queries] if q.mix else [q]
        for part in parts:
            steps = part.steps or ([part] if part.sql is not None else [])
            for step in steps:
                if re.search(r"(?m)^\s*\\", step.sql or ""):
                    self.error(
                        path,
                        f"query {qname!r}: a line starting with a backslash would be a pgbench meta-command",
                        "rewrite the statement, or use engine: asyncpg",
                    )
                if re.search(r"(?<!:):(?!:)\w", step.sql or ""):
                    self.error(
                        path,
                        f"query {qname!r}: pgbench reads :name in a statement as its variable",
                        "write the text without a single colon before a name, or use engine: asyncpg",
                    )
                for p in step.params:
                    gen = sql.params.get(p)
                    kind = gen and next(
                        (
                            k
                            for k in ("choice", "csv", "uuid", "sequence", "text")
                            if getattr(gen, k) not in (None, False)
                        ),
                        None,
                    )
                    if kind and gen.int_ is None and gen.expr is None:  # none: named above
                        self.error(
                            ("sql", "params", p),
                            f"pgbench cannot draw a {kind} generator (query {qname!r} runs on pgbench)",
                            "use int or expr generators, or engine: asyncpg for this query",
                        )
        duration = q.duration or sql.defaults.duration
        if duration is not None and duration.value != int(duration.value):
            self.error(
                (*path, "duration") if q.duration else ("sql", "defaults", "duration"),
                f"pgbench runs whole seconds (-T); {duration.text} is not",
                f"write {max(1, round(duration.value))}s",
            )

"""SQL checks: queries, their parameters, plans and setup files."""

from __future__ import annotations

from ...runtime import files
from .. import select, templates
from ..errors import choices_hint
from .common import _DOLLAR_PARAM


class SqlChecks:
    """Mixed into Checker (see checks/__init__.py)."""

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

"""Flow checks: data sets and their columns, sequences, on_start/on_stop, the variables a
flow's requests use."""

from __future__ import annotations

import csv
import json

from perfspec.runtime import files

from .. import select, templates
from ..errors import choices_hint
from .common import endpoint_vars


class FlowChecks:
    """Mixed into Checker (see checks/__init__.py)."""

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
                for var in sorted(endpoint_vars(ep)):
                    if var.startswith("user.") and var[5:] not in user_vars:
                        self.error(
                            (*path, "user") if flow.user else path,
                            f"flow {fname!r} runs {ename!r}, which uses {{{var}}}, "
                            f"but the flow does not define it",
                            f"add `user: {{{var[5:]}: ...}}` to the flow",
                            at_key=True,
                        )

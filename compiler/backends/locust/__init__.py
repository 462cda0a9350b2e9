"""Locust backend: one idiomatic locustfile per spec (FastHttpUser per flow, a LoadTestShape)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ... import templates
from ...plan import Plan
from .. import Artifact, environment, header

_ENV = environment(Path(__file__).parent)


def endpoint_data(plan: Plan) -> dict:
    out = {}
    for name, ep in plan.endpoints.items():
        out[name] = {
            "method": ep.method, "host": ep.host, "path": ep.path, "headers": ep.headers,
            "query": ep.query, "body_kind": ep.body_kind, "body": ep.body, "expect": ep.expect,
            "body_contains": ep.body_contains, "extract": ep.extract, "stream": ep.stream,
            "send": ep.ws_send, "messages": ep.ws_messages, "timeout": ep.timeout,
            "source": str(ep.source),
        }
    return out


def flow_data(plan: Plan) -> dict:
    return {name: {"user": f.user, "headers": f.headers, "on_start": f.on_start,
                   "on_stop": f.on_stop} for name, f in plan.flows.items()}


def template_table(plan: Plan) -> dict[str, list]:
    """Every string of bodies, queries and messages -> its parsed template parts."""
    found: dict[str, list] = {}
    for ep in plan.endpoints.values():
        strings = templates.walk_strings(ep.body) + templates.walk_strings(ep.ws_send)
        strings += [((), v) for v in ep.query.values() if isinstance(v, str)]
        for _, text in strings:
            found[text] = [list(p) for p in templates.parse(text)]
    return dict(sorted(found.items()))


class LocustBackend:
    name = "locust"

    def emit(self, plan: Plan) -> list[Artifact]:
        closed = {n: p for n, p in plan.profiles.items() if "locust" in p.tools}
        if not plan.endpoints or not closed:
            return []
        profiles = {n: [[s.kind, s.start, s.end, s.seconds] for s in p.stages]
                    for n, p in closed.items()}
        default = plan.default_profile if plan.default_profile in closed else next(iter(closed))
        flows = []
        for f in plan.flows.values():
            taken: set[str] = set()
            tasks = []
            for i, (ename, weight) in enumerate(f.tasks.items()):
                ident = "".join(c if c.isalnum() or c == "_" else "_" for c in ename).strip("_")
                if not ident or not ident.isidentifier() or not ident.isascii() or ident in taken:
                    ident = f"task_{i}"
                taken.add(ident)
                tasks.append({"ident": ident, "name": ename, "weight": weight})
            flows.append({"ident": f.ident, "name": f.name, "weight": f.weight, "think": f.think,
                          "tasks": tasks, "source": str(f.source)})
        text = _ENV.get_template("locustfile.py.j2").render(
            header=header(plan, "#"), plan=plan, hosts=plan.hosts,
            endpoints=endpoint_data(plan), flow_data=flow_data(plan), flows=flows,
            templates=template_table(plan),
            paths=templates.path_table([e.extract for e in plan.endpoints.values()]),
            profiles=profiles, default_profile=default,
            profile_sources={n: str(p.source) for n, p in closed.items()})
        return [Artifact(plan.folder / PurePosixPath("locustfile.py"), text,
                         next(iter(closed.values())).source)]

"""The service's own metrics (`alerts.service`): label selectors for a target's routes.

The Prometheus rules and the server-side view in targets.json select the same series through
these functions, so an alert and the value `perfspec check` shows beside the client's agree.
"""

from __future__ import annotations

import json

from ..plan import Plan


def promql_string(text: str) -> str:
    """A double-quoted PromQL string literal."""
    return json.dumps(text, ensure_ascii=False)


def regex_escape(text: str) -> str:
    """Escape RE2 metacharacters so a route matches literally."""
    return "".join("\\" + c if c in "\\.+*?()|[]{}^$" else c for c in text)


def matchers(plan: Plan, extra: dict[str, str] | None = None) -> list[str]:
    """The service's fixed matchers (e.g. job="api"), then `extra` label -> `=value` / `=~value`."""
    assert plan.alerts is not None
    out = [f"{k}={promql_string(v)}" for k, v in sorted(plan.alerts.service.matchers.items())]
    for k, v in (extra or {}).items():
        out.append(f"{k}{v}")
    return out


def selectors(plan: Plan, endpoints: list[str], extra: dict[str, str] | None = None) -> list[str]:
    """One label selector per route the endpoints use; their methods in a regex. WebSockets
    have no request metric and are left out."""
    assert plan.alerts is not None
    svc = plan.alerts.service
    routes: dict[str, set[str]] = {}
    for name in endpoints:
        ep = plan.endpoints[name]
        if ep.method == "WS":
            continue
        routes.setdefault(ep.route, set()).add(ep.method)
    out = []
    for route, methods in sorted(routes.items()):
        ms = sorted(methods)
        method = (
            f"={promql_string(ms[0])}"
            if len(ms) == 1
            else f"=~{promql_string('|'.join(regex_escape(m) for m in ms))}"
        )
        labels = matchers(
            plan, {svc.route_label: f"={promql_string(route)}", svc.method_label: method, **(extra or {})}
        )
        out.append("{" + ", ".join(labels) + "}")
    return out


def error_matcher(plan: Plan) -> dict[str, str]:
    """The extra matcher of failed requests: the status label against `error_status`."""
    assert plan.alerts is not None
    svc = plan.alerts.service
    return {svc.status_label: f"=~{promql_string(svc.error_status)}"}

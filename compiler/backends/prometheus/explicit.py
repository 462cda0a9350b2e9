"""Explicit alert rules (`alerts.rules`): `when` records the expression and compares it."""

from __future__ import annotations

from typing import Any

from .common import Alert, Case, camel, number


class ExplicitAlerts:
    """Mixed into Rules."""

    def explicit(self, i: int, rule: Any) -> None:
        src = f"{self.plan.file}, alert {rule.alert}"
        labels = dict(
            sorted({**rule.labels, "severity": rule.severity, "perfspec_spec": self.plan.name}.items())
        )
        summary = rule.summary or f"{rule.alert} ({src})"
        if rule.when is not None:
            record = f"perfspec:{self.scope}:{camel(rule.alert)}:value"
            self.records.append((record, rule.expr))
            op, value = rule.when.op, rule.when.quantity.value
            expr = f"{record} {op} {number(value)}"
        else:
            expr, record, op, value = rule.expr, None, None, None
        alert = Alert(
            self.alert_name(rule.alert),
            expr,
            rule.for_.value if rule.for_ else 0.0,
            labels,
            {
                "summary": (summary),
                **({"description": (rule.description)} if rule.description else {}),
                **({"runbook_url": (rule.runbook)} if rule.runbook else {}),
            },
            panel={"title": rule.alert, "query": record or rule.expr, "threshold": value, "unit": ""},
        )
        self.alerts.append(alert)
        if record is not None:
            alert.cases = self.value_cases(record, op, value)
        else:
            alert.note = "no test: the rule has no `when`, so its condition is opaque PromQL"

    def value_cases(self, record: str, fails_op: str, value: float) -> list[Case]:
        """For a recorded value: input on each side of the threshold."""
        step = abs(value) or 1.0
        above, below = value + step, value - step
        if fails_op in (">", ">="):
            fire, quiet = above, below
        elif fails_op in ("<", "<="):
            fire, quiet = below, above
        else:
            return []
        n = self.steps(0) + 30
        return [
            Case(f"value {number(fire)}", [(record, f"{number(fire)}+0x{n}")], True),
            Case(f"value {number(quiet)}", [(record, f"{number(quiet)}+0x{n}")], False),
        ]

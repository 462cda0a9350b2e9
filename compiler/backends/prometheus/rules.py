"""The rules of one spec: the context every kind of alert is built in, and the rule file."""

from __future__ import annotations

import math
import re

from ...plan import Plan, TargetPlan
from .. import service
from .common import DEFAULT_BUCKETS, STEP, Alert, camel, duration, go_text
from .derived import DerivedAlerts
from .explicit import ExplicitAlerts
from .slo import SloAlerts


class Rules(DerivedAlerts, SloAlerts, ExplicitAlerts):
    """Everything the rule file, its tests and the dashboard are made of, for one spec."""

    def __init__(self, plan: Plan) -> None:
        assert plan.alerts is not None
        self.plan, self.cfg = plan, plan.alerts
        self.svc = self.cfg.service
        self.window = duration(self.cfg.from_targets.window.value)
        self.buckets = [b.value for b in self.svc.buckets] if self.svc.buckets else DEFAULT_BUCKETS
        self.min_rate = self.cfg.from_targets.min_rate.value
        slo = self.cfg.slo
        self.pages = [w.value for w in slo.windows] if slo and slo.windows else [3600.0, 21600.0]
        self.tickets = (
            [w.value for w in slo.ticket_windows] if slo and slo.ticket_windows else [86400.0, 259200.0]
        )
        # the unit tests' step fits the shortest rate window four times (rate() needs two samples)
        windows = [w / 12 for w in self.pages + self.tickets] if slo else []
        shortest = min([self.cfg.from_targets.window.value, *windows])
        self.step = min(float(STEP), math.floor(shortest / 4 * 1000) / 1000)
        # identities carry the spec's name, never a line: two specs' rules load into one
        # Prometheus side by side, and an edit elsewhere in the spec keeps every series and alert
        self.scope = re.sub(r"[^A-Za-z0-9_]", "_", plan.name)
        self.prefix = camel(plan.name)
        self.records: list[tuple[str, str]] = []
        self.alerts: list[Alert] = []
        self.taken: set[str] = set()
        self.warnings: list[str] = []
        if self.cfg.from_targets.enabled:
            for t in plan.targets:
                self.target(t)
        if self.cfg.slo is not None:
            self.slo()
        for i, rule in enumerate(self.cfg.rules):
            self.explicit(i, rule)

    # --- helpers ------------------------------------------------------------------------------

    def alert_name(self, base: str) -> str:
        name, n = base, 2
        while name in self.taken:
            name, n = f"{base}{n}", n + 1
        self.taken.add(name)
        return name

    def matchers(self, extra: dict[str, str] | None = None) -> list[str]:
        return service.matchers(self.plan, extra)

    def selectors(self, endpoints: list[str], extra: dict[str, str] | None = None) -> list[str]:
        return service.selectors(self.plan, endpoints, extra)

    def rate_sum(self, metric: str, selectors: list[str], by: str | None = None) -> str:
        terms = " or ".join(f"rate({metric}{s}[{self.window}])" for s in selectors)
        return f"sum by ({by}) ({terms})" if by else f"sum({terms})"

    def common_labels(
        self, t: TargetPlan | None, severity: str | None, labels: dict[str, str]
    ) -> dict[str, str]:
        out = {**self.cfg.from_targets.labels, **labels}
        out["severity"] = severity or self.cfg.from_targets.severity
        if t is not None:
            out["perfspec_target"] = t.name
        out["perfspec_spec"] = self.plan.name
        return dict(sorted(out.items()))

    def add(
        self,
        base: str,
        expr: str,
        for_: float,
        labels: dict[str, str],
        summary: str,
        runbook: str | None,
        t: TargetPlan | None,
        panel: dict | None,
        description: str | None = None,
    ) -> Alert:
        annotations = {"summary": (summary)}
        if description:
            annotations["description"] = description
        elif t is not None:
            annotations["description"] = (
                f"perfspec target {t.name!r} from {self.plan.file}; endpoints: {', '.join(t.endpoints)}"
            )
        if runbook:
            annotations["runbook_url"] = runbook
        alert = Alert(self.alert_name(base), expr, for_, labels, annotations, panel=panel)
        self.alerts.append(alert)
        return alert

    def steps(self, for_: float) -> int:
        """Samples to cover the rate window, the `for` duration and a margin."""
        return int(math.ceil((for_ + self.cfg.from_targets.window.value + 2 * self.step) / self.step)) + 5


def rule_file(rules: Rules) -> dict:
    name = rules.plan.name
    groups = []
    if rules.records:
        groups.append(
            {
                "name": f"perfspec {name}: recording",
                "rules": [
                    {"record": rec, "expr": expr, "labels": {"perfspec_spec": name}}
                    for rec, expr in rules.records
                ],
            }
        )
    groups.append(
        {
            "name": f"perfspec {name}: alerts",
            "rules": [
                {
                    "alert": a.name,
                    "expr": a.expr,
                    **({"for": duration(a.for_)} if a.for_ else {}),
                    "labels": {k: go_text(v) for k, v in a.labels.items()},
                    "annotations": {k: go_text(v) for k, v in a.annotations.items()},
                }
                for a in rules.alerts
            ],
        }
    )
    return {"groups": groups}

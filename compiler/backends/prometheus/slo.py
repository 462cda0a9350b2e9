"""SLO burn-rate alerts (`alerts.slo`): the SRE workbook's multiwindow, multi-burn-rate pair."""

from __future__ import annotations

from ..service import promql_string
from .common import Alert, Case, camel, duration, matches, number


class SloAlerts:
    """Mixed into Rules."""

    def slo(self) -> None:
        """Page on 2 % / 5 % of the budget spent in the long page windows, ticket on 10 % in each
        ticket window; each long window is paired with a short one of a twelfth of it."""
        pages = list(zip(self.pages, (0.02, 0.05), strict=False))
        tickets = [(w, 0.10) for w in self.tickets]
        ratio = f"perfspec:{self.scope}:slo_errors:ratio_rate"
        self.slo_records(ratio, sorted({w for long, _ in pages + tickets for w in (long, long / 12)}))
        for severity, pairs in (("page", pages), ("ticket", tickets)):
            alert = self.burn_alert(severity, pairs, ratio)
            alert.cases = self.slo_cases()
            self.alerts.append(alert)

    def slo_records(self, ratio: str, windows: list[float]) -> None:
        errors = self.matchers({self.svc.status_label: f"=~{promql_string(self.svc.error_status)}"})
        every = self.matchers()
        total = self.svc.requests_total
        for w in windows:
            d = duration(w)
            self.records.append(
                (
                    f"{ratio}{d}",
                    f"(sum(rate({total}{{{', '.join(errors)}}}[{d}])) or vector(0)) / "
                    f"sum(rate({total}{{{', '.join(every)}}}[{d}]))",
                )
            )

    def burn_alert(self, severity: str, pairs: list[tuple[float, float]], ratio: str) -> Alert:
        slo = self.cfg.slo
        assert slo is not None
        budget, period_h = 1 - slo.availability.value, slo.period.value / 3600
        terms = []
        for long, spent in pairs:
            factor = f"({number(round(spent * period_h / (long / 3600), 4))} * {number(round(budget, 10))})"
            terms.append(f"({ratio}{duration(long)} > {factor} and {ratio}{duration(long / 12)} > {factor})")
        labels = {**self.cfg.from_targets.labels, "severity": severity, "perfspec_spec": self.plan.name}
        return Alert(
            self.alert_name(
                f"{camel(self.plan.name)}ErrorBudgetBurn{'Fast' if severity == 'page' else 'Slow'}"
            ),
            " or ".join(terms),
            0.0,
            dict(sorted(labels.items())),
            {
                "summary": f"{self.plan.name}: error budget of {slo.availability.text} burning too fast "
                f"({severity})",
                "description": f"availability objective from {self.plan.file}, alerts.slo over "
                f"{duration(slo.period.value)}",
                **({"runbook_url": slo.runbook} if slo.runbook else {}),
            },
            panel={
                "title": f"error ratio ({severity} windows)",
                "query": f"{ratio}{duration(pairs[0][0])}",
                "threshold": budget,
                "unit": "percentunit",
            },
        )

    def slo_cases(self) -> list[Case]:
        """Every request fails (fires), none does (silent)."""
        total = self.svc.requests_total

        def series(status: str) -> str:
            labels = [
                *(f"{k}={promql_string(v)}" for k, v in sorted(self.svc.matchers.items())),
                f"{self.svc.status_label}={promql_string(status)}",
            ]
            return f"{total}{{{', '.join(labels)}}}"

        bad_status = "500" if matches(self.svc.error_status, "500") else "599"
        n = self.steps(0)
        ok, bad = series("200"), series(bad_status)
        return [
            Case("all requests fail", [(ok, f"0+0x{n}"), (bad, f"0+600x{n}")], True),
            Case("no request fails", [(ok, f"0+600x{n}"), (bad, f"0+0x{n}")], False),
        ]

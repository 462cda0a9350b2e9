"""SLO burn-rate alerts (`alerts.slo`): the SRE workbook's multiwindow, multi-burn-rate pair."""

from __future__ import annotations

from ..service import promql_string
from .common import Alert, Case, camel, duration, matches, number


class SloAlerts:
    """Mixed into Rules."""

    def slo(self) -> None:
        slo = self.cfg.slo
        assert slo is not None
        budget = 1 - slo.availability.value
        period_h = slo.period.value / 3600
        # the SRE workbook's multiwindow, multi-burn-rate alerts: page on 2 % / 5 % of the budget
        # spent in the long windows, ticket on 10 % in 1 d and 3 d; short window = long / 12
        pages = list(zip(self.pages, (0.02, 0.05), strict=False))
        tickets = [(w, 0.10) for w in self.tickets]
        errors = self.matchers({self.svc.status_label: f"=~{promql_string(self.svc.error_status)}"})
        every = self.matchers()
        src = f"{self.plan.file}, alerts.slo"
        ratio = f"perfspec:{self.scope}:slo_errors:ratio_rate"
        windows = sorted({w for long, _ in pages + tickets for w in (long, long / 12)})
        for w in windows:
            d = duration(w)
            self.records.append(
                (
                    f"{ratio}{d}",
                    f"(sum(rate({self.svc.requests_total}{{{', '.join(errors)}}}[{d}])) or vector(0)) / "
                    f"sum(rate({self.svc.requests_total}{{{', '.join(every)}}}[{d}]))",
                )
            )
        base = camel(self.plan.name)
        for severity, pairs in (("page", pages), ("ticket", tickets)):
            terms = []
            for long, spent in pairs:
                factor = spent * period_h / (long / 3600)
                terms.append(
                    f"({ratio}{duration(long)} > ({number(round(factor, 4))} * "
                    f"{number(round(budget, 10))}) and {ratio}{duration(long / 12)} "
                    f"> ({number(round(factor, 4))} * {number(round(budget, 10))}))"
                )
            labels = dict(
                sorted(
                    {
                        **self.cfg.from_targets.labels,
                        "severity": severity,
                        "perfspec_spec": self.plan.name,
                    }.items()
                )
            )
            alert = Alert(
                self.alert_name(f"{base}ErrorBudgetBurn{'Fast' if severity == 'page' else 'Slow'}"),
                " or ".join(terms),
                0.0,
                labels,
                {
                    "summary": (
                        f"{self.plan.name}: error budget of "
                        f"{slo.availability.text} burning too fast ({severity})"
                    ),
                    "description": (f"availability objective from {src} over {duration(slo.period.value)}"),
                    **({"runbook_url": (slo.runbook)} if slo.runbook else {}),
                },
                panel={
                    "title": f"error ratio ({severity} windows)",
                    "query": f"{ratio}{duration(pairs[0][0])}",
                    "threshold": budget,
                    "unit": "percentunit",
                },
            )
            total = self.svc.requests_total
            lab = lambda status: ", ".join(  # noqa: E731
                [
                    *(f"{k}={promql_string(v)}" for k, v in sorted(self.svc.matchers.items())),
                    f"{self.svc.status_label}={promql_string(status)}",
                ]
            )
            bad_status = "500" if matches(self.svc.error_status, "500") else "599"
            n = self.steps(0)
            ok, bad = f"{total}{{{lab('200')}}}", f"{total}{{{lab(bad_status)}}}"
            alert.cases = [
                Case(
                    "all requests fail",
                    [(ok, f"0+0x{n}"), (bad, f"0+600x{n}")],
                    True,
                ),
                Case(
                    "no request fails",
                    [(ok, f"0+600x{n}"), (bad, f"0+0x{n}")],
                    False,
                ),
            ]
            self.alerts.append(alert)

"""Alert checks: PromQL, the service's metrics, SLO windows, bucket sanity."""

from __future__ import annotations

import math
import re

from .. import promql, select


class AlertChecks:
    """Mixed into Checker (see checks/__init__.py)."""

    def promql(self, path: tuple, text: str) -> None:
        try:
            promql.check(text)
        except promql.PromQLError as exc:
            self.error(
                path,
                f"not a PromQL expression: {exc}",
                "fix the expression (promtool and Prometheus would refuse it), e.g. "
                "sum(rate(http_requests_total[5m]))",
            )

    def alerts(self) -> None:
        alerts = self.spec.alerts
        if alerts is None:
            return
        names: set[str] = set()
        for i, rule in enumerate(alerts.rules):
            path = ("alerts", "rules", i)
            if rule.alert in names:
                self.error(
                    (*path, "alert"), f"duplicate alert {rule.alert!r}", "give each alert its own name"
                )
            names.add(rule.alert)
            self.promql((*path, "expr"), rule.expr)
        self.promql_text(alerts)
        status = alerts.service.error_status
        try:
            re.compile(status)
            re2_only = not re.search(r"\(\?[=!<]|\\[1-9]", status)  # no lookaround, no backreference
        except re.error:
            re2_only = False
        if not re2_only:
            self.error(
                ("alerts", "service", "error_status"),
                f"{status!r} is not a regular expression Prometheus (RE2) accepts",
                "write e.g. '5..' or '5..|429'",
            )
        self.bucket_sanity(alerts)
        if alerts.slo is not None and not alerts.service.matchers:
            total = alerts.service.requests_total
            self.error(
                ("alerts", "slo"),
                f"the SLO's error ratio would sum {total}{{}} over every "
                "service Prometheus scrapes (an empty selector)",
                "name this service's series: alerts.service.matchers, e.g. {job: api}",
                at_key=True,
            )
        if alerts.slo is not None:
            a = alerts.slo.availability.value
            if not 0 < a < 1:
                self.error(
                    ("alerts", "slo", "availability"),
                    f"availability {alerts.slo.availability.text} must lie strictly between 0% and 100%",
                    "an error budget needs room: write e.g. 99.5%",
                )
            for key in ("windows", "ticket_windows"):
                for i, w in enumerate(getattr(alerts.slo, key) or []):
                    if w.value < 60:  # the short window is a twelfth of it; rate() needs a range
                        self.error(
                            ("alerts", "slo", key, i),
                            f"window {w.text} is shorter than 1m",
                            "burn-rate windows are hours: write e.g. [1h, 6h]",
                        )
            self.burn_windows(alerts.slo)
            if alerts.slo.period.value < 3600:
                self.error(
                    ("alerts", "slo", "period"),
                    f"SLO period {alerts.slo.period.text} is shorter than 1h",
                    "write the period the SLO is kept over, e.g. 30d",
                )
        for path, w in ((("alerts", "from_targets", "window"), alerts.from_targets.window),):
            if w.value < 4:  # rate() needs two samples in its window; the tests step window/4
                self.error(
                    path,
                    f"rate window {w.text} is shorter than 4s",
                    "write a window of a few scrape intervals, e.g. 5m (4s at the least)",
                )
        if alerts.from_targets.min_rate.value < 0:
            self.error(
                ("alerts", "from_targets", "min_rate"),
                "min_rate is negative",
                "write a request rate, e.g. 1/s (0/s: no guard)",
            )
        for i, b in enumerate(alerts.service.buckets or []):
            if b.value <= 0:
                self.error(
                    ("alerts", "service", "buckets", i),
                    f"bucket bound {b.text} is not above 0",
                    "bucket bounds are the histogram's positive `le` values, e.g. 50ms",
                )

    def promql_text(self, alerts) -> None:
        """Text that reaches generated PromQL as it is: promtool refuses U+FFFD anywhere in an
        expression (its lexer reads it as an invalid rune), so say so at the spec line."""
        svc = alerts.service
        texts = [(("alerts", "service", "error_status"), svc.error_status)]
        texts += [(("alerts", "service", "matchers", k), v) for k, v in sorted(svc.matchers.items())]
        for name, ep in sorted((self.spec.http.endpoints if self.spec.http else {}).items()):
            if ep.route is not None:
                texts.append((("http", "endpoints", name, "route"), ep.route))
            elif ep.path and ep.method != "WS":  # the route label is the path as written
                texts.append((("http", "endpoints", name, ep.method.lower()), ep.path))
        for path, text in texts:
            if "\ufffd" in text:
                self.error(
                    path,
                    "U+FFFD (the replacement character) would make every rule using it "
                    "unreadable to Prometheus (promtool: invalid UTF-8 rune)",
                    "write the text without it",
                )

    def burn_windows(self, slo) -> None:
        """Each burn-rate alert must be able to fire: spending its share of the budget within its
        window needs an error ratio below 100 %."""
        budget, period = 1 - slo.availability.value, slo.period.value
        if len(slo.windows or []) > 2:
            self.error(
                ("alerts", "slo", "windows", 2),
                "page alerts take two windows",
                "write two long windows, e.g. [1h, 6h] (2 % and 5 % of the budget)",
            )
        pages = zip(slo.windows or [], (0.02, 0.05), strict=False)
        tickets = ((w, 0.10) for w in slo.ticket_windows or [])
        for key, pairs in (("windows", pages), ("ticket_windows", tickets)):
            for i, (w, spent) in enumerate(pairs):
                if w.value < 60:
                    continue  # said above
                if w.value > period:
                    self.error(
                        ("alerts", "slo", key, i),
                        f"window {w.text} is longer than the SLO period {slo.period.text}",
                        "a burn-rate window is a part of the period",
                    )
                elif spent * period / w.value * budget >= 1:
                    need = spent * period / w.value * budget
                    self.error(
                        ("alerts", "slo", key, i),
                        f"window {w.text} can never fire: spending "
                        f"{spent:.0%} of a {slo.period.text} budget in it needs an error "
                        f"ratio of {need:.0%}",
                        "write a longer window, or a shorter period",
                    )

    def bucket_sanity(self, alerts) -> None:
        """Latency bounds that are not bucket boundaries make histogram_quantile interpolate."""
        svc = alerts.service
        if not svc.buckets or not alerts.from_targets.enabled or self.spec.http is None:
            return
        edges = sorted(b.value for b in svc.buckets)
        shown = lambda v: next((b.text for b in svc.buckets if b.value == v), f"{v}s")  # noqa: E731
        for i, t in enumerate(self.spec.targets):
            if t.alert is False or t.select is None or t.select.profile is not None:
                continue
            if not select.match_endpoints(self.spec, t.select):
                continue
            for stat, bound in t.items():
                if not stat.startswith("p"):
                    continue
                v = bound.quantity.value
                if any(math.isclose(v, e, rel_tol=1e-9) for e in edges):
                    continue
                below = [e for e in edges if e < v]
                above = [e for e in edges if e > v]
                where = ("targets", i, stat)  # the key as written (p99.9)
                metric = svc.latency_histogram
                if not above:
                    self.warn(
                        where,
                        f"{stat} {bound} lies above the largest bucket of {metric} "
                        f"({shown(edges[-1])}): histogram_quantile can never exceed it, so the "
                        "alert can never fire",
                        f"add a bucket above {bound.quantity.text} to the service and to "
                        "alerts.service.buckets",
                    )
                else:
                    near = " and ".join(shown(e) for e in ([below[-1]] if below else []) + [above[0]])
                    self.warn(
                        where,
                        f"{stat} {bound} is not a bucket boundary of {metric}; "
                        f"histogram_quantile interpolates between {near}",
                        f"move the bound to {near.replace(' and ', ' or ')}, or add "
                        f"{bound.quantity.text} to the service's buckets and alerts.service.buckets",
                    )

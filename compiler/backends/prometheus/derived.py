"""Alerts derived from targets (latency quantiles, avg, error/success ratio, throughput floor,
PromQL targets) with the recording rules they read, and their unit-test input series."""

from __future__ import annotations

import math

from ...plan import TargetPlan
from .. import service
from ..service import promql_string
from .common import FAILS_WHEN, QUANTILES, Case, camel, duration, matches, number


class DerivedAlerts:
    """Mixed into Rules: one target -> its alerts and records."""

    def target(self, t: TargetPlan) -> None:
        if t.alert is False or t.kind == "scaling":
            return
        opts = t.alert if not isinstance(t.alert, bool) else None
        for_ = opts.for_.value if opts and opts.for_ else self.cfg.from_targets.for_.value
        runbook = (opts.runbook if opts else None) or self.cfg.from_targets.runbook
        labels = self.common_labels(t, opts.severity if opts else None, opts.labels if opts else {})
        if t.kind == "external":
            self.external(t, for_, labels, runbook)
            return
        if not t.endpoints or t.profile is not None or t.measure != "latency" or t.during:
            return  # SQL-only, scoped to a test profile, or TTFB: no service metric to alert on
        sels = self.selectors(t.endpoints)
        if not sels:
            return
        rec = {
            kind: f"perfspec:{self.scope}:{t.ident}:{kind}:rate{self.window}"
            for kind in ("latency_bucket", "requests", "errors")
        }
        used: set[str] = set()
        for st in t.stats:
            if st.severity != "fail":
                continue
            base, expr, query, unit, needs = self.stat_rule(t, st.stat, st.op, st.value, rec, sels)
            used.update(needs)
            alert = self.add(
                base,
                expr,
                for_,
                labels,
                self.describe(t, st.stat, st.text),
                runbook,
                t,
                {"title": f"{t.name}: {st.stat}", "query": query, "threshold": st.value, "unit": unit},
            )
            if st.stat in QUANTILES:
                alert.cases = self.latency_cases(t, QUANTILES[st.stat], st.value, st.op) or []
                if not alert.cases:
                    alert.note = (
                        f"no test: {st.text} cannot be told apart with buckets "
                        f"{[duration(b) for b in self.buckets]}"
                    )
            elif st.stat == "avg":
                alert.cases = self.avg_cases(t, st.value, st.op)
            elif st.stat in ("error_rate", "success_rate"):
                alert.cases = self.ratio_cases(t, st.stat, st.value, st.op)
            else:
                alert.cases = self.throughput_cases(t, st.value, st.op)
                if st.op in (">", ">="):
                    self.no_data(t, rec["requests"], for_, labels, runbook, st.value)
        self.target_records(t, rec, used, sels)

    def no_data(
        self,
        t: TargetPlan,
        requests: str,
        for_: float,
        labels: dict[str, str],
        runbook: str | None,
        bound: float,
    ) -> None:
        """A throughput floor is not judged where the service's series are absent (no scrape, or
        the routes never served): absence is not zero traffic, so it has an alert of its own."""
        total = self.svc.requests_total
        alert = self.add(
            f"{self.prefix}{camel(t.name)}ThroughputNoData",
            f"absent({requests})",
            for_,
            labels,
            f"{t.name}: no {total} series for its routes: the service is not scraped or never served "
            f"them, so its throughput floor cannot be judged ({self.origin(t)})",
            runbook,
            t,
            None,
        )
        alert.cases = [Case("no series", [], True), self.throughput_cases(t, bound, ">")[1]]

    def stat_rule(
        self, t: TargetPlan, stat: str, op: str, value: float, rec: dict[str, str], sels: list[str]
    ) -> tuple[str, str, str, str, set[str]]:
        """(alert name, expression, panel query, panel unit, recording rules it reads) of one bound."""
        bad, limit, hist, name = FAILS_WHEN[op], number(value), self.svc.latency_histogram, camel(t.name)
        if stat in QUANTILES:
            measured = f"histogram_quantile({QUANTILES[stat]}, {rec['latency_bucket']})"
            guard = self.guard("sum(" + rec["latency_bucket"] + '{le="+Inf"})')
            base = f"{self.prefix}{name}{camel(stat.replace('.', '_'))}Latency"
            return base, f"{measured} {bad} {limit}{guard}", measured, "s", {rec["latency_bucket"]}
        if stat == "avg":
            count_rate = self.rate_sum(hist + "_count", sels)
            measured = f"{self.rate_sum(hist + '_sum', sels)} / {count_rate}"
            expr = f"({measured}) {bad} {limit}{self.guard(count_rate)}"
            return f"{self.prefix}{name}AvgLatency", expr, measured, "s", set()
        if stat in ("error_rate", "success_rate"):
            ratio = f"{rec['errors']} / {rec['requests']}"
            measured = ratio if stat == "error_rate" else f"1 - {ratio}"
            kind = "ErrorRate" if stat == "error_rate" else "SuccessRate"
            return (
                f"{self.prefix}{name}{kind}",
                f"({measured}) {bad} {limit}",
                measured,
                "percentunit",
                {rec["requests"], rec["errors"]},
            )
        measured = f"sum({rec['requests']})"  # throughput: absent (not scraped) is no rate, see no_data
        return (
            f"{self.prefix}{name}Throughput",
            f"{measured} {bad} {limit}",
            measured,
            "reqps",
            {rec["requests"]},
        )

    def target_records(self, t: TargetPlan, rec: dict[str, str], used: set[str], sels: list[str]) -> None:
        """The recording rules a target's alerts read, in a fixed order."""
        hist, total = self.svc.latency_histogram, self.svc.requests_total
        if rec["latency_bucket"] in used:
            self.records.append((rec["latency_bucket"], self.rate_sum(hist + "_bucket", sels, by="le")))
        if rec["requests"] in used:
            self.records.append((rec["requests"], self.rate_sum(total, sels)))
        if rec["errors"] in used:
            # 0, not absent, while nothing fails: the ratio and its panels read 0 on a healthy service
            err_sels = self.selectors(t.endpoints, service.error_matcher(self.plan))
            self.records.append((rec["errors"], f"{self.rate_sum(total, err_sels)} or vector(0)"))

    def guard(self, rate: str) -> str:
        """`and` the service gets at least min_rate requests/s: no page on a few late requests."""
        return f" and on() {rate} >= {number(self.min_rate)}" if self.min_rate > 0 else ""

    def origin(self, t: TargetPlan) -> str:
        """Where a target is written: the spec file and the target's name (no line number)."""
        return f"{self.plan.file}, target {t.name}"

    def describe(self, t: TargetPlan, stat: str, text: str) -> str:
        return f"{t.name}: {stat} must stay {text} ({self.origin(t)})"

    def external(self, t: TargetPlan, for_: float, labels: dict[str, str], runbook: str | None) -> None:
        assert t.external is not None
        promql = t.external.promql
        if not promql:
            return  # a JSON file another tool writes: judged by `perfspec check` only
        record = f"perfspec:{self.scope}:{t.ident}:value"
        self.records.append((record, promql))
        op, value = t.external.bound.op, t.external.bound.value
        alert = self.add(
            f"{self.prefix}{camel(t.name)}",
            f"{record} {FAILS_WHEN[op]} {number(value)}",
            for_,
            labels,
            f"{t.name}: {t.external.metric} must stay {t.external.bound.text} ({self.origin(t)})",
            runbook,
            t,
            {"title": t.name, "query": record, "threshold": value, "unit": ""},
            description=f"perfspec target {t.name!r} from {self.plan.file}",
        )
        alert.cases = self.value_cases(record, FAILS_WHEN[op], value)

    # --- input series for the unit tests ------------------------------------------------------

    def labels_of(self, t: TargetPlan, extra: dict[str, str] | None = None) -> str:
        """The series labels of the target's first endpoint, for test input."""
        ep = next(self.plan.endpoints[n] for n in t.endpoints if self.plan.endpoints[n].method != "WS")
        labels = {
            **self.svc.matchers,
            self.svc.route_label: ep.route,
            self.svc.method_label: ep.method,
            **(extra or {}),
        }
        return "{" + ", ".join(f"{k}={promql_string(v)}" for k, v in sorted(labels.items())) + "}"

    def latency_cases(self, t: TargetPlan, q: float, bound: float, op: str) -> list[Case] | None:
        """All observations in one bucket: above the bound (fires) and below it (quiet)."""
        edges = [0.0, *self.buckets]
        upper = op in ("<", "<=")
        # a bucket whose interpolated quantile lies strictly on the failing side of the bound
        bad = [
            (lo, hi)
            for lo, hi in zip(edges, edges[1:], strict=False)
            if (lo + q * (hi - lo) > bound if upper else lo + q * (hi - lo) < bound)
        ]
        good = [
            (lo, hi)
            for lo, hi in zip(edges, edges[1:], strict=False)
            if (lo + q * (hi - lo) < bound if upper else lo + q * (hi - lo) > bound)
        ]
        if not bad or not good:
            return None
        fire, quiet = (bad[0], good[-1]) if upper else (bad[-1], good[0])
        n = self.steps(self.alert_for(t))
        cases = [
            Case(f"every request takes {duration(fire[1])}", self.bucket_series(t, fire[1], n), True),
            Case(f"every request takes {duration(quiet[1])}", self.bucket_series(t, quiet[1], n), False),
        ]
        if self.min_rate > 0:  # as slow, but too few requests to page on
            few = self.min_rate * self.step / 2
            cases.append(
                Case(
                    f"as slow, but {number(self.min_rate / 2)} requests/s: too few to page on",
                    self.bucket_series(t, fire[1], n, few),
                    False,
                )
            )
        return cases

    def alert_for(self, t: TargetPlan | None) -> float:
        if t is not None:
            opts = t.alert
            if opts and not isinstance(opts, bool) and opts.for_:
                return opts.for_.value
        return self.cfg.from_targets.for_.value

    def bucket_series(self, t: TargetPlan, at: float, n: int, per_step: float = 600) -> list[tuple[str, str]]:
        name = self.svc.latency_histogram + "_bucket"
        out = []
        for le in [*self.buckets, math.inf]:
            rate = number(round(per_step, 6)) if le >= at else "0"
            le_text = "+Inf" if le == math.inf else number(le)
            out.append((f"{name}{self.labels_of(t, {'le': le_text})}", f"0+{rate}x{n}"))
        return out

    def avg_cases(self, t: TargetPlan, bound: float, op: str) -> list[Case]:
        n = self.steps(self.alert_for(t))
        hist = self.svc.latency_histogram
        hi, lo = (bound * 2 or 1.0), bound / 2
        fire, quiet = (hi, lo) if op in ("<", "<=") else (lo, hi)
        return [
            Case(
                f"average {number(v)}s",
                [
                    (f"{hist}_sum{self.labels_of(t)}", f"0+{number(600 * v)}x{n}"),
                    (f"{hist}_count{self.labels_of(t)}", f"0+600x{n}"),
                ],
                f,
            )
            for v, f in ((fire, True), (quiet, False))
        ]

    def ratio_cases(self, t: TargetPlan, stat: str, bound: float, op: str) -> list[Case]:
        n = self.steps(self.alert_for(t))
        error_bound = bound if stat == "error_rate" else 1 - bound
        upper = (op in ("<", "<=")) == (stat == "error_rate")  # True: fewer errors is better
        worse = min(1.0, error_bound + max(0.01, error_bound)) if upper else error_bound / 2
        better = error_bound / 2 if upper else min(1.0, error_bound + (1 - error_bound) / 2)
        total = self.svc.requests_total
        bad_status = "500" if matches(self.svc.error_status, "500") else "599"
        cases = []
        for ratio, fires in ((worse, True), (better, False)):
            errs = int(round(1000 * ratio))
            ok_series = f"{total}{self.labels_of(t, {self.svc.status_label: '200'})}"
            bad_series = f"{total}{self.labels_of(t, {self.svc.status_label: bad_status})}"
            cases.append(
                Case(
                    f"{errs} of 1000 requests fail",
                    [(ok_series, f"0+{1000 - errs}x{n}"), (bad_series, f"0+{errs}x{n}")],
                    fires,
                )
            )
        return cases

    def throughput_cases(self, t: TargetPlan, bound: float, op: str) -> list[Case]:
        n = self.steps(self.alert_for(t))
        total = self.svc.requests_total
        lo, hi = bound / 2, bound * 2 or 1.0
        fire, quiet = (lo, hi) if op in (">", ">=") else (hi, lo)
        ok = f"{total}{self.labels_of(t, {self.svc.status_label: '200'})}"

        def series(rate: float) -> list[tuple[str, str]]:
            return [(ok, f"0+{number(round(rate * self.step, 6))}x{n}")]

        floor = op in (">", ">=")
        absent = [Case("no series (not scraped: its NoData alert says so)", [], False)] if floor else []
        return [
            Case(f"{number(fire)} requests/s", series(fire), True),
            Case(f"{number(quiet)} requests/s", series(quiet), False),
            *absent,
        ]

"""Prometheus backend: alerting and recording rules, promtool unit tests, a Grafana dashboard.

Rules are built as data and serialised (never templated): spec strings reach the YAML as
scalars, PromQL string literals are escaped, and annotation text is escaped for Prometheus's
Go templates. Every derived alert gets unit tests: input series that must fire it after its
`for` duration, series that must not, and a check that it is still pending before `for` ends.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

from ...plan import Plan, TargetPlan
from .. import Artifact, YamlDumper, header

QUANTILES = {"p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p99.9": 0.999}
FAILS_WHEN = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!="}
STEP = 60  # seconds between input samples and between rule evaluations in the unit tests
DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]


def duration(seconds: float) -> str:
    """A Prometheus duration: 300 -> 5m, 0.5 -> 500ms."""
    ms = int(round(seconds * 1000))
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def promql_string(text: str) -> str:
    """A double-quoted PromQL string literal."""
    return json.dumps(text, ensure_ascii=False)


def regex_escape(text: str) -> str:
    """Escape RE2 metacharacters so a route matches literally."""
    return "".join("\\" + c if c in "\\.+*?()|[]{}^$" else c for c in text)


def go_text(text: str) -> str:
    """Annotation text that Prometheus's template engine prints literally."""
    return text.replace("{{", '{{ "{{" }}')


def camel(text: str) -> str:
    words = [w for w in "".join(c if c.isascii() and c.isalnum() else " " for c in text).split()]
    out = "".join(w[:1].upper() + w[1:] for w in words)
    return out if out and not out[0].isdigit() else "T" + out


@dataclass
class Case:
    """One unit-test group: input series, and whether the alert fires on them."""

    name: str
    series: list[tuple[str, str]]
    fires: bool


@dataclass
class Alert:
    name: str
    expr: str
    for_: float
    labels: dict[str, str]
    annotations: dict[str, str]
    cases: list[Case] = field(default_factory=list)
    panel: dict[str, Any] | None = None  # title, query, threshold, unit
    note: str | None = None  # why it has no generated test


class Rules:
    """Everything the rule file, its tests and the dashboard are made of, for one spec."""

    def __init__(self, plan: Plan) -> None:
        assert plan.alerts is not None
        self.plan, self.cfg = plan, plan.alerts
        self.svc = self.cfg.service
        self.window = duration(self.cfg.from_targets.window.value)
        self.buckets = [b.value for b in self.svc.buckets] if self.svc.buckets else DEFAULT_BUCKETS
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
        out = [f"{k}={promql_string(v)}" for k, v in sorted(self.svc.matchers.items())]
        for k, v in (extra or {}).items():
            out.append(f"{k}{v}")
        return out

    def selectors(self, endpoints: list[str], extra: dict[str, str] | None = None) -> list[str]:
        """One label selector per route the endpoints use; their methods in a regex."""
        routes: dict[str, set[str]] = {}
        for name in endpoints:
            ep = self.plan.endpoints[name]
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
            labels = self.matchers(
                {
                    self.svc.route_label: f"={promql_string(route)}",
                    self.svc.method_label: method,
                    **(extra or {}),
                }
            )
            out.append("{" + ", ".join(labels) + "}")
        return out

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

    # --- alerts derived from targets ----------------------------------------------------------

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
        if not t.endpoints or t.profile is not None or t.measure != "latency":
            return  # SQL-only, scoped to a test profile, or TTFB: no service metric to alert on
        sels = self.selectors(t.endpoints)
        if not sels:
            return
        ident = t.ident
        is_error = {self.svc.status_label: f"=~{promql_string(self.svc.error_status)}"}
        err_sels = self.selectors(t.endpoints, is_error)
        hist, total = self.svc.latency_histogram, self.svc.requests_total
        rec_bucket = f"perfspec:{self.scope}:{ident}:latency_bucket:rate{self.window}"
        rec_req = f"perfspec:{self.scope}:{ident}:requests:rate{self.window}"
        rec_err = f"perfspec:{self.scope}:{ident}:errors:rate{self.window}"
        used: set[str] = set()
        for st in t.stats:
            if st.severity != "fail":
                continue
            bad = FAILS_WHEN[st.op]
            what = self.describe(t, st.stat, st.text)
            if st.stat in QUANTILES:
                used.add(rec_bucket)
                q = QUANTILES[st.stat]
                measured = f"histogram_quantile({q}, {rec_bucket})"
                alert = self.add(
                    f"{self.prefix}{camel(t.name)}{camel(st.stat.replace('.', '_'))}Latency",
                    f"{measured} {bad} {number(st.value)}",
                    for_,
                    labels,
                    what,
                    runbook,
                    t,
                    {"title": f"{t.name}: {st.stat}", "query": measured, "threshold": st.value, "unit": "s"},
                )
                alert.cases = self.latency_cases(t, q, st.value, st.op) or []
                if not alert.cases:
                    alert.note = (
                        f"no test: {st.text} cannot be told apart with buckets "
                        f"{[duration(b) for b in self.buckets]}"
                    )
            elif st.stat == "avg":
                measured = f"{self.rate_sum(hist + '_sum', sels)} / {self.rate_sum(hist + '_count', sels)}"
                alert = self.add(
                    f"{self.prefix}{camel(t.name)}AvgLatency",
                    f"({measured}) {bad} {number(st.value)}",
                    for_,
                    labels,
                    what,
                    runbook,
                    t,
                    {"title": f"{t.name}: avg", "query": measured, "threshold": st.value, "unit": "s"},
                )
                alert.cases = self.avg_cases(t, st.value, st.op)
            elif st.stat in ("error_rate", "success_rate"):
                used.update((rec_req, rec_err))
                ratio = f"{rec_err} / {rec_req}"
                measured = ratio if st.stat == "error_rate" else f"1 - {ratio}"
                kind = "ErrorRate" if st.stat == "error_rate" else "SuccessRate"
                alert = self.add(
                    f"{self.prefix}{camel(t.name)}{kind}",
                    f"({measured}) {bad} {number(st.value)}",
                    for_,
                    labels,
                    what,
                    runbook,
                    t,
                    {
                        "title": f"{t.name}: {st.stat}",
                        "query": measured,
                        "threshold": st.value,
                        "unit": "percentunit",
                    },
                )
                alert.cases = self.ratio_cases(t, st.stat, st.value, st.op)
            elif st.stat == "throughput":
                used.add(rec_req)
                measured = f"(sum({rec_req}) or vector(0))"
                alert = self.add(
                    f"{self.prefix}{camel(t.name)}Throughput",
                    f"{measured} {bad} {number(st.value)}",
                    for_,
                    labels,
                    what,
                    runbook,
                    t,
                    {
                        "title": f"{t.name}: throughput",
                        "query": measured,
                        "threshold": st.value,
                        "unit": "reqps",
                    },
                )
                alert.cases = self.throughput_cases(t, st.value, st.op)
        if rec_bucket in used:
            self.records.append((rec_bucket, self.rate_sum(hist + "_bucket", sels, by="le")))
        if rec_req in used:
            self.records.append((rec_req, self.rate_sum(total, sels)))
        if rec_err in used:
            self.records.append((rec_err, self.rate_sum(total, err_sels)))

    def origin(self, t: TargetPlan) -> str:
        """Where a target is written: the spec file and the target's name (no line number)."""
        return f"{self.plan.file}, target {t.name}"

    def describe(self, t: TargetPlan, stat: str, text: str) -> str:
        return f"{t.name}: {stat} must stay {text} ({self.origin(t)})"

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

    def external(self, t: TargetPlan, for_: float, labels: dict[str, str], runbook: str | None) -> None:
        promql = t.extra.get("source", {}).get("promql")
        if not promql:
            return  # a JSON file another tool writes: judged by `perfspec check` only
        record = f"perfspec:{self.scope}:{t.ident}:value"
        self.records.append((record, promql))
        op, value = t.extra["op"], t.extra["value"]
        alert = self.add(
            f"{self.prefix}{camel(t.name)}",
            f"{record} {FAILS_WHEN[op]} {number(value)}",
            for_,
            labels,
            f"{t.name}: {t.extra['metric']} must stay {t.extra['text']} ({self.origin(t)})",
            runbook,
            t,
            {"title": t.name, "query": record, "threshold": value, "unit": ""},
            description=f"perfspec target {t.name!r} from {self.plan.file}",
        )
        alert.cases = self.value_cases(record, FAILS_WHEN[op], value)

    # --- explicit alerts and SLO burn rates ---------------------------------------------------

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

    def slo(self) -> None:
        slo = self.cfg.slo
        assert slo is not None
        budget = 1 - slo.availability.value
        period_h = slo.period.value / 3600
        longs = [w.value for w in slo.windows] if slo.windows else [3600.0, 21600.0]
        # the SRE workbook's multiwindow, multi-burn-rate alerts: page on 2 % / 5 % of the budget
        # spent in the long windows, ticket on 10 % in 1 d and 3 d; short window = long / 12
        pages = list(zip(longs, (0.02, 0.05), strict=False))
        tickets = [(86400.0, 0.10), (259200.0, 0.10)]
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
                    f"sum(rate({self.svc.requests_total}{{{', '.join(errors)}}}[{d}])) / "
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
            bad_status = "500" if _matches(self.svc.error_status, "500") else "599"
            alert.cases = [
                Case(
                    "all requests fail",
                    [(f"{total}{{{lab('200')}}}", "0+0x300"), (f"{total}{{{lab(bad_status)}}}", "0+600x300")],
                    True,
                ),
                Case(
                    "no request fails",
                    [(f"{total}{{{lab('200')}}}", "0+600x300"), (f"{total}{{{lab(bad_status)}}}", "0+0x300")],
                    False,
                ),
            ]
            self.alerts.append(alert)

    # --- input series for the unit tests ------------------------------------------------------

    def steps(self, for_: float) -> int:
        """Samples to cover the rate window, the `for` duration and a margin."""
        return int(math.ceil((for_ + self.cfg.from_targets.window.value) / STEP)) + 5

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
        return [
            Case(f"every request takes {duration(fire[1])}", self.bucket_series(t, fire[1], n), True),
            Case(f"every request takes {duration(quiet[1])}", self.bucket_series(t, quiet[1], n), False),
        ]

    def alert_for(self, t: TargetPlan | None) -> float:
        if t is not None:
            opts = t.alert
            if opts and not isinstance(opts, bool) and opts.for_:
                return opts.for_.value
        return self.cfg.from_targets.for_.value

    def bucket_series(self, t: TargetPlan, at: float, n: int) -> list[tuple[str, str]]:
        name = self.svc.latency_histogram + "_bucket"
        out = []
        for le in [*self.buckets, math.inf]:
            rate = "600" if le >= at else "0"
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
        bad_status = "500" if _matches(self.svc.error_status, "500") else "599"
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
            return [(ok, f"0+{number(round(rate * STEP, 6))}x{n}")]

        return [
            Case(f"{number(fire)} requests/s", series(fire), True),
            Case(f"{number(quiet)} requests/s", series(quiet), False),
        ]

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


def _matches(pattern: str, status: str) -> bool:
    import re

    try:
        return re.fullmatch(pattern, status) is not None
    except re.error:
        return False


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


def test_file(rules: Rules, rule_name: str) -> dict:
    tests = []
    for a in rules.alerts:
        for case in a.cases:
            n_eval = a.for_ + rules.cfg.from_targets.window.value + 2 * STEP
            checks = []
            if case.fires and a.for_ >= 2 * STEP:
                # still pending one step before `for` has passed
                checks.append({"eval_time": duration(a.for_ - STEP), "alertname": a.name, "exp_alerts": []})
            checks.append(
                {
                    "eval_time": duration(n_eval),
                    "alertname": a.name,
                    "exp_alerts": [{"exp_labels": a.labels, "exp_annotations": a.annotations}]
                    if case.fires
                    else [],
                }
            )
            tests.append(
                {
                    "name": f"{a.name}: {case.name} -> {'fires' if case.fires else 'silent'}",
                    "interval": duration(STEP),
                    "input_series": [{"series": s, "values": v} for s, v in case.series],
                    "alert_rule_test": checks,
                }
            )
    return {"rule_files": [rule_name], "evaluation_interval": duration(STEP), "tests": tests}


def dashboard(rules: Rules) -> dict:
    panels = []
    for i, a in enumerate(a for a in rules.alerts if a.panel):
        p = a.panel or {}
        steps = [{"color": "green", "value": None}]
        if p.get("threshold") is not None:
            steps.append({"color": "red", "value": p["threshold"]})
        panels.append(
            {
                "id": i + 1,
                "type": "timeseries",
                "title": p["title"],
                "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "targets": [{"refId": "A", "expr": p["query"], "legendFormat": p["title"]}],
                "fieldConfig": {
                    "defaults": {
                        "unit": p.get("unit") or "short",
                        "thresholds": {"mode": "absolute", "steps": steps},
                        "custom": {"thresholdsStyle": {"mode": "line"}},
                    },
                    "overrides": [],
                },
                "description": f"alert {a.name}; {a.annotations.get('summary', '')}",
            }
        )
    return {
        "title": f"perfspec: {rules.plan.name}",
        "uid": f"perfspec-{rules.plan.stem}"[:40],
        "schemaVersion": 39,
        "editable": True,
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}
            ]
        },
        "tags": ["perfspec"],
        "panels": panels,
    }


def _yaml(data: dict) -> str:
    return yaml.dump(data, Dumper=YamlDumper, sort_keys=False, allow_unicode=True, width=1000,
                     default_flow_style=False)


class PrometheusBackend:
    name = "prometheus"

    def emit(self, plan: Plan) -> list[Artifact]:
        if plan.alerts is None:
            return []
        rules = Rules(plan)
        if not rules.alerts:
            return []
        src = plan.sources["alerts"]
        notes = [f"# {a.name}: {a.note}" for a in rules.alerts if a.note]
        rule_text = header(plan, "#") + "\n" + _yaml(rule_file(rules))
        test_text = (
            header(plan, "#") + "\n# promtool test rules: every alert fires on its bad input "
            "after `for`, and stays silent on good input\n"
            + "".join(n + "\n" for n in notes)
            + _yaml(test_file(rules, "alerts.rules.yml"))
        )
        board = json.dumps(dashboard(rules), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        folder = plan.folder
        return [
            Artifact(folder / PurePosixPath("alerts.rules.yml"), rule_text, src),
            Artifact(folder / PurePosixPath("alerts.test.yml"), test_text, src),
            Artifact(folder / PurePosixPath("grafana-dashboard.json"), board, src),
        ]

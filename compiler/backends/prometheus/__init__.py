"""Prometheus backend: alerting and recording rules, promtool unit tests, a Grafana dashboard.

Rules are built as data and serialised (never templated): spec strings reach the YAML as
scalars, PromQL string literals are escaped, and annotation text is escaped for Prometheus's
Go templates. Every derived alert gets unit tests: input series that must fire it after its
`for` duration, series that must not, and a check that it is still pending before `for` ends.

One module per kind of rule, as Sloth separates them: `derived` (alerts from targets),
`slo` (burn rates), `explicit` (`alerts.rules`), assembled by `rules.Rules`; then `unit_tests`
(promtool tests) and `dashboard`. `common` holds the text forms they share.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath

import yaml

from ...plan import Plan
from ..base import Artifact, YamlDumper, header
from .dashboard import dashboard
from .rules import Rules, rule_file
from .unit_tests import test_file

__all__ = ["PrometheusBackend", "Rules"]


def _yaml(data: dict) -> str:
    return yaml.dump(
        data, Dumper=YamlDumper, sort_keys=False, allow_unicode=True, width=1000, default_flow_style=False
    )


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

"""promtool unit tests: every alert fires on its bad input after `for`, and stays silent on good
input (and is still pending one step before `for` ends)."""

from __future__ import annotations

from .common import duration
from .rules import Rules


def test_file(rules: Rules, rule_name: str) -> dict:
    tests = []
    for a in rules.alerts:
        for case in a.cases:
            step = rules.step
            n_eval = a.for_ + rules.cfg.from_targets.window.value + 2 * step
            checks = []
            if case.fires and a.for_ >= 2 * step:
                # still pending one step before `for` has passed
                checks.append({"eval_time": duration(a.for_ - step), "alertname": a.name, "exp_alerts": []})
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
                    "interval": duration(rules.step),
                    "input_series": [{"series": s, "values": v} for s, v in case.series],
                    "alert_rule_test": checks,
                }
            )
    return {"rule_files": [rule_name], "evaluation_interval": duration(rules.step), "tests": tests}

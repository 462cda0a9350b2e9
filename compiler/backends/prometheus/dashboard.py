"""The Grafana dashboard: one panel per alert, its threshold drawn."""

from __future__ import annotations

from .rules import Rules


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

"""What each spec key means, for the editor (the JSON Schema's `description`), where the model's
field does not say it itself: by key name wherever it means the same, else per model."""

from __future__ import annotations

from typing import Any

STAT = "a bound on the {what}, e.g. `< 200ms` (latency), `< 1%` (ratio), `> 50/s` (rate); quote it in YAML"
STATS = {
    "avg": "mean latency",
    "min": "smallest latency",
    "max": "largest latency",
    "p50": "median latency",
    "p75": "75th-percentile latency",
    "p90": "90th-percentile latency",
    "p95": "95th-percentile latency",
    "p99": "99th-percentile latency",
    "p99.9": "99.9th-percentile latency",
    "error_rate": "share of failed calls",
    "success_rate": "share of successful calls",
    "throughput": "completed calls per second",
}
METHOD = (
    "the path of a {method} request, with {{var}} placeholders and ${{ENV}} references, "
    "e.g. `/api/v1/items/{{id}}`"
)

BY_NAME = {
    "description": "free text for the people reading the spec; not used by the tools",
    "runbook": "a URL or text telling the person paged what to do",
    "severity": "the alert's severity label, e.g. page or ticket",
    "labels": "extra labels on the alert, e.g. {team: api}",
    "summary": "the alert's one-line summary",
    "headers": "HTTP headers: name -> value (values may hold {var} and ${ENV})",
    "host": "a host of `hosts` (default: http.defaults.host, or the only host)",
    "timeout": "how long a call may take before it fails, e.g. 10s",
    "think_time": "pause between a user's tasks: 1s..3s, or {min, max}",
    "expect": "what counts as success: statuses, body text, JSON fields",
    "retry": "call again on these statuses (409, 429), honouring Retry-After",
    "class": "a class name targets can select (`select: {class: ...}`)",
    "tags": "names targets can select (`select: {tag: ...}`)",
    "warmup": "left out of the statistics at the start (calls or a duration)",
    "prepared": "use a prepared statement (asyncpg) / -M prepared (pgbench)",
    "concurrency": "the concurrency levels to run, e.g. [1, 4, 16]",
    "duration": "how long each concurrency level runs, e.g. 30s",
    "iterations": "calls per concurrency level, all workers together",
    "for": "how long the condition must hold before the alert fires, e.g. 5m",
    "resources": "CPU and memory of each pod (requests = limits)",
    "profile": "a profile name of `profiles`",
    "sql": "the SQL text; $1, $2 take the query's params in order",
    **{
        m: METHOD.format(method=m.upper())
        for m in ("get", "post", "put", "patch", "delete", "head", "options")
    },
    **{k: STAT.format(what=v) for k, v in STATS.items()},
}

BY_MODEL = {
    "Spec": {
        "version": "the spec language's version: 1",
        "hosts": "the services under test: name -> {url: ...}",
        "databases": "PostgreSQL databases: name -> {dsn, pool, setup}",
        "http": "HTTP endpoints, flows of users, data, defaults",
        "sql": "SQL queries benchmarked on a database",
        "profiles": "load profiles: name -> users or rate, duration, stages",
        "targets": "the performance targets every run is judged by",
        "alerts": "Prometheus alerting and recording rules from the targets",
        "capacity": "the question `perfspec capacity` answers: the highest rate at which targets hold",
        "ci": "the CI job perfspec writes (GitHub Actions)",
        "distributed": "the load on a Kubernetes cluster (k6-operator, Locust master and workers)",
    },
    "Alerts": {
        "from_targets": "alerts derived from the targets' bounds",
        "rules": "explicit alert rules",
        "service": "how the service under test names its metrics",
        "slo": "SLO burn-rate alerts",
    },
    "Ci": {"github": "a GitHub Actions workflow"},
    "DataFile": {
        "csv": "a CSV file with a header line, from the spec's folder",
        "json": "a JSON file holding an array of objects, from the spec's folder",
    },
    "Database": {"pool": "the asyncpg pool's settings"},
    "Distributed": {
        "k6": "a k6-operator TestRun",
        "locust": "a Locust master and workers",
        "namespace": "the Kubernetes namespace (default: the current one)",
    },
    "Endpoint": {
        "body": "a raw text body",
        "form": "a form body: field -> value",
        "query": "query string parameters: name -> value",
        "paginate": "follow the pages of a paged answer",
    },
    "Expect": {"status": "the expected statuses, e.g. [200, 201] (429 under rate limiting may be expected)"},
    "Flow": {
        "auth": "HTTP Basic auth built per user",
        "on_start": "endpoints called once, in order, when a user starts",
        "on_stop": "endpoints called once when a user stops (Locust)",
    },
    "FromTargets": {"enabled": "derive alerts from the targets"},
    "GithubCi": {
        "branches": "the branches pushes and pull requests run on",
        "on": "the events that run the job",
        "profile": "the profile CI runs",
        "suites": "the suites CI runs: locust, k6, sql",
    },
    "Http": {
        "defaults": "settings every endpoint inherits unless it sets its own",
        "endpoints": "the HTTP (and WebSocket) calls: name -> request",
    },
    "MetricSource": {"promql": "a PromQL query whose value is judged"},
    "ParamGen": {
        "choice": "one of these values, drawn each call",
        "column": "the CSV column to read",
        "uuid": "a new random UUID each call",
    },
    "Pool": {
        "command_timeout": "how long a statement may run",
        "max_inactive_connection_lifetime": "close a connection idle this long",
        "max_queries": "queries per connection before it is renewed",
        "max_size": "connections at most",
        "min_size": "connections kept open",
        "statement_cache_size": "prepared statements cached per connection",
    },
    "Profile": {
        "rate": "open model: iterations started per second, e.g. 200/s",
        "users": "closed model: concurrent users",
        "stages": "a sequence of ramps and holds",
        "pre_allocated": "VUs k6 allocates before the test (open model)",
    },
    "Query": {
        "expect_plan": "what EXPLAIN must show, e.g. index_scan",
        "iterations_per_worker": "calls per worker at each concurrency level",
    },
    "Resources": {"cpu": "CPU, e.g. 500m or 2", "memory": "memory, e.g. 512Mi or 2Gi"},
    "Retry": {"on": "the statuses to retry, e.g. [409, 429]"},
    "Scaling": {"from": "the smaller profile", "to": "the larger profile"},
    "Selector": {
        "class": "endpoints or queries of this class",
        "endpoint": "these endpoints",
        "flow": "the endpoints of this flow",
        "method": "endpoints of this HTTP method",
        "profile": "the samples of this profile's run",
        "query": "these SQL queries",
        "sql_class": "SQL queries of this class",
        "tag": "endpoints carrying this tag",
    },
    "Sql": {
        "database": "a database of `databases`",
        "defaults": "settings every query inherits",
        "params": "value generators the queries' $1, $2 draw from",
        "queries": "the queries: name -> SQL",
    },
    "SqlDefaults": {"engine": "asyncpg, pgbench or both"},
    "Stage": {
        "for": "how long the stage lasts",
        "hold": "the load held for the stage",
        "over": "the ramp's length",
        "spike": "a sudden jump to this load",
    },
    "Step": {"sql": "one statement of the transaction"},
    "Target": {
        "alert": "the alert this target becomes",
        "measure": "latency (default) or ttfb",
        "metric": "the name of an external metric",
        "name": "the target's name in reports and alerts",
        "scaling": "how throughput grows from one profile to another",
        "select": "which samples are judged",
        "source": "where an external metric's value comes from",
        "value": "a bound on the external value",
        "throughput_per_user": "a bound on throughput per user",
        "warn": "bounds that only warn",
    },
    "TargetAlert": {},
    "ExplicitAlert": {
        "expr": "the PromQL expression that fires the alert",
        "alert": "the alert's name (letters, digits, _)",
    },
    "ServiceMetrics": {
        "latency_histogram": "the service's request-latency histogram metric",
        "requests_total": "the service's request counter metric",
        "route_label": "the label holding the route (endpoint)",
        "method_label": "the label holding the HTTP method",
        "status_label": "the label holding the status code",
    },
    "Slo": {
        "availability": "the objective: the share of good requests, e.g. 99.9%",
        "period": "the SLO's window, e.g. 30d",
    },
    "Upload": {"content_type": "the part's media type, e.g. image/png"},
}


def describe(schema: dict[str, Any]) -> None:
    """Give every property of the schema a description (its own, else one from the tables)."""
    for model, node in [("Spec", schema), *schema.get("$defs", {}).items()]:
        for key, prop in (node.get("properties") or {}).items():
            if "description" not in prop:
                text = BY_MODEL.get(model, {}).get(key) or BY_NAME.get(key)
                if text:
                    prop["description"] = text

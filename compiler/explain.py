"""`perfspec explain`: what a spec will generate and judge, every target with its spec line."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from perfspec.runtime.text import printable

from . import select
from .profiles import profile_duration, profile_kind, profile_peak
from .spec import Spec
from .units import format_value
from .validate import CheckedSpec


@dataclass(frozen=True)
class TargetRow:
    """One judged statistic of one target."""

    index: int
    name: str
    kind: str
    selects: str
    statistic: str
    bound: str
    warn: str
    line: int


def target_rows(checked: CheckedSpec) -> list[TargetRow]:
    spec, src = checked.spec, checked.source
    rows: list[TargetRow] = []
    for i, t in enumerate(spec.targets):
        name = t.name or f"target-{i + 1}"
        if t.kind == "measured":
            assert t.select is not None
            selects = select.describe(t.select)
            if t.measure == "ttfb":
                selects += " (TTFB)"
            warns = dict(t.warn.items()) if t.warn else {}
            stats = t.items()
            for stat, b in stats:
                key = stat
                line = src.line(("targets", i, key))
                w = warns.pop(stat, None)
                rows.append(TargetRow(i, name, "measured", selects, stat, str(b), str(w) if w else "", line))
            for stat, w in warns.items():
                rows.append(
                    TargetRow(
                        i, name, "measured", selects, stat, "", str(w), src.line(("targets", i, "warn", stat))
                    )
                )
            for stat, b in sorted((t.regression or {}).items()):
                rows.append(
                    TargetRow(
                        i,
                        name,
                        "regression",
                        selects,
                        f"{stat} vs baseline",
                        str(b),
                        "",
                        src.line(("targets", i, "regression", stat)),
                    )
                )
        elif t.kind == "scaling":
            assert t.scaling is not None
            rows.append(
                TargetRow(
                    i,
                    name,
                    "scaling",
                    f"{t.scaling.from_} -> {t.scaling.to}",
                    "throughput_per_user",
                    str(t.throughput_per_user),
                    "",
                    src.line(("targets", i, "scaling")),
                )
            )
        else:
            source = (
                t.source.promql
                if t.source and t.source.promql
                else (f"{t.source.json_} {t.source.path}" if t.source else "")
            )
            rows.append(
                TargetRow(
                    i,
                    name,
                    "external",
                    f"{t.metric}: {source}",
                    "value",
                    str(t.value),
                    "",
                    src.line(("targets", i, "metric")),
                )
            )
    return rows


WHAT = {
    "locustfile.py": "Locust: closed-model profiles",
    "k6.js": "k6: every profile (the only tool for open-model ones)",
    "sql_bench.py": "SQL benchmark of the queries (asyncpg engine; runs the pgbench scripts)",
    "alerts.rules.yml": "Prometheus recording and alerting rules",
    "alerts.test.yml": "promtool unit tests of every alert",
    "grafana-dashboard.json": "Grafana dashboard of the alerted series",
    "targets.json": "the resolved targets the checker judges",
    "github-workflow.yml": "GitHub Actions workflow (copy to .github/workflows/)",
}


def artifacts(checked: CheckedSpec) -> list[tuple[str, str]]:
    """(file, what) for exactly what `perfspec build` writes for this spec: the backends' output."""
    from .backends import all_backends
    from .plan import build_plan

    plan = build_plan(checked)
    out = []
    for backend in all_backends().values():
        for art in backend.emit(plan):
            what = WHAT.get(art.path.name, backend.name)
            if art.path.parent.name == "pgbench":
                what = "pgbench custom script (the pgbench engine)"
            elif art.shared:
                what = f"{backend.name} support module, shared by every spec's files"
            out.append((f"generated/{art.path}", what))
    return out


def profile_rows(spec: Spec) -> list[tuple[str, str, str, str, str]]:
    """(profile, model, peak, duration, measured by) per profile."""
    rows = []
    for name, prof in sorted(spec.profiles.items()):
        model = profile_kind(prof) or "?"
        peak = profile_peak(prof)
        total = profile_duration(prof)
        tools = prof.tools or (["locust", "k6"] if model == "closed" else ["k6"])
        if model == "open":
            by = (
                "k6 (arrival-rate executor: requests start on schedule while a user is free; "
                f"more than {prof.max_dropped.text} dropped fails latency targets)"
            )
        else:
            by = " + ".join(tools) + " (closed model: stalls hide in the users' pace)"
        rows.append(
            (
                name,
                model,
                peak.text if peak else "?",
                format_value(total, "duration") if total is not None else "?",
                by,
            )
        )
    return rows


def render(checked: CheckedSpec, console) -> None:
    from rich.table import Table

    spec = checked.spec
    console.print(Text.assemble((spec.name, "bold"), f" — {printable(checked.file)}"))
    if spec.description:
        for line in spec.description.rstrip("\n").split("\n"):  # lines as written, each one escaped
            console.print(printable(line))
    t = Table(title="Generated artifacts", show_lines=False)
    t.add_column("artifact")
    t.add_column("what")
    for art, why in artifacts(checked):
        t.add_row(art, why)
    console.print(t)
    if spec.http is not None:
        e = Table(title="HTTP endpoints")
        for col in ("endpoint", "request", "class", "weight", "line"):
            e.add_column(col)
        for name, ep in sorted(spec.http.endpoints.items()):
            e.add_row(
                name,
                f"{ep.method} {ep.path}",
                ep.class_ or "",
                str(ep.weight),
                str(checked.source.line(("http", "endpoints", name))),
            )
        console.print(e)
    if spec.profiles:
        p = Table(title="Load profiles")
        for col in ("profile", "model", "peak", "duration", "measured by"):
            p.add_column(col)
        for row in profile_rows(spec):
            p.add_row(*row)
        console.print(p)
    if spec.sql is not None:
        console.print(sql_table(checked))
    tt = Table(title="Targets")
    for col in ("#", "target", "kind", "selects", "statistic", "fail if not", "warn if not", "line"):
        tt.add_column(col)
    for r in target_rows(checked):
        tt.add_row(
            str(r.index + 1),
            r.name,
            r.kind,
            r.selects,
            r.statistic,
            r.bound,
            r.warn,
            f"{checked.file}:{r.line}",
        )
    console.print(tt)
    for w in checked.warnings:
        console.print(w.format(), style="yellow")


ENGINES = {
    "asyncpg": "asyncpg (an application's driver and pool)",
    "pgbench": "pgbench (the C reference client)",
    "both": "asyncpg and pgbench, each judged on its own",
}


def sql_table(checked: CheckedSpec):
    """Per query: what it runs (a statement, a transaction, a mix), which engine measures it, its
    load and the plan it must show (a rich Table)."""
    from rich.table import Table

    spec = checked.spec
    assert spec.sql is not None
    q = Table(title="SQL queries")
    for col in ("query", "class", "runs", "engine", "workers", "load", "expected plan", "line"):
        q.add_column(col)
    for name, qu in sorted(spec.sql.queries.items()):
        plan = ""
        if qu.expect_plan is not None:
            e = qu.expect_plan
            uses = ["uses index"] if e.uses_index is True else [f"uses {e.uses_index}"] * bool(e.uses_index)
            plan = "; ".join(
                [
                    *uses,
                    *(["no seq scan"] if e.no_seq_scan else []),
                    *(f"index scan on {t}" for t in e.index_scan_on),
                    *(f"no seq scan on {t}" for t in e.no_seq_scan_on),
                ]
            )
        if qu.steps is not None:
            runs = f"transaction of {len(qu.steps)} statements"
            runs += f", {qu.isolation}" if qu.isolation else ""
        elif qu.mix is not None:
            total = sum(qu.mix.values())
            runs = "mix: " + ", ".join(f"{p} {w * 100 / total:.0f}%" for p, w in qu.mix.items())
        else:
            runs = "statement" + (f" ({', '.join(qu.params)})" if qu.params else "")
        if qu.retries:
            runs += f", {qu.retries} retries"
        load = f"{qu.rate.text} (open model)" if qu.rate is not None else "closed"
        engine = ENGINES[qu.engine or spec.sql.defaults.engine]
        workers = ",".join(str(w) for w in select.query_levels(spec, name))
        q.add_row(
            name,
            qu.class_ or "",
            runs,
            engine,
            workers,
            load,
            plan,
            str(checked.source.line(("sql", "queries", name))),
        )
    return q

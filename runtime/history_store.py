"""The run history: one small record per judged run, in files or in PostgreSQL.

A record holds what later runs compare with, never raw results: per target and tool the
statistics, the sample count, the merged histogram and a per-second series, plus the run's
spec, profile, tools, commit, branch and whether the run passed. Files: `history.json` in each
run's folder, `<results>/<run-id>/history.json` (what a CI cache keeps between jobs: the
`results/*/history.json` files, not the raw results). PostgreSQL (`--history postgresql://...`):
one row per run in `perfspec_history`, created by a numbered migration on first use.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .contracts import TargetsFile
from .measured import measure, merge, select
from .results import Series
from .verdict import QUANTILES

FORMAT = "perfspec-history/1"
STATS = (*QUANTILES, "avg", "max", "error_rate", "throughput")


class HistoryError(Exception):
    """A history that cannot be read or written: says which and why."""


@dataclass
class Record:
    run_id: str
    spec: str
    profile: str | None
    started: float
    passed: bool
    commit: str | None = None
    branch: str | None = None
    note: str | None = None
    # target -> tool -> {count, failures, elapsed, stats: {stat: value}, histogram, seconds}
    targets: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)  # target -> pass | warn | fail

    def to_json(self) -> dict:
        return {"format": FORMAT, **self.__dict__}

    @classmethod
    def from_json(cls, d: Any, where: str) -> Record:
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            got = d.get("format") if isinstance(d, dict) else type(d).__name__
            raise HistoryError(f"{where}: not a {FORMAT} record (format {got!r})")
        try:
            return cls(
                str(d["run_id"]),
                str(d["spec"]),
                d.get("profile"),
                float(d["started"]),
                bool(d["passed"]),
                d.get("commit"),
                d.get("branch"),
                d.get("note"),
                dict(d.get("targets") or {}),
                dict(d.get("verdicts") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise HistoryError(f"{where}: a history record without {exc}") from None

    def value(self, target: str, tool: str, stat: str) -> float | None:
        got = ((self.targets.get(target) or {}).get(tool) or {}).get("stats") or {}
        value = got.get(stat)
        return float(value) if isinstance(value, int | float) else None


def summary(
    targets: TargetsFile, series: list[Series], manifest: dict, verdicts: list, passed: bool
) -> Record:
    """This run's record: each measured target's selection, per tool, as the judge measured it."""
    record = Record(
        str(manifest.get("run_id")),
        str(manifest.get("spec")),
        manifest.get("profile"),
        float(manifest.get("started") or 0),
        passed,
        manifest.get("commit"),
        manifest.get("branch"),
        manifest.get("note"),
        verdicts={v.name: v.status for v in verdicts},
    )
    for t in targets.targets:
        if t.kind != "measured":
            continue
        chosen = select(t, series)
        for tool in sorted({s.tool for s in chosen}):
            part = merge([s for s in chosen if s.tool == tool])
            if not part.count:
                continue
            stats = {stat: measure(stat, part, t.measure)[0] for stat in STATS}
            record.targets.setdefault(t.name, {})[tool] = {
                "count": part.count,
                "failures": part.failures,
                "elapsed": part.elapsed,
                "stats": {k: v for k, v in stats.items() if v is not None},
                "histogram": (part.ttfb if t.measure == "ttfb" else part.histogram).to_list(),
                "seconds": [
                    list(row)
                    for row in zip(
                        part.timeline.secs.tolist(),
                        part.timeline.calls.tolist(),
                        part.timeline.fails.tolist(),
                        part.timeline.quantiles((0.95,))[0],
                        strict=True,
                    )
                ],
            }
    return record


def open_store(location: str | Path) -> FileStore | PostgresStore:
    text = str(location)
    if re.match(r"postgres(ql)?://", text):
        return PostgresStore(text)
    return FileStore(Path(text))


class FileStore:
    """A results root: `<run-id>/history.json` per run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __str__(self) -> str:
        return str(self.folder)

    def add(self, record: Record) -> None:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", record.run_id):
            raise HistoryError(f"run id {record.run_id!r} cannot name a history file")
        path = self.folder / record.run_id / "history.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def records(self, spec: str | None = None) -> list[Record]:
        out = []
        for path in sorted(self.folder.glob("*/history.json")) if self.folder.is_dir() else []:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise HistoryError(f"{path}: unreadable history record ({exc})") from None
            record = Record.from_json(data, str(path))
            if spec is None or record.spec == spec:
                out.append(record)
        return sorted(out, key=lambda r: (r.started, r.run_id))


MIGRATIONS = [
    """CREATE TABLE perfspec_history (
        run_id text PRIMARY KEY,
        spec text NOT NULL,
        profile text,
        branch text,
        commit text,
        started double precision NOT NULL,
        passed boolean NOT NULL,
        record jsonb NOT NULL
    )""",
    "CREATE INDEX perfspec_history_spec ON perfspec_history (spec, started)",
]


class PostgresStore:
    """A table `perfspec_history`, one row per run; `perfspec_history_version` holds how many
    of MIGRATIONS have run (each runs once, in a transaction, under an advisory lock)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def __str__(self) -> str:
        from .net import mask

        return mask(self.dsn)

    def _run(self, work):
        try:
            import asyncpg
        except ImportError:
            raise HistoryError("a PostgreSQL history needs asyncpg: pip install 'perfspec[run]'") from None

        async def go():
            try:
                conn = await asyncpg.connect(self.dsn, timeout=10)
            except (OSError, asyncpg.PostgresError) as exc:
                raise HistoryError(f"history database {self}: {exc}") from None
            try:
                await self._migrate(conn)
                return await work(conn)
            finally:
                await conn.close()

        return asyncio.run(go())

    @staticmethod
    async def _migrate(conn) -> None:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(7310251)")
            await conn.execute("CREATE TABLE IF NOT EXISTS perfspec_history_version (version int NOT NULL)")
            done = await conn.fetchval("SELECT max(version) FROM perfspec_history_version") or 0
            for number, statement in enumerate(MIGRATIONS[done:], start=done + 1):
                await conn.execute(statement)
                await conn.execute("INSERT INTO perfspec_history_version VALUES ($1)", number)

    def add(self, record: Record) -> None:
        async def work(conn):
            await conn.execute(
                "INSERT INTO perfspec_history VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) "
                "ON CONFLICT (run_id) DO UPDATE SET record = EXCLUDED.record, passed = EXCLUDED.passed",
                record.run_id,
                record.spec,
                record.profile,
                record.branch,
                record.commit,
                record.started,
                record.passed,
                json.dumps(record.to_json()),
            )

        self._run(work)

    def records(self, spec: str | None = None) -> list[Record]:
        async def work(conn):
            rows = await conn.fetch(
                "SELECT run_id, record::text AS record FROM perfspec_history "
                "WHERE $1::text IS NULL OR spec = $1 ORDER BY started, run_id",
                spec,
            )
            return [Record.from_json(json.loads(r["record"]), f"{self} run {r['run_id']}") for r in rows]

        return self._run(work)

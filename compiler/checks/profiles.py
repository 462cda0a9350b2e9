"""Profile checks: the model, stages, and Little's law against max_users."""

from __future__ import annotations

from .. import select
from ..errors import choices_hint
from ..profiles import profile_peak
from ..spec import Profile
from ..units import UnitError, format_value, parse_ramp


class ProfileChecks:
    """Mixed into Checker (see checks/__init__.py)."""

    def profiles(self) -> None:
        flows = select.flows(self.spec)
        for name, prof in sorted(self.spec.profiles.items()):
            path = ("profiles", name)
            model = self.profile_model(name, prof)
            if prof.flows is not None:
                for i, f in enumerate(prof.flows):
                    if f not in flows:
                        self.error(
                            (*path, "flows", i), f"unknown flow {f!r}", choices_hint(f, flows, "flows")
                        )
            if self.spec.http is None:
                self.error(
                    path,
                    f"profile {name!r} has no HTTP endpoints to load",
                    "add http.endpoints, or remove the profile (SQL load is set per query)",
                    at_key=True,
                )
            if model == "open":
                if prof.tools is not None and "locust" in prof.tools:
                    self.error(
                        (*path, "tools"),
                        f"profile {name!r} is open-model; Locust runs "
                        "closed-model users and cannot measure latency from the intended "
                        "start",
                        "use tools: [k6] (the default for open-model profiles)",
                    )
                if prof.max_users is None:
                    self.error(
                        path,
                        f"open-model profile {name!r} needs max_users",
                        "add max_users: N users (the cap on concurrent requests in flight)",
                        at_key=True,
                    )
                else:
                    self.littles_law(name, prof)
            if model == "closed" and prof.max_users is not None:
                self.error(
                    (*path, "max_users"),
                    "max_users applies to open-model (rate) profiles",
                    "remove it; a closed profile's users are its level",
                )

    def profile_model(self, name: str, prof: Profile) -> str | None:
        """'open' or 'closed', checking the profile's shape on the way."""
        path = ("profiles", name)
        shapes = [k for k in ("users", "rate", "stages") if getattr(prof, k) is not None]
        if len(shapes) != 1:
            self.error(
                path,
                f"profile {name!r} needs exactly one of users, rate, stages "
                f"(has {', '.join(shapes) or 'none'})",
                "e.g. {users: 10, for: 1m} or {rate: 200/s, for: 5m, max_users: 400}",
                at_key=True,
            )
            return None
        if prof.stages is None:
            if prof.for_ is None:
                self.error(
                    path,
                    f"profile {name!r} needs `for` (how long to hold the level)",
                    "add for: 2m",
                    at_key=True,
                )
            if prof.spawn_rate is not None and prof.users is None:
                self.error((*path, "spawn_rate"), "spawn_rate applies to users", "remove it")
            return "closed" if prof.users is not None else "open"
        kinds: set[str] = set()
        if not prof.stages:
            self.error((*path, "stages"), "stages is empty", "add e.g. {hold: 10 users, for: 1m}")
        for i, st in enumerate(prof.stages):
            kind = self.stage((*path, "stages", i), st)
            if kind is not None:
                kinds.add(kind)
        if len(kinds) > 1:
            self.error(
                (*path, "stages"),
                f"profile {name!r} mixes users and rates",
                "a profile is closed (users) or open (rates), not both",
            )
            return None
        if not kinds:
            return None
        return "closed" if kinds == {"users"} else "open"

    def stage(self, spath: tuple, st) -> str | None:
        """One stage's shape; returns the kind of its level (users or rate), None when broken."""
        given = [k for k in ("ramp", "hold", "spike") if getattr(st, k) is not None]
        if len(given) != 1:
            self.error(
                spath,
                "a stage is one of ramp, hold or spike",
                "e.g. {ramp: 0 -> 50 users, over: 30s} or {hold: 50 users, for: 2m}",
            )
            return None
        kind, found = given[0], None
        if kind == "ramp":
            try:
                found = parse_ramp(st.ramp, ("users", "rate"))[1].kind
            except UnitError as exc:
                self.error((*spath, "ramp"), str(exc), exc.hint)
            if st.over is None:
                self.error(spath, "a ramp needs `over` (its duration)", "add over: 30s", at_key=True)
            if st.for_ is not None:
                self.error(
                    (*spath, "for"), "a ramp lasts `over`; `for` is for hold and spike", "rename for to over"
                )
        else:
            level = st.hold if kind == "hold" else st.spike
            assert level is not None
            found = level.kind
            if st.for_ is None:
                self.error(spath, f"a {kind} needs `for` (how long it lasts)", "add for: 1m", at_key=True)
            if st.over is not None:
                self.error(
                    (*spath, "over"), f"a {kind} lasts `for`; `over` is for ramps", "rename over to for"
                )
        for key in ("over", "for_"):
            d = getattr(st, key)
            if d is not None and d.value <= 0:
                self.error((*spath, key.rstrip("_")), "a stage duration must be positive", "write e.g. 30s")
        return found

    def littles_law(self, name: str, prof: Profile) -> None:
        """An arrival rate needs rate x iteration time users in flight (Little's law)."""
        peak = profile_peak(prof)
        assert prof.max_users is not None
        if peak is None or peak.kind != "rate":
            return
        iteration = self.iteration_time(name)
        if iteration is None:
            return
        seconds, basis = iteration
        needed = peak.value * seconds
        if needed > prof.max_users.value:
            self.error(
                ("profiles", name, "max_users"),
                f"{prof.max_users.text} cannot serve {format_value(peak.value, 'rate')}: "
                f"by Little's law {format_value(peak.value, 'rate')} x "
                f"{format_value(seconds, 'duration')} per iteration ({basis}) needs "
                f"{needed:.0f} users in flight",
                f"raise max_users to at least {int(needed) + 1} users, or lower the rate",
            )

    def iteration_time(self, profile: str) -> tuple[float, str] | None:
        """Worst-case time of one iteration from the latency bounds that judge its endpoints."""
        if self.spec.http is None:
            return None
        flows = select.flows(self.spec)
        worst = 0.0
        basis = ""
        for fname in select.profile_flows(self.spec, profile):
            flow = flows[fname]
            tasks = flow.task_weights(self.spec.http.endpoints)
            total_w = sum(tasks.values()) or 1
            t = 0.0
            for ename, w in tasks.items():
                bound = self.latency_bound(ename, profile)
                if bound is not None:
                    t += bound * w / total_w
            think = flow.think_time or self.spec.http.defaults.think_time
            if think is not None:
                t += (think.min.value + think.max.value) / 2
            if t > worst:
                worst, basis = t, f"flow {fname!r}: latency bounds of its tasks + think time"
        return (worst, basis) if worst > 0 else None

    def latency_bound(self, endpoint: str, profile: str) -> float | None:
        values = []
        for t in self.spec.targets:
            if t.select is None:
                continue
            if t.select.profile is not None and t.select.profile != profile:
                continue
            if endpoint not in select.match_endpoints(self.spec, t.select):
                continue
            for stat in ("avg", "p50", "p95"):
                b = getattr(t, stat)
                if b is not None and b.upper:
                    values.append(b.quantity.value)
                    break
        return max(values) if values else None

"""Support module of perfspec's generated locustfiles: the load shape of a spec's profiles.

Written once per output folder beside perfspec_locust.py, which re-exports ProfileShape.
"""

from __future__ import annotations

import os
import sys

from locust import LoadTestShape

if __package__:  # perfspec.runtime.support in perfspec's own tests
    from .perfspec_locust_results import RUN
else:  # beside the generated locustfile, whose folder's parent is on sys.path
    from perfspec_locust_results import RUN


class ProfileShape(LoadTestShape):
    """A spec profile's stages: ramps at their exact rate, holds for their full time.

    $PERFSPEC_PROFILE picks the profile, $PERFSPEC_DURATION (seconds) cuts it short. Locust's own
    `-u/-r/-t` override the profile: with `-u N` the shape runs N users (spawned at `-r`, default
    N/s) for `-t` (default: the profile's length).
    """

    abstract = True
    use_common_options = True
    spec = ""
    default = ""
    profiles: dict[str, list[tuple[str, float, float, float]]] = {}  # kind, start, end, seconds
    flows: dict[str, list[type]] = {}  # profile -> the user classes of its flows

    def __init__(self) -> None:
        super().__init__()
        self.profile = os.environ.get("PERFSPEC_PROFILE") or self.default
        if self.profile not in self.profiles:
            raise SystemExit(
                f"PERFSPEC_PROFILE={self.profile!r} is not a Locust profile of "
                f"{self.spec}: {', '.join(sorted(self.profiles))}"
            )
        self.stages = self.profiles[self.profile]
        self.users = self.flows.get(self.profile) or None  # only the profile's flows run
        self.cap = float(os.environ.get("PERFSPEC_DURATION") or 0)
        RUN.update(spec=self.spec, profile=self.profile)

    def _override(self) -> tuple[int, float, float] | None:
        """-u/-r/-t as given on the command line (or LOCUST_USERS): Locust fills in -u 1 itself
        when it is absent, so only an explicit one replaces the profile."""
        if not _users_given():
            return None
        options = getattr(self.runner.environment, "parsed_options", None) if self.runner else None
        users = int(getattr(options, "num_users", None) or 1)
        length = getattr(options, "run_time", None) or sum(s[3] for s in self.stages)
        return users, float(getattr(options, "spawn_rate", None) or users), float(length)

    def tick(self) -> tuple | None:
        level = self._level(self.get_run_time())
        if level is None or self.users is None:
            return level
        return (*level, self.users)

    def _level(self, elapsed: float) -> tuple[int, float] | None:
        if self.cap and elapsed >= self.cap:
            return None  # PERFSPEC_DURATION (perfspec run --duration) cut the profile short
        override = self._override()
        if override is not None:
            users, rate, length = override
            return (users, rate) if elapsed < length else None
        for kind, start, end, seconds in self.stages:
            if elapsed < seconds:
                if kind == "ramp" and end != start:
                    return int(end), abs(end - start) / seconds  # users per second
                return int(end), max(end, 1.0)  # hold or spike: reach the level at once
            elapsed -= seconds
        return None


def _users_given() -> bool:
    argv = sys.argv[1:]
    return bool(os.environ.get("LOCUST_USERS")) or any(
        a in ("-u", "--users") or a.startswith("--users=") or (a.startswith("-u") and a[2:3].isdigit())
        for a in argv
    )

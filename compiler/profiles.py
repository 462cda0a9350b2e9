"""A profile's shape: its model (closed / open), its peak load and its duration, read the same
way by the checks, the plan and explain."""

from __future__ import annotations

from .spec import Profile
from .units import Quantity, UnitError, parse_ramp


def profile_kind(prof: Profile) -> str | None:
    """'closed', 'open' or None for a malformed profile (already reported)."""
    if prof.users is not None:
        return "closed"
    if prof.rate is not None:
        return "open"
    kinds = set()
    for st in prof.stages or []:
        try:
            if st.ramp is not None:
                kinds.add(parse_ramp(st.ramp, ("users", "rate"))[1].kind)
        except UnitError:
            return None
        for lv in (st.hold, st.spike):
            if lv is not None:
                kinds.add(lv.kind)
    if kinds == {"users"}:
        return "closed"
    if kinds == {"rate"}:
        return "open"
    return None


def profile_peak(prof: Profile) -> Quantity | None:
    """The highest level a profile reaches (users or rate)."""
    levels: list[Quantity] = []
    for q in (prof.users, prof.rate):
        if q is not None:
            levels.append(q)
    for st in prof.stages or []:
        try:
            if st.ramp is not None:
                levels.extend(parse_ramp(st.ramp, ("users", "rate")))
        except UnitError:
            return None
        levels.extend(q for q in (st.hold, st.spike) if q is not None)
    return max(levels, key=lambda q: q.value) if levels else None


def profile_duration(prof: Profile) -> float | None:
    """Total seconds of a profile: ramp-up at spawn_rate, then the full hold."""
    if prof.stages is None:
        if prof.for_ is None:
            return None
        ramp = 0.0
        if prof.users is not None and prof.spawn_rate is not None and prof.spawn_rate.value > 0:
            ramp = prof.users.value / prof.spawn_rate.value
        return ramp + prof.for_.value
    total = 0.0
    for st in prof.stages:
        d = st.over if st.ramp is not None else st.for_
        if d is None:
            return None
        total += d.value
    return total

"""What a run says about itself, beside a target's statistics: a closed model (coordinated
omission), dropped iterations, an aborted, partial or missing tool, users stopped by a failed
on_start, failed calls inside a latency histogram, k6's coarse native histograms."""

from __future__ import annotations

from .contracts import Target, TargetsFile
from .results import Series
from .verdict import LATENCY, Verdict

CO_NOTE = (
    "closed model: a stall delays the users' next requests instead of showing in latency "
    "(coordinated omission); a `rate:` profile measures it"
)


def coarse(chosen: list[Series], v: Verdict) -> tuple[bool, bool]:
    """Latencies read from k6's native histograms (`--k6-output prometheus`) are within a bucket's
    half width: said once, and a latency bound met by less than that margin warns."""
    res = max((float(s.extra.get("resolution") or 0) for s in chosen), default=0.0)
    if not res:
        return False, False
    lost = {
        s.file: (s.extra["missing_requests"], s.extra.get("k6_counted") or 0)
        for s in chosen
        if s.extra.get("missing_requests")
    }
    for missing, counted in lost.values():  # said always; a warning past 0.1% of the requests
        v.reasons.append(
            f"k6 counted {counted:,} requests but {missing:,} never reached Prometheus (its "
            "remote-write output's last push): judged on the rest"
        )
    v.reasons.append(
        f"latencies from k6's native histograms, each within +-{res:.1%} "
        "(`--k6-output ndjson` keeps 3 significant digits)"
    )
    warned = any(missing > 0.001 * counted for missing, counted in lost.values())
    for st in v.stats:
        if (
            st.ok
            and st.unit == "s"
            and st.measured is not None
            and st.limit
            and abs(st.measured - st.limit) <= res * st.limit
        ):
            warned = True
            v.reasons.append(
                f"{st.stat} {st.shown()} is within +-{res:.1%} of its bound: too close to "
                "call at this resolution"
            )
    return False, warned


def on_stop_note(t: Target, series: list[Series], v: Verdict) -> None:
    """What a k6 run does differently for this target, said, not left silent: it never calls the
    on_stop-only endpoints, and beside other flows it takes per-iteration rows by the test's
    iteration number."""
    k6 = [s for s in series if s.kind == "http" and s.tool == "k6"]
    if t.not_in_k6 and k6:
        v.reasons.append(
            f"k6 ran no call of {', '.join(t.not_in_k6)}: on_stop only, and k6 has no "
            "per-user teardown (Locust runs it)"
        )
    for profile in sorted({s.profile for s in k6 if s.profile in t.k6_rows}):
        v.reasons += t.k6_rows[profile]


def stopped_users(meta: dict) -> list[str]:
    """Users that stopped because a call of their on_start failed, per tool and cause."""
    stopped = sorted(meta.get("stopped", {}).items())
    return [
        f"{tool}: {n} user{'s' if n != 1 else ''} stopped: {reason}"
        for tool, causes in stopped
        for reason, n in sorted(causes.items())
    ]


def failed_calls(t: Target, merged: Series, v: Verdict) -> tuple[bool, bool]:
    """Latency histograms hold failed calls too: a target that bounds no error rate must not
    pass on the latency of failures."""
    top = ", ".join(f"{k} x{n}" for k, n in sorted(merged.errors.items(), key=lambda kv: -kv[1])[:3])
    if merged.failures and any(
        not s.ok and s.stat.split(" ")[0] in ("error_rate", "success_rate") for s in v.stats
    ):
        v.reasons.append(f"{merged.failures} of {merged.count} calls failed; commonest causes: {top}")
    if merged.failures and not any(st.stat in ("error_rate", "success_rate") for st in t.stats):
        if merged.failures == merged.count:
            v.reasons.append(f"every one of the {merged.count} calls failed ({top}): no successful samples")
            return True, False
        v.reasons.append(
            f"{merged.failures} of {merged.count} calls failed ({top}) and the target "
            "bounds no error_rate; the latency includes them"
        )
        return False, True
    return False, False


def incomplete(chosen: list[Series], v: Verdict, meta: dict, http: bool) -> tuple[bool, bool]:
    """A tool that did not finish, left no result file, or whose lines were cut off: a run that is
    not whole fails, unless --allow-partial judges what it has (at best warn). Returns (fails,
    warns)."""
    failed = warned = False
    for tool, why in sorted(meta.get("partial", {}).items()):
        if any(s.tool == tool for s in chosen) and meta.get("allow_partial"):
            warned = True  # never a pass on what a tool measured before it stopped
            v.reasons.append(f"{tool} did not finish ({why}): judged on partial results (--allow-partial)")
        elif any(s.tool == tool for s in chosen):
            failed = True  # a CI gate must not go green on a broken run
            v.reasons.append(
                f"{tool} did not finish ({why}): a partial run fails (--allow-partial "
                "judges what it measured, at best as warn)"
            )
    for file, lines in sorted(meta.get("lost", {}).items()):
        if any(s.file == file for s in chosen):
            warned = True
            v.reasons.append(f"{file.rsplit('/', 1)[-1]}: {len(lines)} cut-off or garbled line(s) skipped")
    measured_by = {s.tool for s in chosen}
    for tool, why in sorted(meta.get("missing", {}).items()):
        if http and tool in ("locust", "k6") and tool not in measured_by:
            if meta.get("allow_partial"):
                warned = True
                v.reasons.append(
                    f"{tool} {why}: judged on {', '.join(sorted(measured_by))} alone (--allow-partial)"
                )
            else:  # half the evidence the run promised is not there: a CI gate must not go green
                failed = True
                v.reasons.append(
                    f"{tool} {why}: a run missing a tool's results fails (--allow-partial "
                    f"judges {', '.join(sorted(measured_by))} alone, at best as warn)"
                )
    return failed, warned


def run_conditions(
    t: Target, chosen: list[Series], merged: Series, v: Verdict, targets: TargetsFile, meta: dict
) -> tuple[bool, bool]:
    """What the run says about itself: a closed model, dropped iterations, an aborted or partial
    tool. Returns (fails, warns)."""
    failed = warned = False
    profiles = targets.profiles
    stats = {st.stat for st in t.stats}
    models = {profiles[s.profile].model for s in chosen if s.profile in profiles}
    http = any(s.kind == "http" for s in chosen)
    if http and "closed" in models and stats & LATENCY:
        v.reasons.append(CO_NOTE)
    if "throughput" in stats and "closed" in models:
        warned = True
        v.reasons.append("throughput measured on a closed-model run: it depends on the users' pace")
    for tool, why in sorted(meta.get("aborted", {}).items()):
        if any(s.tool == tool for s in chosen):
            failed = True  # an aborted run judges nothing it did not finish
            v.reasons.append(f"{tool} run aborted: {why}")
    if http and meta.get("stopped"):
        warned = True  # fewer users than the profile ran: not the load the spec asked for
        v.reasons += stopped_users(meta)
    f2, w2 = incomplete(chosen, v, meta, http)
    failed, warned = failed or f2, warned or w2
    for run in meta.get("k6", []):
        dropped = int(run.get("dropped_iterations") or 0)
        if not dropped or not any(s.tool == "k6" and s.file == run["file"] for s in chosen):
            continue
        prof = profiles.get(run.get("profile") or "")
        scheduled = (
            round(prof.mean * prof.seconds)
            if prof is not None and prof.model == "open" and prof.mean and prof.seconds
            else dropped + int(run.get("requests") or 0)
        )
        share = dropped / max(scheduled, dropped, 1)
        limit = prof.max_dropped if prof is not None else 0.01
        judged = bool(stats & (LATENCY | {"throughput"}))
        why = (
            f"k6 dropped {dropped} of {scheduled} scheduled iterations ({share:.1%}): every one of "
            f"the profile's users was busy, so those requests were never sent on schedule; the "
            f"latency shown is only that of the requests sent (the server was too slow for this "
            f"rate, or max_users too low)"
        )
        if judged and share > limit:
            failed = True
            v.reasons.append(
                f"{why}; more than max_dropped {limit:.0%}, so latency and throughput cannot be judged"
            )
        else:
            warned = True
            v.reasons.append(why)
    return failed, warned

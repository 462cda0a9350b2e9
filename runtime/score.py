"""The run's verdict from a weighted score (Keptn's quality gate), when the spec asks for one
(`score: {pass, warn}`): each target's weight times 1 for a pass, 0.5 for a warn, 0 for a fail,
over the weights of all targets; `pass` or more passes, `warn` or more warns, less fails; a
failed key target (`key: true`) fails the run whatever the score."""

from __future__ import annotations

from dataclasses import dataclass

from .contracts import TargetsFile
from .verdict import Verdict

POINTS = {"pass": 1.0, "warn": 0.5, "fail": 0.0}


@dataclass(frozen=True)
class Score:
    share: float  # 0..1
    status: str  # pass | warn | fail
    bounds: tuple[float, float]  # (pass, warn)
    keys: tuple[tuple[str, str], ...]  # (key target, its status)

    def text(self) -> str:
        pass_, warn = self.bounds
        out = f"score {self.share:.1%} (pass >= {pass_:.0%}, warn >= {warn:.0%}): {self.status}"
        failed = [name for name, status in self.keys if status == "fail"]
        if failed:
            out += f"; key target {', '.join(failed)} failed, which fails the run whatever the score"
        elif self.keys:
            out += f"; key targets {', '.join(f'{n} ({s})' for n, s in self.keys)}"
        return out


def score(verdicts: list[Verdict], targets: TargetsFile) -> Score | None:
    """The weighted score of these verdicts, or None when the spec asks for none."""
    if targets.score is None:
        return None
    by_name = {t.name: t for t in targets.targets}
    total = sum(t.weight for t in targets.targets) or 1
    got = sum(by_name[v.name].weight * POINTS[v.status] for v in verdicts if v.name in by_name)
    share = got / total
    keys = tuple((v.name, v.status) for v in verdicts if v.name in by_name and by_name[v.name].key)
    pass_, warn = targets.score
    status = "pass" if share >= pass_ else "warn" if share >= warn else "fail"
    if any(s == "fail" for _, s in keys):
        status = "fail"
    return Score(share, status, targets.score, keys)

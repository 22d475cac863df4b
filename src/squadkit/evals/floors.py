"""Honest floors: a suite's thresholds proposed from its recorded baseline.

The shipped thresholds are the offline model's. A real provider's first recording scores
differently, and a floor set a point or two under one run's mean fails a later run on
sampling noise alone. A floor is an absolute minimum, not the regression check (which
compares paired cases with the baseline at the suite's margin), so the honest floor is one
the recorded model clears unless it really got worse: the lower end of the baseline's
95% interval of the scorer's mean, minus the regression margin, rounded down to two
decimals. `squad eval floors SUITE` shows them beside the current ones; `--write` (or
`squad eval refresh --write-floors`) rewrites those values in `evals/<suite>.yaml` in
place, comments and layout kept, in one atomic replace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..files import atomic_write, display_path, read_text
from ..yaml_lines import replace_scalars
from .errors import EvalConfigError
from .report import EvalReport, read_report
from .suite import Suite


@dataclass(frozen=True)
class Floor:
    """One thresholded scorer: its floor now, the proposed one and what it comes from."""

    scorer: str
    current: float
    proposed: float
    mean: float
    ci_low: float

    def describe(self) -> str:
        change = "unchanged" if self.proposed == self.current else f"was {self.current:.2f}"
        return (
            f"  {self.scorer}: {self.proposed:.2f} ({change}; baseline mean {self.mean:.3f}, "
            f"95% interval from {self.ci_low:.3f})"
        )


def _round_down(value: float) -> float:
    """Down to two decimals, never below 0 (a float's 0.6299999 counts as 0.63)."""
    return max(0.0, math.floor(round(value * 100, 6)) / 100)


def propose_floors(suite: Suite, baseline: EvalReport | None = None) -> list[Floor]:
    """The floors `suite`'s committed baseline (or `baseline`) supports, one per threshold."""
    if baseline is None:
        if not suite.baseline_path.exists():
            raise EvalConfigError(
                f"{display_path(suite.baseline_path)}: no baseline to propose floors from; "
                f"record one first (`squad eval refresh {suite.name}`)"
            )
        baseline = read_report(suite.baseline_path)
    summary = baseline.arms[0].summary
    regression = suite.spec.gate.regression
    margin = regression.margin if regression is not None else 0.0
    floors = []
    for scorer, current in suite.spec.gate.thresholds.items():
        scored = summary.scorers.get(scorer)
        if scored is None:
            raise EvalConfigError(
                f"{display_path(suite.baseline_path)}: no scores of '{scorer}' (a threshold in "
                f"{display_path(suite.path)}); re-record the baseline (`squad eval refresh`)"
            )
        proposed = _round_down(scored.ci_low - margin)
        floors.append(Floor(scorer, current, proposed, scored.mean, scored.ci_low))
    return floors


def write_floors(suite: Suite, floors: list[Floor]) -> bool:
    """Rewrite the changed thresholds in the suite file in place; False if none changed."""
    changed: dict[tuple[str, ...], str] = {
        ("gate", "thresholds", floor.scorer): f"{floor.proposed:.2f}"
        for floor in floors
        if floor.proposed != floor.current
    }
    if not changed:
        return False
    text = read_text(suite.path)
    atomic_write(suite.path, replace_scalars(text, suite.path, changed))
    return True


def recorded_by_provider(baseline: EvalReport) -> bool:
    """Whether a model other than the offline `local/` ones answered the baseline's target:
    then the shipped (offline) thresholds say nothing about it."""
    arm = baseline.arms[0]
    return any(not model.startswith("local/") for model in arm.models.get(arm.prompt.alias, []))


def describe_floors(suite: Suite, floors: list[Floor]) -> str:
    """What `squad eval floors` prints: each proposed floor beside the current one."""
    regression = suite.spec.gate.regression
    margin = regression.margin if regression is not None else 0.0
    lines = [
        f"floors for '{suite.name}' from {display_path(suite.baseline_path)} (the lower end of "
        f"each mean's 95% interval minus the margin {margin:g}, rounded down):",
        *(floor.describe() for floor in floors),
    ]
    return "\n".join(lines)


def unwritten_note(suite: Suite) -> str:
    """What a refresh a provider recorded says when it did not write the floors."""
    return (
        f"note: the thresholds in {display_path(suite.path)} were not set for this model: "
        f"write these with `squad eval floors {suite.name} --write` (or refresh with "
        "--write-floors), gate again, then commit evals/"
    )

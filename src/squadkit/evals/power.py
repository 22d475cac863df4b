"""`squad eval power`: how many cases a suite needs to decide at its margin, before anyone
writes them.

The gate decides a scorer when the interval of the mean per-case delta clears `-margin` on
one side (`stats.cases_to_decide`). How wide that interval is depends on the SD of the
per-case delta, which depends on how many cases a change alters and by how much. Before a
change exists, `power_table` assumes one: a share `disagreement` of the cases change their
score (both ways alike), and a changed case moves as far as two different scores of the
committed baseline typically lie apart (for a pass/fail scorer: 1). That gives the SD of a
neutral change's per-case delta, sqrt(disagreement * E[(x - y)^2 | x != y]), and from it
the cases needed for a neutral change (true delta 0) and a small drop (-margin/2) to pass,
with `stats.POWER`, by the same normal approximation the reports use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING

from .stats import POWER, cases_to_decide, mean

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["PowerRow", "power_rows", "power_table", "spread_of_changes"]


@dataclass(frozen=True)
class PowerRow:
    scorer: str
    baseline_mean: float
    disagreement: float
    sd: float  # SD of the per-case delta of a neutral change
    neutral: int | None  # cases for a true change of 0 to pass (with POWER)
    half_margin: int | None  # cases for a true change of -margin/2 to pass
    smallest_margin: float  # the margin the baseline's case count decides at, for a neutral change


def spread_of_changes(scores: Sequence[float]) -> float:
    """E[(x - y)^2 | x != y] for two cases' scores drawn from `scores`: how far a changed
    case's score typically moves (1 for a pass/fail scorer). 1 when the baseline's scores
    are all equal, the widest a score in [0, 1] can move: without a spread to learn from,
    assume the worst."""
    n = len(scores)
    if n < 2:
        return 1.0
    counts: dict[float, int] = {}
    for value in scores:
        counts[value] = counts.get(value, 0) + 1
    differ = 1 - math.fsum((c / n) ** 2 for c in counts.values())  # P(x != y)
    if differ <= 0:
        return 1.0
    centre = mean(scores)
    variance = math.fsum((v - centre) ** 2 for v in scores) / n
    return min(1.0, 2 * variance / differ)


def power_rows(
    baseline_scores: dict[str, list[float]],
    *,
    margin: float,
    confidence: float,
    disagreements: Sequence[float],
) -> list[PowerRow]:
    """One row per gated scorer and assumed disagreement rate."""
    rows = []
    z = NormalDist().inv_cdf(confidence) + NormalDist().inv_cdf(POWER)
    for scorer, scores in baseline_scores.items():
        moved = spread_of_changes(scores)
        for share in disagreements:
            sd = math.sqrt(share * moved)
            rows.append(
                PowerRow(
                    scorer=scorer,
                    baseline_mean=mean(scores),
                    disagreement=share,
                    sd=sd,
                    neutral=cases_to_decide(sd, 0.0, margin=margin, confidence=confidence),
                    half_margin=cases_to_decide(
                        sd, -margin / 2, margin=margin, confidence=confidence
                    ),
                    smallest_margin=z * sd / math.sqrt(max(1, len(scores))),
                )
            )
    return rows


def power_table(
    suite: str, cases: int, rows: list[PowerRow], *, margin: float, confidence: float
) -> str:
    """The rows as the command prints them: a Markdown table and what it assumes."""
    lines = [
        f"Suite `{suite}`: cases needed to pass at margin {margin:.3f} "
        f"({confidence:.0%} one-sided, {POWER:.0%} power), from its baseline of {cases} cases.",
        "",
        "| Scorer | Baseline mean | Disagreement | Delta SD | Neutral change | "
        f"Drop of {margin / 2:.3f} | Margin {cases} cases decide |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row.scorer} | {row.baseline_mean:.3f} | {row.disagreement:.0%} | {row.sd:.3f} "
            f"| {_cases(row.neutral)} | {_cases(row.half_margin)} | {row.smallest_margin:.3f} |"
        )
    lines += [
        "",
        "Disagreement: the share of cases a change alters (both ways alike); a rewrite of the "
        "instructions often alters 10-20%, a typo fix far fewer. Measure yours: each regression "
        "row of a gate's report.json records the real `delta_sd`.",
    ]
    return "\n".join(lines)


def _cases(value: int | None) -> str:
    return "cannot decide at any size" if value is None else str(value)

"""The statistics behind the gate, in pure Python (datasets are hundreds of cases, not millions).

- `paired_bootstrap`: resample cases (with replacement, fixed seed) and look at the mean
  per-case delta new - baseline, then apply the gate's rule (`Rule`) to its interval: one
  of three outcomes (`Verdict`), since too few data to decide is neither a pass nor a fail.
- `cases_to_decide`: roughly how many cases would decide at the margin (normal
  approximation from the per-case delta's SD and the observed delta), so an inconclusive
  row says what would settle it.
- `holm`: Holm-Bonferroni step-down (kept for callers comparing many arms).
- `wilson`: the Wilson score interval of a pass rate over a case's repeats, to flag cases
  whose verdict flips from run to run.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (`q` in [0, 100]); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def z_value(confidence: float) -> float:
    """Two-sided normal quantile: 1.96 for 0.95."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Normal-approximation interval of a mean of scores in [0, 1], clipped to [0, 1].

    Used for the summary of every scorer (cheap at any size); the gate's decision uses the
    paired bootstrap instead.
    """
    n = len(values)
    if n == 0:
        return (0.0, 0.0)
    m = mean(values)
    if n == 1:
        return (m, m)
    variance = math.fsum((v - m) ** 2 for v in values) / (n - 1)
    half = z_value(confidence) * math.sqrt(variance / n)
    return (max(0.0, m - half), min(1.0, m + half))


Verdict = Literal["pass", "fail", "inconclusive"]
"""A gated scorer's outcome: non-inferiority shown, a drop beyond the margin shown, or neither."""

POWER = 0.8
"""The chance `cases_to_decide` aims for: with that many cases, a change like the observed
one decides (pass or fail) four times in five."""

Rule = Literal["non-inferiority", "confidently-worse"]
"""How the gate reads a change against its baseline (the suite's `gate.regression.rule`):

- `non-inferiority` (the default): pass only when the data show the drop stays within the
  margin: the lower end of the one-sided interval at `confidence` is at least `-margin`.
  Every gated scorer must pass on its own, an intersection-union test that needs no
  multiplicity adjustment. When the interval also lies wholly below `-margin` the scorer
  fails (a drop beyond the margin is shown); when it straddles `-margin` it is
  inconclusive: the data are too few to say either way, and the gate does not pass.
- `confidently-worse`: fail only when the data show a drop beyond the margin: the upper end
  of the one-sided interval, Bonferroni-adjusted across the gated scorers, is below
  `-margin`. It passes whenever no such drop is shown, so it never reads inconclusive.
"""


@dataclass(frozen=True)
class DeltaEstimate:
    """Mean per-case delta (new - baseline), the interval the verdict reads, and its p-value.

    `ci_low..ci_high` is the two-sided interval whose relevant end decides: each end at one-
    sided level `alpha` (`alpha / comparisons` for `confidently-worse`), so a 95% gate shows
    a 90% interval. `p_value` tests the rule's null hypothesis (a drop beyond the margin for
    non-inferiority, no such drop for confidently-worse), adjusted where the rule adjusts.
    """

    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    passed: bool
    outcome: Verdict = "pass"
    sd: float = 0.0  # sample SD of the per-case deltas (what a sample size is computed from)


def paired_bootstrap(
    baseline: Sequence[float],
    new: Sequence[float],
    *,
    margin: float,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
    rule: Rule = "non-inferiority",
    comparisons: int = 1,
) -> DeltaEstimate:
    """Bootstrap the mean of paired deltas and apply `rule` at `confidence`."""
    if len(baseline) != len(new):
        raise ValueError("paired samples must have the same length")
    deltas = [b - a for a, b in zip(baseline, new, strict=True)]
    n = len(deltas)
    if n == 0:
        return DeltaEstimate(delta=0.0, ci_low=0.0, ci_high=0.0, p_value=1.0, n=0, passed=True)
    observed = mean(deltas)
    sd = math.sqrt(math.fsum((d - observed) ** 2 for d in deltas) / (n - 1)) if n > 1 else 0.0
    if all(delta == deltas[0] for delta in deltas):
        # Every resample of a constant vector is that vector (the usual case: a replay of
        # the baseline's own answers), so each resampled mean is `observed`, exactly what
        # the loop below would compute, without its n x resamples random draws.
        means = [observed] * resamples
    else:
        rng = random.Random(seed)  # noqa: S311 - reproducible resampling, not secrets
        means = sorted(math.fsum(rng.choices(deltas, k=n)) / n for _ in range(resamples))
    alpha = 1 - confidence
    if rule == "confidently-worse":
        alpha /= max(1, comparisons)
    low = means[max(0, math.floor(alpha * resamples))]
    high = means[min(resamples - 1, math.ceil((1 - alpha) * resamples) - 1)]
    bound = -margin - 1e-12  # float noise: an exact -margin counts as within the margin
    if rule == "non-inferiority":
        beyond = sum(1 for m in means if m < bound)
        p_value = (beyond + 1) / (resamples + 1)
        passed = low >= bound
        outcome: Verdict = "pass" if passed else ("fail" if high < bound else "inconclusive")
    else:
        within = sum(1 for m in means if m >= bound)
        p_value = min(1.0, (within + 1) / (resamples + 1) * max(1, comparisons))
        passed = high >= bound
        outcome = "pass" if passed else "fail"
    return DeltaEstimate(
        delta=observed,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        n=n,
        passed=passed,
        outcome=outcome,
        sd=sd,
    )


def cases_to_decide(
    sd: float, delta: float, *, margin: float, confidence: float = 0.95, power: float = POWER
) -> int | None:
    """Roughly how many cases decide at `margin`: with them, a change like `delta` (per-case
    SD `sd`) shows non-inferiority (delta above -margin) or a drop beyond it (below) with
    probability `power`, by the usual normal approximation
    n = ((z[confidence] + z[power]) * sd / |delta + margin|)^2 (one-sided).

    None when no number of cases decides: the observed delta sits on the margin itself. A
    constant delta (sd 0) off the margin decides at any size: 1.
    """
    distance = abs(delta + margin)
    if distance < 1e-9:
        return None
    if sd <= 0:
        return 1
    z = NormalDist().inv_cdf(confidence) + NormalDist().inv_cdf(power)
    return max(1, math.ceil((z * sd / distance) ** 2))


def repeats_to_decide(
    between: float,
    within: float,
    cases: int,
    delta: float,
    *,
    margin: float,
    confidence: float = 0.95,
    power: float = POWER,
) -> int | None:
    """Roughly how many repeats decide with `cases` cases, when answers vary across repeats.

    A case's delta varies by `between` (variance across cases of the true per-case delta)
    plus `within / repeats` (variance of one answer's delta around its case's mean), so
    more repeats shrink only the second part. None when repeats alone cannot decide (the
    between-case part is already too wide, or the delta sits on the margin).
    """
    distance = abs(delta + margin)
    if distance < 1e-9 or cases < 1:
        return None
    z = NormalDist().inv_cdf(confidence) + NormalDist().inv_cdf(power)
    allowed = cases * (distance / z) ** 2  # the per-case variance that would decide
    if between >= allowed:
        return None
    if within <= 0:
        return 1
    return max(1, math.ceil(within / (allowed - between)))


def holm(p_values: dict[str, float], alpha: float) -> dict[str, tuple[float, bool]]:
    """Holm-adjusted p-values and reject decisions, controlling the family-wise error rate."""
    ordered = sorted(p_values.items(), key=lambda item: item[1])
    m = len(ordered)
    result: dict[str, tuple[float, bool]] = {}
    running = 0.0
    still_rejecting = True
    for rank, (name, p) in enumerate(ordered):
        adjusted = min(1.0, max(running, (m - rank) * p))
        running = adjusted
        still_rejecting = still_rejecting and p <= alpha / (m - rank)
        result[name] = (adjusted, still_rejecting)
    return result


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    if n == 0:
        return (0.0, 1.0)
    z = z_value(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def is_unstable(successes: int, n: int, confidence: float = 0.95, threshold: float = 0.5) -> bool:
    """Repeats disagree and the Wilson interval of the pass rate straddles `threshold`."""
    if n < 2 or successes in (0, n):
        return False
    low, high = wilson(successes, n, confidence)
    return low < threshold < high

"""Anytime-valid intervals for online experiments: look every day, decide when it is clear.

An experiment's report is read again and again while traffic comes in. A fixed-sample test
read daily declares a winner far more often than its alpha when there is none (30 daily
looks at a 95% z-test: 28% of experiments with no true difference, `benchmarks/library/
experiment_simulation.py`). A *confidence sequence* holds at every n at once: with
probability at least 1 - alpha it contains the true value at all the looks together, so
stopping on the first look whose interval excludes zero keeps the false-winner rate at alpha.

The method: the asymptotic confidence sequence (AsympCS) of Waudby-Smith, Arbour, Sinha,
Kennedy & Ramdas, "Time-uniform central limit theory and asymptotic confidence sequences"
(Annals of Statistics, 2024; arXiv:2103.06476, Theorem 2.2), the two-sided normal-mixture
boundary of Robbins (Howard, Ramdas, McAuliffe & Sekhon, "Time-uniform, nonparametric,
nonasymptotic confidence sequences", Annals of Statistics 2021) applied to the sample mean
with the variance estimated from the data:

    mean_t +- sigma_t * sqrt( 2 (t rho^2 + 1) / (t^2 rho^2) * log( sqrt(t rho^2 + 1) / alpha ) )

    rho^2 = ( 2 log(1/alpha) + log(1 + 2 log(1/alpha)) ) / planned_n

rho only tunes where the sequence is tightest (at `planned_n` observations); the sequence is
valid for any rho. Two arms: the difference of means, with t the observations of both arms
and sigma_t^2 = t (s_T^2 / n_T + s_C^2 / n_C), the (Neyman) variance of the difference in
means plugged into the same boundary: an adaptation (the paper states its sequences for a
mean and, for causal effects, through per-unit pseudo-outcomes), whose error rate the
benchmark measures. Each s^2 is the arm's empirical variance regularised as in Waudby-Smith & Ramdas
("Estimating means of bounded random variables by betting", JRSS-B 2023):
(1/4 + sum (x - mean)^2) / (n + 1), so that a run of identical values early on does not give
a zero-width interval. Why this one: it needs only n, the sum and the sum of squares (what a
report reads from the inference log in one SQL aggregate), and near `planned_n` it is about
1.55 times as wide as the one-look 95% interval (2x at a tenth of `planned_n`, 1.65x at ten
times it): the price of every look being valid. Its guarantee is asymptotic (a CLT
behind it), so no verdict is given before `MINIMUM_ARM_SIZE` observations in every arm
read; the simulation benchmark measures the false-winner rate it actually keeps.

Every observation is scaled to [0, 1] (a boolean metric is 0 or 1), and higher is better: a
metric where lower is better (latency, cost) is compared as 1 - value or read with a
guardrail's `at-most` direction. Pure Python (math only): the service and the CLI import it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["treatment-better", "control-better", "no-difference-yet"]
Direction = Literal["at-most", "at-least"]

MINIMUM_ARM_SIZE = 100
"""Observations every arm compared needs before any verdict or guardrail crossing: the
interval is a large-sample one (a CLT behind it), shown but not acted on before this."""

DEFAULT_PLANNED_N = 10_000
"""Observations a sequence is tuned for when the caller does not say (about 20 days at 500
requests a day): tightest there, valid before and after."""

_PRIOR_VARIANCE = 0.25  # the largest variance on [0, 1]: one pseudo-observation of it


@dataclass(frozen=True)
class ArmOutcomes:
    """Running sums of one arm's metric observations, each scaled to [0, 1] (a boolean is 0 or 1).

    Three numbers are all the statistics need, so a report reads them with one SQL
    aggregate and the service keeps them per arm without keeping the observations."""

    n: int
    total: float
    total_squares: float

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError(f"an arm's n must be 0 or more, got {self.n}")
        # x in [0, 1] implies x^2 <= x, and (sum x)^2 <= n sum x^2 (Cauchy-Schwarz).
        slack = 1e-9 * max(1, self.n)
        if not (
            -slack <= self.total_squares <= self.total + slack
            and self.total <= self.n + slack
            and self.total * self.total <= self.n * self.total_squares + slack * max(1, self.n)
        ):
            raise ValueError(
                f"arm sums n={self.n}, total={self.total}, total_squares={self.total_squares} "
                "cannot come from values in [0, 1]: scale each observation to [0, 1] first"
            )

    @classmethod
    def of(cls, values: Iterable[float]) -> ArmOutcomes:
        n, total, total_squares = 0, 0.0, 0.0
        for value in values:
            _check_value(value)
            n += 1
            total += value
            total_squares += value * value
        return cls(n, total, total_squares)

    def add(self, value: float) -> ArmOutcomes:
        _check_value(value)
        return ArmOutcomes(self.n + 1, self.total + value, self.total_squares + value * value)

    @property
    def mean(self) -> float:
        """The sample mean; 0.0 with no observation (its interval is then all of [0, 1])."""
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """The regularised empirical variance (module docstring): never 0, at most 1/4."""
        spread = max(0.0, self.total_squares - self.total * self.mean)
        return (_PRIOR_VARIANCE + spread) / (self.n + 1)


@dataclass(frozen=True)
class Comparison:
    """The treatment arm against the control arm, at the observations read so far."""

    difference: float  # treatment mean - control mean
    lower: float  # anytime-valid (1 - alpha) confidence sequence for the difference, at this n
    upper: float
    verdict: Verdict


def boundary(t: int, *, alpha: float, planned_n: int) -> float:
    """The normal-mixture half-width for unit variance at t observations (module docstring):
    multiply by the standard deviation of one observation."""
    log_alpha = math.log(1 / alpha)
    rho2 = (2 * log_alpha + math.log(1 + 2 * log_alpha)) / planned_n
    spread = t * rho2 + 1
    return math.sqrt(2 * spread / (t * t * rho2) * math.log(math.sqrt(spread) / alpha))


def mean_interval(
    arm: ArmOutcomes, *, alpha: float, planned_n: int = DEFAULT_PLANNED_N
) -> tuple[float, float]:
    """The anytime-valid (1 - alpha) interval of the arm's mean, within [0, 1]."""
    _check_alpha(alpha)
    _check_planned(planned_n)
    if arm.n == 0:
        return 0.0, 1.0
    half = math.sqrt(arm.variance) * boundary(arm.n, alpha=alpha, planned_n=planned_n)
    return max(0.0, arm.mean - half), min(1.0, arm.mean + half)


def compare_arms(
    control: ArmOutcomes,
    treatment: ArmOutcomes,
    *,
    alpha: float,
    planned_n: int = DEFAULT_PLANNED_N,
) -> Comparison:
    """The difference of means with its anytime-valid interval, and the verdict it supports.

    `planned_n` counts the observations of both arms together. A verdict needs
    `MINIMUM_ARM_SIZE` observations in each arm and an interval wholly on one side of 0."""
    _check_alpha(alpha)
    _check_planned(planned_n)
    difference = treatment.mean - control.mean
    if control.n == 0 or treatment.n == 0:
        return Comparison(difference, -1.0, 1.0, "no-difference-yet")
    t = control.n + treatment.n
    standard_error = math.sqrt(control.variance / control.n + treatment.variance / treatment.n)
    half = standard_error * math.sqrt(t) * boundary(t, alpha=alpha, planned_n=planned_n)
    lower, upper = max(-1.0, difference - half), min(1.0, difference + half)
    verdict: Verdict = "no-difference-yet"
    if min(control.n, treatment.n) >= MINIMUM_ARM_SIZE:
        if lower > 0:
            verdict = "treatment-better"
        elif upper < 0:
            verdict = "control-better"
    return Comparison(difference, lower, upper, verdict)


def guardrail_crossed(
    arm: ArmOutcomes,
    *,
    bound: float,
    direction: Direction,
    alpha: float,
    planned_n: int = DEFAULT_PLANNED_N,
) -> bool:
    """True once the anytime-valid interval of the arm's mean lies wholly beyond the bound.

    `direction` is what the guardrail requires: `at-most` a bound (an error rate at most
    0.05) is crossed once the interval's lower end is above it; `at-least` once its upper
    end is below it. Never before `MINIMUM_ARM_SIZE` observations."""
    if direction not in ("at-most", "at-least"):
        raise ValueError(f"direction must be 'at-most' or 'at-least', got {direction!r}")
    if not 0.0 <= bound <= 1.0 or math.isnan(bound):
        raise ValueError(f"guardrail bound {bound} is outside [0, 1]: scale it like the metric")
    lower, upper = mean_interval(arm, alpha=alpha, planned_n=planned_n)
    if arm.n < MINIMUM_ARM_SIZE:
        return False
    return lower > bound if direction == "at-most" else upper < bound


def _check_value(value: float) -> None:
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        raise ValueError(
            f"observation {value!r} is outside [0, 1]: scale each metric value to [0, 1] "
            "(a boolean is 0 or 1)"
        )


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:  # also refuses NaN
        raise ValueError(f"alpha must be strictly between 0 and 1 (0.05 for 95%), got {alpha}")


def _check_planned(planned_n: int) -> None:
    if planned_n < 1:
        raise ValueError(f"planned_n must be 1 or more observations, got {planned_n}")

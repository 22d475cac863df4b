"""The anytime-valid statistics of online experiments, on fixed numbers and seeded samples."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from squadkit.experiments import (
    MINIMUM_ARM_SIZE,
    ArmOutcomes,
    compare_arms,
    guardrail_crossed,
    mean_interval,
)
from squadkit.experiments.sequential import boundary


def bernoulli(rng: random.Random, n: int, rate: float) -> list[float]:
    return [1.0 if rng.random() < rate else 0.0 for _ in range(n)]


def test_arm_sums_are_the_same_built_at_once_or_one_value_at_a_time() -> None:
    values = [0.0, 1.0, 0.25, 0.5]
    built = ArmOutcomes(0, 0.0, 0.0)
    for value in values:
        built = built.add(value)
    assert built == ArmOutcomes.of(values) == ArmOutcomes(4, 1.75, 1.3125)
    assert built.mean == pytest.approx(0.4375)


def test_difference_interval_has_known_values() -> None:
    # 60% against 65% over 1,000 requests each, tuned for the 2,000 read: sigma^2 is the
    # regularised Bernoulli variance 0.24001 and 0.22776, boundary(2000) = 0.066073.
    found = compare_arms(
        ArmOutcomes(1000, 600, 600), ArmOutcomes(1000, 650, 650), alpha=0.05, planned_n=2000
    )
    assert found.difference == pytest.approx(0.05)
    assert found.lower == pytest.approx(-0.015629, abs=1e-6)
    assert found.upper == pytest.approx(0.115629, abs=1e-6)
    assert found.verdict == "no-difference-yet"


def test_mean_interval_has_known_values() -> None:
    lower, upper = mean_interval(ArmOutcomes(1000, 600, 600), alpha=0.05, planned_n=1000)
    assert (lower, upper) == pytest.approx((0.552978, 0.647022), abs=1e-6)


def test_the_sequence_is_wider_than_a_fixed_sample_interval_at_every_n() -> None:
    """The price of looking at every n: never narrower than the one-look 95% z-interval,
    about 1.55 times it at the planned n."""
    for t in (1, 10, 100, 1000, 10_000, 100_000):
        assert boundary(t, alpha=0.05, planned_n=10_000) * math.sqrt(t) > 1.96
    at_plan = boundary(10_000, alpha=0.05, planned_n=10_000) * math.sqrt(10_000) / 1.96
    assert at_plan == pytest.approx(1.55, abs=0.01)


def test_interval_narrows_monotonically_as_the_same_rates_accumulate() -> None:
    widths, mean_widths = [], []
    for days in range(1, 31):
        control = ArmOutcomes(250 * days, 150.0 * days, 150.0 * days)
        treatment = ArmOutcomes(250 * days, 160.0 * days, 160.0 * days)
        found = compare_arms(control, treatment, alpha=0.05)
        widths.append(found.upper - found.lower)
        lower, upper = mean_interval(control, alpha=0.05)
        mean_widths.append(upper - lower)
    assert all(later < earlier for earlier, later in itertools.pairwise(widths))
    assert all(b < a for a, b in itertools.pairwise(mean_widths))


def test_equal_arms_give_no_verdict_at_any_daily_look_on_a_seeded_sample() -> None:
    """30 daily looks at 250 + 250 requests, both arms at 60%. The sample is one where a
    fixed-sample 95% z-test read daily calls a winner on some day; the sequence calls none."""
    rng = random.Random(21)  # noqa: S311 - synthetic data
    control, treatment = ArmOutcomes(0, 0.0, 0.0), ArmOutcomes(0, 0.0, 0.0)
    verdicts, naive_winner = set(), False
    for _day in range(30):
        for value in bernoulli(rng, 250, 0.6):
            control = control.add(value)
        for value in bernoulli(rng, 250, 0.6):
            treatment = treatment.add(value)
        verdicts.add(compare_arms(control, treatment, alpha=0.05, planned_n=15_000).verdict)
        pooled = (control.total + treatment.total) / (control.n + treatment.n)
        z = (treatment.mean - control.mean) / math.sqrt(
            pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n)
        )
        naive_winner = naive_winner or abs(z) > 1.96
    assert naive_winner
    assert verdicts == {"no-difference-yet"}


def test_a_clear_difference_is_declared_for_the_better_arm() -> None:
    rng = random.Random(7)  # noqa: S311 - synthetic data
    worse = ArmOutcomes.of(bernoulli(rng, 4000, 0.60))
    better = ArmOutcomes.of(bernoulli(rng, 4000, 0.70))
    assert compare_arms(worse, better, alpha=0.05).verdict == "treatment-better"
    assert compare_arms(better, worse, alpha=0.05).verdict == "control-better"


def test_no_verdict_before_the_minimum_arm_size_however_large_the_gap() -> None:
    small = MINIMUM_ARM_SIZE - 1
    found = compare_arms(ArmOutcomes(small, 0.0, 0.0), ArmOutcomes(small, small, small), alpha=0.05)
    assert found.lower > 0  # the interval is shown...
    assert found.verdict == "no-difference-yet"  # ...but not acted on


def test_an_empty_arm_has_the_whole_range_as_its_interval() -> None:
    empty = ArmOutcomes(0, 0.0, 0.0)
    assert mean_interval(empty, alpha=0.05) == (0.0, 1.0)
    found = compare_arms(empty, ArmOutcomes.of([1.0]), alpha=0.05)
    assert (found.lower, found.upper, found.verdict) == (-1.0, 1.0, "no-difference-yet")


def test_a_guardrail_at_most_a_bound_is_crossed_once_the_rate_is_clearly_above_it() -> None:
    rng = random.Random(11)  # noqa: S311 - synthetic data
    errors = ArmOutcomes(0, 0.0, 0.0)
    crossed_at = None
    for request in range(1, 5001):
        errors = errors.add(1.0 if rng.random() < 0.15 else 0.0)
        if guardrail_crossed(errors, bound=0.05, direction="at-most", alpha=0.05):
            crossed_at = request
            break
    assert crossed_at is not None
    assert crossed_at >= MINIMUM_ARM_SIZE


def test_a_guardrail_within_its_bound_is_not_crossed() -> None:
    rng = random.Random(12)  # noqa: S311 - synthetic data
    errors = ArmOutcomes.of(bernoulli(rng, 5000, 0.03))
    assert not guardrail_crossed(errors, bound=0.05, direction="at-most", alpha=0.05)


def test_a_guardrail_at_least_a_bound_is_crossed_when_the_score_is_clearly_below() -> None:
    rng = random.Random(13)  # noqa: S311 - synthetic data
    grounded = ArmOutcomes.of(bernoulli(rng, 2000, 0.80))
    assert guardrail_crossed(grounded, bound=0.90, direction="at-least", alpha=0.05)
    assert not guardrail_crossed(grounded, bound=0.75, direction="at-least", alpha=0.05)


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.05, 1.5, math.nan])
def test_alpha_outside_zero_one_is_refused(alpha: float) -> None:
    arm = ArmOutcomes.of([0.0, 1.0])
    with pytest.raises(ValueError, match=r"alpha must be strictly between 0 and 1"):
        compare_arms(arm, arm, alpha=alpha)
    with pytest.raises(ValueError, match=r"alpha must be strictly between 0 and 1"):
        mean_interval(arm, alpha=alpha)
    with pytest.raises(ValueError, match=r"alpha must be strictly between 0 and 1"):
        guardrail_crossed(arm, bound=0.5, direction="at-most", alpha=alpha)


@pytest.mark.parametrize("value", [-0.1, 1.01, math.nan, math.inf])
def test_an_observation_outside_zero_one_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match=r"outside \[0, 1\]: scale each metric value"):
        ArmOutcomes.of([0.5, value])
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        ArmOutcomes(0, 0.0, 0.0).add(value)


@pytest.mark.parametrize(
    ("n", "total", "total_squares"),
    [(-1, 0.0, 0.0), (2, 3.0, 3.0), (2, 1.0, 1.5), (4, 2.0, 0.5)],
)
def test_sums_no_values_in_zero_one_could_give_are_refused(
    n: int, total: float, total_squares: float
) -> None:
    with pytest.raises(
        ValueError, match=r"n must be 0 or more|cannot come from values in \[0, 1\]"
    ):
        ArmOutcomes(n, total, total_squares)


def test_a_guardrail_bound_or_direction_that_cannot_apply_is_refused() -> None:
    arm = ArmOutcomes.of([0.0, 1.0])
    with pytest.raises(ValueError, match=r"bound 5.0 is outside \[0, 1\]"):
        guardrail_crossed(arm, bound=5.0, direction="at-most", alpha=0.05)
    with pytest.raises(ValueError, match=r"direction must be 'at-most' or 'at-least'"):
        guardrail_crossed(arm, bound=0.5, direction="below", alpha=0.05)  # type: ignore[arg-type]


def test_the_mean_interval_holds_the_true_rate_at_every_n_on_a_seeded_sample() -> None:
    rng = random.Random(5)  # noqa: S311 - synthetic data
    arm, missed = ArmOutcomes(0, 0.0, 0.0), []
    for value in bernoulli(rng, 5000, 0.3):
        arm = arm.add(value)
        lower, upper = mean_interval(arm, alpha=0.05, planned_n=5000)
        if not lower <= 0.3 <= upper:
            missed.append(arm.n)
    assert missed == []


def test_a_planned_size_below_one_is_refused() -> None:
    arm = ArmOutcomes.of([0.0, 1.0])
    with pytest.raises(ValueError, match=r"planned_n must be 1 or more observations, got 0"):
        compare_arms(arm, arm, alpha=0.05, planned_n=0)

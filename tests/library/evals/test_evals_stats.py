"""The gate's statistics on synthetic score vectors, with fixed seeds."""

from __future__ import annotations

import random

import pytest

from squadkit.evals.stats import Rule, holm, is_unstable, paired_bootstrap, wilson

N = 500


def baseline_scores(seed: int = 1) -> list[float]:
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    return [1.0 if rng.random() < 0.8 else 0.0 for _ in range(N)]


def _five_point_drop() -> tuple[list[float], list[float]]:
    base = baseline_scores()
    rng = random.Random(2)  # noqa: S311 - synthetic data
    passing = [i for i, v in enumerate(base) if v == 1.0]
    dropped = set(rng.sample(passing, k=N * 5 // 100))  # 5 points of the mean
    return base, [0.0 if i in dropped else v for i, v in enumerate(base)]


@pytest.mark.parametrize("rule", ["non-inferiority", "confidently-worse"])
def test_a_real_five_point_drop_fails_under_either_rule(rule: Rule) -> None:
    base, new = _five_point_drop()
    estimate = paired_bootstrap(base, new, margin=0.02, confidence=0.95, seed=7, rule=rule)
    assert estimate.delta == pytest.approx(-0.05)
    assert estimate.ci_high < -0.02  # the whole interval lies beyond the margin
    assert not estimate.passed


def _noise(flips: int) -> tuple[list[float], list[float]]:
    base = baseline_scores()
    rng = random.Random(3)  # noqa: S311 - synthetic data
    ones = [i for i, v in enumerate(base) if v == 1.0]
    zeros = [i for i, v in enumerate(base) if v == 0.0]
    flip = set(rng.sample(ones, k=flips)) | set(rng.sample(zeros, k=flips))
    return base, [1.0 - v if i in flip else v for i, v in enumerate(base)]


def test_small_noise_with_the_same_mean_is_shown_non_inferior() -> None:
    base, new = _noise(10)
    estimate = paired_bootstrap(base, new, margin=0.02, confidence=0.95, seed=7)
    assert estimate.delta == pytest.approx(0.0)
    assert -0.02 <= estimate.ci_low < 0 < estimate.ci_high
    assert estimate.passed
    assert estimate.p_value < 0.05  # "a drop beyond the margin" is rejected


def test_noise_too_wide_to_show_non_inferiority_fails_it_but_not_confidently_worse() -> None:
    """60 flips of 500 cases: the mean is unchanged, but the data cannot show the drop is
    within 2 points, which is what the default rule asks; the lenient rule lets it through."""
    base, new = _noise(30)
    strict = paired_bootstrap(base, new, margin=0.02, confidence=0.95, seed=7)
    lenient = paired_bootstrap(
        base, new, margin=0.02, confidence=0.95, seed=7, rule="confidently-worse"
    )
    assert strict.ci_low < -0.02
    assert not strict.passed
    assert lenient.passed
    assert lenient.p_value > 0.05


def test_bootstrap_is_reproducible_with_a_seed() -> None:
    base, new = baseline_scores(1), baseline_scores(4)
    first = paired_bootstrap(base, new, margin=0.02, seed=11)
    assert paired_bootstrap(base, new, margin=0.02, seed=11) == first


@pytest.mark.parametrize("rule", ["non-inferiority", "confidently-worse"])
def test_identical_answers_always_pass(rule: Rule) -> None:
    base = baseline_scores()
    estimate = paired_bootstrap(base, base, margin=0.02, seed=7, rule=rule)
    assert (estimate.delta, estimate.ci_low, estimate.ci_high) == (0.0, 0.0, 0.0)
    assert estimate.passed


def test_the_same_drop_on_every_case_is_a_certain_regression() -> None:
    strict = paired_bootstrap([0.9] * N, [0.6] * N, margin=0.02, resamples=999, seed=7)
    lenient = paired_bootstrap(
        [0.9] * N, [0.6] * N, margin=0.02, resamples=999, seed=7, rule="confidently-worse"
    )
    assert strict.delta == pytest.approx(-0.3)
    assert strict.ci_low == strict.ci_high == strict.delta
    assert strict.p_value == 1.0  # every resample is a drop beyond the margin
    assert lenient.p_value == 1 / 1000  # no resample is compatible with "no such drop"
    assert not strict.passed
    assert not lenient.passed


def test_confidently_worse_widens_its_interval_for_each_gated_scorer() -> None:
    base, new = _five_point_drop()
    one = paired_bootstrap(base, new, margin=0.02, seed=7, rule="confidently-worse")
    three = paired_bootstrap(
        base, new, margin=0.02, seed=7, rule="confidently-worse", comparisons=3
    )
    assert three.ci_low <= one.ci_low
    assert three.ci_high >= one.ci_high
    assert three.p_value == pytest.approx(min(1.0, one.p_value * 3))


def test_holm_adjusts_p_values_step_down() -> None:
    result = holm({"a": 0.01, "b": 0.04, "c": 0.03}, alpha=0.05)
    assert result["a"] == pytest.approx((0.03, True))
    assert result["c"] == pytest.approx((0.06, False))  # 0.03 > 0.05 / 2
    assert result["b"] == pytest.approx((0.06, False))


def test_wilson_interval_matches_the_textbook_value() -> None:
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-3)
    assert high == pytest.approx(0.9433, abs=1e-3)


def test_cases_that_flip_across_repeats_are_unstable() -> None:
    assert is_unstable(2, 5)
    assert not is_unstable(5, 5)
    assert not is_unstable(0, 5)
    assert not is_unstable(19, 20)  # one odd sample in twenty: still a stable pass

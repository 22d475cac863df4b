"""The gate's statistics on synthetic score vectors, with fixed seeds."""

from __future__ import annotations

import random

import pytest

from squadkit.evals.stats import holm, is_unstable, paired_bootstrap, wilson

N = 500


def baseline_scores(seed: int = 1) -> list[float]:
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    return [1.0 if rng.random() < 0.8 else 0.0 for _ in range(N)]


def test_a_real_five_point_drop_is_a_regression() -> None:
    base = baseline_scores()
    rng = random.Random(2)  # noqa: S311 - synthetic data
    passing = [i for i, v in enumerate(base) if v == 1.0]
    dropped = set(rng.sample(passing, k=N * 5 // 100))  # 5 points of the mean
    new = [0.0 if i in dropped else v for i, v in enumerate(base)]
    estimate = paired_bootstrap(base, new, margin=0.02, confidence=0.95, seed=7)
    assert estimate.delta == pytest.approx(-0.05)
    assert estimate.ci_high < -0.02
    assert estimate.p_value < 0.05


def test_noise_with_the_same_mean_is_not_a_regression() -> None:
    base = baseline_scores()
    rng = random.Random(3)  # noqa: S311 - synthetic data
    ones = [i for i, v in enumerate(base) if v == 1.0]
    zeros = [i for i, v in enumerate(base) if v == 0.0]
    flip = set(rng.sample(ones, k=30)) | set(rng.sample(zeros, k=30))  # 30 each way
    new = [1.0 - v if i in flip else v for i, v in enumerate(base)]
    estimate = paired_bootstrap(base, new, margin=0.02, confidence=0.95, seed=7)
    assert estimate.delta == pytest.approx(0.0)
    assert estimate.ci_low < 0 < estimate.ci_high
    assert estimate.p_value > 0.05


def test_bootstrap_is_reproducible_with_a_seed() -> None:
    base, new = baseline_scores(1), baseline_scores(4)
    first = paired_bootstrap(base, new, margin=0.02, seed=11)
    assert paired_bootstrap(base, new, margin=0.02, seed=11) == first


def test_identical_answers_have_a_zero_width_interval_and_no_regression() -> None:
    base = baseline_scores()
    estimate = paired_bootstrap(base, base, margin=0.02, seed=7)
    assert (estimate.delta, estimate.ci_low, estimate.ci_high) == (0.0, 0.0, 0.0)
    assert estimate.p_value == 1.0


def test_the_same_drop_on_every_case_is_a_certain_regression() -> None:
    estimate = paired_bootstrap([0.9] * N, [0.6] * N, margin=0.02, resamples=999, seed=7)
    assert estimate.delta == pytest.approx(-0.3)
    assert estimate.ci_low == estimate.ci_high == estimate.delta
    assert estimate.p_value == 1 / 1000  # no resample is compatible with "no drop"


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

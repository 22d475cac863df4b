"""Three outcomes: each gated scorer, and the gate, read pass, fail or inconclusive, with the
numbers that would decide (synthetic score vectors with fixed seeds, then the fixture
squad's own baseline and recordings)."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from squadkit.evals import RunOptions, Target, load_suite, workflow
from squadkit.evals.errors import GateFailed, GateInconclusive
from squadkit.evals.gate import compare_arms, evaluate_gate, report_hash
from squadkit.evals.render import markdown_summary
from squadkit.evals.render_gate import sample_text
from squadkit.evals.render_junit import junit_xml
from squadkit.evals.report import RegressionCheck, read_report
from squadkit.evals.stats import cases_to_decide, paired_bootstrap, repeats_to_decide
from squadkit.evals.summary import CaseScores
from squadkit.settings import Settings

N = 400
REPLAY = RunOptions(mode="replay", progress=False)
PRODUCTION = Target(prompt="triage", label="production")


def _pairs(flips: int, drops: int = 0, seed: int = 1) -> tuple[list[float], list[float]]:
    """Pass/fail scores at about 0.6; `flips` cases flip each way, `drops` more go 1 -> 0."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    base = [1.0 if rng.random() < 0.6 else 0.0 for _ in range(N)]
    ones = [i for i, v in enumerate(base) if v == 1.0]
    zeros = [i for i, v in enumerate(base) if v == 0.0]
    chosen = rng.sample(ones, k=flips + drops)
    flip = set(chosen) | set(rng.sample(zeros, k=flips))
    return base, [1.0 - v if i in flip else v for i, v in enumerate(base)]


def test_a_neutral_change_too_noisy_to_decide_is_inconclusive_not_a_fail() -> None:
    base, new = _pairs(flips=40)  # 20% of verdicts change, both ways: the mean is unchanged
    estimate = paired_bootstrap(base, new, margin=0.02, confidence=0.95, seed=7)
    assert estimate.delta == pytest.approx(0.0)
    assert estimate.ci_low < -0.02 < estimate.ci_high
    assert estimate.outcome == "inconclusive"
    assert not estimate.passed


def test_a_drop_shown_beyond_the_margin_fails() -> None:
    base, new = _pairs(flips=5, drops=40)  # a 10-point drop
    estimate = paired_bootstrap(base, new, margin=0.02, confidence=0.95, seed=7)
    assert estimate.ci_high < -0.02
    assert estimate.outcome == "fail"


def test_a_quiet_neutral_change_passes() -> None:
    base, new = _pairs(flips=4)
    estimate = paired_bootstrap(base, new, margin=0.02, confidence=0.95, seed=7)
    assert estimate.ci_low >= -0.02
    assert estimate.outcome == "pass"


def test_confidently_worse_never_reads_inconclusive() -> None:
    base, new = _pairs(flips=40)
    estimate = paired_bootstrap(
        base, new, margin=0.02, confidence=0.95, seed=7, rule="confidently-worse"
    )
    assert estimate.outcome == "pass"


def test_cases_to_decide_is_the_normal_approximation_at_the_margin() -> None:
    # ((z_0.95 + z_0.80) * sd / |delta + margin|)^2 = ((1.6449 + 0.8416) * 0.4 / 0.05)^2
    assert cases_to_decide(0.4, 0.0, margin=0.05, confidence=0.95) == math.ceil(
        (2.486475 * 0.4 / 0.05) ** 2
    )
    assert cases_to_decide(0.4, -0.05, margin=0.05) is None  # on the margin: no size decides
    assert cases_to_decide(0.0, -0.01, margin=0.05) == 1  # a constant delta decides at once
    # A drop twice the margin is as far from the margin as no change: the same size.
    assert cases_to_decide(0.4, -0.1, margin=0.05) == cases_to_decide(0.4, 0.0, margin=0.05)


def test_the_estimate_decides_a_simulated_neutral_change_about_as_promised() -> None:
    """With the cases it asks for, a neutral change at the measured SD passes about 80% of
    the time (the power it aims for) through the gate's own bootstrap."""
    rng = random.Random(5)  # noqa: S311 - synthetic data
    share = 0.16
    needed = cases_to_decide(math.sqrt(share), 0.0, margin=0.05, confidence=0.95)
    assert needed is not None
    passes = 0
    runs = 60
    for seed in range(runs):
        deltas = [
            (1.0 if rng.random() < 0.5 else -1.0) if rng.random() < share else 0.0
            for _ in range(needed)
        ]
        base = [1.0 if d < 0 else 0.0 for d in deltas]
        new = [b + d for b, d in zip(base, deltas, strict=True)]
        estimate = paired_bootstrap(base, new, margin=0.05, resamples=400, seed=seed)
        passes += estimate.outcome == "pass"
    assert 0.6 <= passes / runs <= 0.97


def test_repeats_decide_only_what_varies_between_repeats() -> None:
    # Per-case variance 0.3 of which within/1 = 0.2 from repeats: 0.1 between cases.
    assert repeats_to_decide(0.1, 0.2, 400, 0.0, margin=0.05) is not None
    assert repeats_to_decide(0.5, 0.2, 100, 0.0, margin=0.05) is None  # cases vary too much
    assert repeats_to_decide(0.1, 0.2, 400, -0.05, margin=0.05) is None  # on the margin


def test_a_regression_row_written_before_outcomes_reads_as_it_was_decided() -> None:
    """Old reports have no `outcome`: a row that did not pass reads inconclusive when its
    interval straddles the margin, fail when it lies below it, and `regressed` then means
    a drop shown."""
    old = {
        "scorer": "queue",
        "baseline_mean": 0.6,
        "new_mean": 0.6,
        "delta": 0.0,
        "ci_low": -0.05,
        "ci_high": 0.05,
        "p_value": 0.2,
        "p_adjusted": 0.2,
        "margin": 0.02,
        "n": 40,
        "regressed": True,
        "rule": "non-inferiority",
    }
    straddling = RegressionCheck.model_validate(old)
    below = RegressionCheck.model_validate({**old, "ci_high": -0.03, "ci_low": -0.09})
    passed = RegressionCheck.model_validate({**old, "regressed": False})
    assert (straddling.outcome, straddling.regressed) == ("inconclusive", False)
    assert (below.outcome, below.regressed) == ("fail", True)
    assert passed.outcome == "pass"


def noisy_baseline(evals_dir: Path, flips: int = 3) -> None:
    """Flip `flips` queue verdicts each way in the committed baseline: the same recordings
    now differ from it by a neutral change 40 cases cannot decide at margin 0.02."""
    path = evals_dir / "baselines" / "triage.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    cases = report["arms"][0]["cases"]
    ones = [c for c in cases if c["scores"]["queue"] == 1.0][:flips]
    zeros = [c for c in cases if c["scores"]["queue"] == 0.0][:flips]
    for case in [*ones, *zeros]:
        value = 1.0 - case["scores"]["queue"]
        case["scores"]["queue"] = value
        for attempt in case["attempts"]:
            attempt["scores"]["queue"]["score"] = value
    path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def test_a_gate_that_cannot_decide_is_inconclusive_with_what_would_decide(
    settings: Settings, tmp_path: Path
) -> None:
    noisy_baseline(settings.evals_dir)
    suite = load_suite(settings.evals_dir / "triage.yaml")
    evidence = settings.evals_dir / "evidence" / "triage" / "v1.json"
    before = evidence.read_bytes()
    with pytest.raises(GateInconclusive) as caught:
        workflow.gate(settings, suite, REPLAY, [PRODUCTION], tmp_path)
    message = str(caught.value)
    assert caught.value.exit_code == 3
    assert "eval gate inconclusive for suite 'triage'" in message
    assert "queue +0.000" in message
    assert "cases (now 40)" in message
    assert "report hash sha256:" in message
    assert evidence.read_bytes() == before  # no evidence written

    report = read_report(tmp_path / "triage" / "report.json")
    gate = report.gate
    assert gate is not None
    assert gate.verdict == "inconclusive"
    assert gate.report_hash == report_hash(gate, report)
    (queue,) = (c for c in gate.regressions if c.scorer == "queue")
    assert (queue.outcome, queue.regressed) == ("inconclusive", False)
    assert queue.cases_to_decide is not None
    assert queue.cases_to_decide > 40
    assert queue.rules_out is not None
    assert queue.rules_out > 0.02
    summary = markdown_summary(report)
    assert "gate INCONCLUSIVE" in summary
    assert "| queue |" in summary
    assert "| INCONCLUSIVE |" in summary
    assert "queue is inconclusive: the 90% interval of the change" in summary
    assert "rules out drops beyond 0.1" in summary
    assert "case(s) decide at margin 0.020" in summary  # the rows that passed
    assert 'message="inconclusive: delta +0.000' in junit_xml(report)
    page = (tmp_path / "triage" / "report.html").read_text(encoding="utf-8")
    assert "gate INCONCLUSIVE" in page
    assert f"Report hash {gate.report_hash}" in page


def test_a_worse_baseline_gap_is_still_a_fail_not_inconclusive(
    settings: Settings, tmp_path: Path
) -> None:
    """The same recordings against a baseline 8 queue points better: a drop is shown."""
    path = settings.evals_dir / "baselines" / "triage.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    raised = 0
    for case in report["arms"][0]["cases"]:
        if case["scores"]["queue"] == 0.0 and raised < 4:
            raised += 1
            case["scores"]["queue"] = 1.0
    path.write_text(json.dumps(report), encoding="utf-8")
    suite = load_suite(settings.evals_dir / "triage.yaml")
    with pytest.raises(GateFailed) as caught:
        workflow.gate(settings, suite, REPLAY, [PRODUCTION], tmp_path)
    assert not isinstance(caught.value, GateInconclusive)
    assert "queue fails" in str(caught.value)


def test_a_gated_suite_without_its_baseline_fails_and_writes_no_evidence(
    settings: Settings, tmp_path: Path
) -> None:
    """Deleting the baseline does not switch the regression check off (a squad recorded
    before, so not the "not recorded yet" state)."""
    (settings.evals_dir / "baselines" / "triage.json").unlink()
    evidence = settings.evals_dir / "evidence" / "triage" / "v1.json"
    evidence.unlink()
    suite = load_suite(settings.evals_dir / "triage.yaml")
    with pytest.raises(GateFailed) as caught:
        workflow.gate(settings, suite, REPLAY, [PRODUCTION], tmp_path)
    assert not isinstance(caught.value, GateInconclusive)
    assert "no baseline for suite 'triage': the regression check cannot run" in str(caught.value)
    assert not evidence.exists()


def test_evaluate_gate_without_a_baseline_fails_only_when_the_suite_gates_regressions(
    settings: Settings,
) -> None:
    suite = load_suite(settings.evals_dir / "triage.yaml")
    run = read_report(settings.evals_dir / "baselines" / "triage.json")
    assert evaluate_gate(run, suite.spec.gate, None).verdict == "fail"
    ungated = suite.spec.gate.model_copy(update={"regression": None})
    assert evaluate_gate(run, ungated, None).verdict == "pass"


def _case(index: int, score: float, spread: float) -> CaseScores:
    return CaseScores(
        id=f"c{index}",
        index=index,
        tags=(),
        scores={"queue": score},
        unstable=(),
        latencies=(0.1, 0.1, 0.1),
        costs=(0.0, 0.0, 0.0),
        errors=0,
        input_tokens=0,
        output_tokens=0,
        fallback=(),
        spread={"queue": spread} if spread else {},
    )


def test_where_answers_vary_across_repeats_a_row_says_how_many_repeats_would_decide() -> None:
    """400 cases, 3 repeats each: the new version's answers differ between repeats (each
    case's mean is 1/3 or 2/3, one answer's variance 1/3), so the per-case delta is mostly
    repeat noise, which more repeats average out."""
    rng = random.Random(9)  # noqa: S311 - synthetic data
    base = [_case(i, 0.5, 0.0) for i in range(N)]
    new = [_case(i, rng.choice([1 / 3, 2 / 3]), 1 / 3) for i in range(N)]
    (check,), _ = compare_arms(
        base, new, ["queue"], margin=0.02, confidence=0.95, resamples=400, seed=1
    )
    assert check.outcome == "inconclusive"
    assert check.repeats_to_decide is not None
    assert check.repeats_to_decide > 3
    assert f"or about {check.repeats_to_decide} repeats" in sample_text(check)
    steady = [_case(i, c.scores["queue"], 0.0) for i, c in enumerate(new)]
    (same,), _ = compare_arms(
        base, steady, ["queue"], margin=0.02, confidence=0.95, resamples=400, seed=1
    )
    assert same.repeats_to_decide is None  # answers do not vary: repeats change nothing

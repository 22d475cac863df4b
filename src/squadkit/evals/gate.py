"""The eval gate: absolute thresholds plus a regression check against the committed baseline.

A threshold fails when a scorer's mean is below it. A regression fails only when a paired
bootstrap over per-case scores says, at the configured confidence and after Holm's
correction across the gated scorers, that the mean dropped by more than the allowed margin.
Cases that are unstable across repeats (in either run) are left out of the regression check
and listed instead, so a flaky case cannot flip the gate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import SquadError
from ..prompts.evidence import Evidence, evidence_path, read_evidence, write_evidence
from .report import ArmResult, EvalReport, GateResult, RegressionCheck, ThresholdCheck
from .stats import holm, mean, paired_bootstrap
from .suite import Gate


def compare_arms(
    baseline: ArmResult,
    new: ArmResult,
    scorers: list[str],
    *,
    margin: float,
    confidence: float,
    resamples: int,
    seed: int,
) -> tuple[list[RegressionCheck], list[str]]:
    """Paired bootstrap per scorer on the cases both runs share; Holm across `scorers`."""
    base_cases = {c.id: c for c in baseline.cases}
    shared = [c for c in new.cases if c.id in base_cases]
    unstable = sorted(
        {c.id for c in shared if c.unstable} | {c.id for c in shared if base_cases[c.id].unstable}
    )
    estimates = {}
    means = {}
    for scorer in scorers:
        pairs = [
            (base_cases[c.id].scores[scorer], c.scores[scorer])
            for c in shared
            if c.id not in unstable and scorer in c.scores and scorer in base_cases[c.id].scores
        ]
        old = [a for a, _ in pairs]
        now = [b for _, b in pairs]
        means[scorer] = (mean(old), mean(now))
        estimates[scorer] = paired_bootstrap(
            old, now, margin=margin, confidence=confidence, resamples=resamples, seed=seed
        )
    decisions = holm({s: e.p_value for s, e in estimates.items()}, alpha=1 - confidence)
    checks = []
    for scorer in scorers:
        estimate = estimates[scorer]
        adjusted, reject = decisions[scorer]
        checks.append(
            RegressionCheck(
                scorer=scorer,
                baseline_mean=round(means[scorer][0], 6),
                new_mean=round(means[scorer][1], 6),
                delta=round(estimate.delta, 6),
                ci_low=round(estimate.ci_low, 6),
                ci_high=round(estimate.ci_high, 6),
                p_value=round(estimate.p_value, 6),
                p_adjusted=round(adjusted, 6),
                margin=margin,
                n=estimate.n,
                regressed=reject and estimate.delta < -margin,
            )
        )
    return checks, unstable


def evaluate_gate(
    report: EvalReport,
    gate: Gate,
    baseline: EvalReport | None,
    *,
    arm: str | None = None,
    baseline_name: str | None = None,
) -> GateResult:
    """The gate's verdict on one arm of `report`."""
    result = report.arm(arm)
    summary = result.summary
    thresholds = []
    reasons = []
    for scorer, minimum in gate.thresholds.items():
        stats = summary.scorers[scorer]
        ok = stats.mean >= minimum
        thresholds.append(
            ThresholdCheck(
                scorer=scorer,
                mean=stats.mean,
                ci_low=stats.ci_low,
                ci_high=stats.ci_high,
                threshold=minimum,
                passed=ok,
            )
        )
        if not ok:
            reasons.append(f"{scorer}: mean {stats.mean:.3f} is below the threshold {minimum:.3f}")
    if summary.errors:
        reasons.append(f"{summary.errors} call(s) failed; see the report's errors")
    fallback = [c.id for c in result.cases if any(a.fallback_used for a in c.attempts)]
    if fallback:
        # Only the model under test earns evidence: a fallback's answers say nothing of it.
        answered = sorted(
            {a.deployment or "?" for c in result.cases for a in c.attempts if a.fallback_used}
        )
        reasons.append(
            f"{len(fallback)} of {len(result.cases)} case(s) were answered by a fallback "
            f"({', '.join(answered)}), not the chain's first deployment: its calls failed "
            f"(first: {fallback[0]}); fix the provider or key and record again"
        )
    regressions: list[RegressionCheck] = []
    unstable: list[str] = []
    confidence = gate.regression.confidence if gate.regression else 0.95
    if gate.regression is not None and baseline is not None:
        scorers = [s for s in gate.regression_scorers() if s in baseline.arm().summary.scorers]
        regressions, unstable = compare_arms(
            baseline.arm(),
            result,
            scorers,
            margin=gate.regression.margin,
            confidence=gate.regression.confidence,
            resamples=gate.regression.resamples,
            seed=gate.regression.seed,
        )
        reasons.extend(
            f"{c.scorer}: regressed by {-c.delta:.3f} (CI {c.ci_low:+.3f}..{c.ci_high:+.3f}, "
            f"Holm p={c.p_adjusted:.4f}) beyond the allowed margin {c.margin:.3f}"
            for c in regressions
            if c.regressed
        )
    return GateResult(
        verdict="fail" if reasons else "pass",
        arm=result.name,
        baseline=baseline_name,
        confidence=confidence,
        thresholds=thresholds,
        regressions=regressions,
        excluded_unstable=unstable,
        answered_by_fallback=fallback,
        reasons=reasons,
    )


def evidence_scores(gate: GateResult, report: EvalReport) -> dict[str, Any]:
    """The `scores` of an evidence file: every scorer's mean and interval, plus the checks."""
    arm = report.arm(gate.arm)
    scores: dict[str, Any] = {}
    thresholds = {t.scorer: t.threshold for t in gate.thresholds}
    regressions = {r.scorer: r for r in gate.regressions}
    for name, stats in arm.summary.scorers.items():
        entry: dict[str, Any] = {"mean": stats.mean, "ci": [stats.ci_low, stats.ci_high]}
        if name in thresholds:
            entry["threshold"] = thresholds[name]
        if name in regressions:
            check = regressions[name]
            entry["delta_vs_baseline"] = check.delta
            entry["delta_ci"] = [check.ci_low, check.ci_high]
        scores[name] = entry
    return scores


def write_gate_evidence(
    report: EvalReport, gate: GateResult, *, suite: str, evidence_dir: Path
) -> Path:
    """Write `evals/evidence/<prompt>/v<N>.json` for the gated arm (only for a pass)."""
    arm = report.arm(gate.arm)
    evidence = Evidence(
        prompt=arm.prompt.name,
        version=arm.prompt.version,
        prompt_hash=arm.prompt.hash,
        suite=suite,
        dataset=report.dataset,
        dataset_hash=report.dataset_hash,
        models=arm.models,
        verdict=gate.verdict,
        scores=evidence_scores(gate, report),
        created_at=datetime.now(UTC),
    )
    path = evidence_path(evidence_dir, evidence.prompt, evidence.version)
    if path.is_file():
        try:
            current = read_evidence(path)
        except SquadError:
            current = None
        if current is not None and same_but_date(current, evidence):
            return path  # unchanged but for the date: keep the file (and git) clean
    return write_evidence(evidence_dir, evidence)


def same_but_date(a: BaseModel, b: BaseModel) -> bool:
    """Whether two records (evidence, reports) differ in nothing but `created_at`: then the
    file on disk is kept, so a re-run leaves git clean."""
    keep = {"created_at"}
    return a.model_dump(mode="json", exclude=keep) == b.model_dump(mode="json", exclude=keep)

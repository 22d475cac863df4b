"""The eval gate: absolute thresholds plus a regression check against the committed baseline.

A threshold fails when a scorer's mean is below it. The regression check bootstraps the
paired per-case deltas of each gated scorer and applies the suite's rule (`stats.Rule`):
by default non-inferiority, which passes only when the data show any drop stays within the
margin, fails when they show a drop beyond it, and is inconclusive otherwise. The gate reads
the same three ways: `fail` when anything failed (a threshold, an error, a fallback, a row),
else `inconclusive` when a row is (not a pass: more cases, more repeats or a reviewed
approval decide it, `approval`), else `pass`. A gated suite without its baseline fails: the
regression check cannot be switched off by deleting a file. Each row of a report carries the
interval and p-value that decided, one sentence saying why, the smallest drop the sample
rules out and roughly how many cases (and repeats) would decide at the margin. Cases that
are unstable across repeats (in either run) are left out of the regression check and
listed instead, so a flaky case cannot flip the gate. Cases a fallback answered fail the
gate: only the model under test earns evidence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import SquadError
from ..prompts.evidence import Evidence, evidence_path, read_evidence, write_evidence
from .report import (
    ArmResult,
    EvalReport,
    GateResult,
    RegressionCheck,
    ThresholdCheck,
)
from .spool import Report, as_report
from .stats import (
    DeltaEstimate,
    Rule,
    cases_to_decide,
    mean,
    paired_bootstrap,
    repeats_to_decide,
)
from .suite import Gate
from .summary import CaseScores


def compare_arms(
    baseline: ArmResult | Sequence[CaseScores],
    new: ArmResult | Sequence[CaseScores],
    scorers: list[str],
    *,
    margin: float,
    confidence: float,
    resamples: int,
    seed: int,
    rule: Rule = "non-inferiority",
) -> tuple[list[RegressionCheck], list[str]]:
    """Paired bootstrap per scorer on the cases both runs share, decided by `rule`."""
    base_cases = {c.id: c for c in _scores(baseline)}
    shared = [c for c in _scores(new) if c.id in base_cases]
    unstable = sorted(
        {c.id for c in shared if c.unstable} | {c.id for c in shared if base_cases[c.id].unstable}
    )
    checks = []
    for scorer in scorers:
        kept = [
            (base_cases[c.id], c)
            for c in shared
            if c.id not in unstable and scorer in c.scores and scorer in base_cases[c.id].scores
        ]
        old = [a.scores[scorer] for a, _ in kept]
        now = [b.scores[scorer] for _, b in kept]
        estimate = paired_bootstrap(
            old,
            now,
            margin=margin,
            confidence=confidence,
            resamples=resamples,
            seed=seed,
            rule=rule,
            comparisons=len(scorers),
        )
        needed = cases_to_decide(estimate.sd, estimate.delta, margin=margin, confidence=confidence)
        repeats = _repeats_to_decide(kept, scorer, estimate, margin=margin, confidence=confidence)
        checks.append(
            RegressionCheck(
                scorer=scorer,
                baseline_mean=round(mean(old), 6),
                new_mean=round(mean(now), 6),
                delta=round(estimate.delta, 6),
                ci_low=round(estimate.ci_low, 6),
                ci_high=round(estimate.ci_high, 6),
                p_value=round(estimate.p_value, 6),
                p_adjusted=round(estimate.p_value, 6),
                margin=margin,
                n=estimate.n,
                regressed=estimate.outcome == "fail",
                rule=rule,
                decision=_decision(
                    scorer,
                    estimate,
                    margin=margin,
                    confidence=confidence,
                    rule=rule,
                    k=len(scorers),
                ),
                outcome=estimate.outcome,
                rules_out=round(max(0.0, -estimate.ci_low), 6),
                delta_sd=round(estimate.sd, 6),
                cases_to_decide=needed,
                repeats_to_decide=repeats,
            )
        )
    return checks, unstable


def _repeats_to_decide(
    kept: Sequence[tuple[CaseScores, CaseScores]],
    scorer: str,
    estimate: DeltaEstimate,
    *,
    margin: float,
    confidence: float,
) -> int | None:
    """Where answers vary across repeats: how many repeats would decide with these cases.

    A case's delta varies by how cases differ plus how one answer differs from its case's
    mean; repeats average out only the second, estimated from the repeats that disagree.
    """
    if not kept:
        return None
    within = mean([a.spread.get(scorer, 0.0) + b.spread.get(scorer, 0.0) for a, b in kept])
    if within <= 0:
        return None  # answers do not vary: more repeats change nothing
    attempts = max(1, min(b.attempts for _, b in kept))
    between = max(0.0, estimate.sd**2 - within / attempts)
    return repeats_to_decide(
        between, within, estimate.n, estimate.delta, margin=margin, confidence=confidence
    )


def _scores(arm: ArmResult | Sequence[CaseScores]) -> Sequence[CaseScores]:
    if isinstance(arm, ArmResult):
        return [CaseScores.of(case) for case in arm.cases]
    return arm


def _decision(
    scorer: str, estimate: DeltaEstimate, *, margin: float, confidence: float, rule: Rule, k: int
) -> str:
    """One sentence a reviewer can check against the row: which end decided, and why."""
    interval = f"{estimate.ci_low:+.3f}..{estimate.ci_high:+.3f}"
    if rule == "non-inferiority":
        level = f"{1 - 2 * (1 - confidence):.0%} interval"
        if estimate.outcome == "pass":
            return (
                f"{scorer} passes: the {level} of the change ({interval}) starts above "
                f"-{margin:.3f}, so any drop is within the allowed margin"
            )
        if estimate.outcome == "fail":
            return (
                f"{scorer} fails: the {level} of the change ({interval}) lies wholly below "
                f"-{margin:.3f}, a drop beyond the allowed margin"
            )
        settle = decides(estimate, margin=margin, confidence=confidence)
        return (
            f"{scorer} is inconclusive: the {level} of the change ({interval}) straddles "
            f"-{margin:.3f}, so the data show neither that any drop is within the allowed "
            f"margin nor a drop beyond it; {settle}"
        )
    level = f"{1 - 2 * (1 - confidence) / k:.1%} interval (Bonferroni over {k} scorer(s))"
    if estimate.passed:
        return (
            f"{scorer} passes: the {level} of the change ({interval}) does not lie wholly "
            f"below -{margin:.3f}, so no drop beyond the margin is shown"
        )
    return (
        f"{scorer} fails: the {level} of the change ({interval}) lies wholly below "
        f"-{margin:.3f}, a drop beyond the allowed margin"
    )


def decides(estimate: DeltaEstimate, *, margin: float, confidence: float) -> str:
    """What would settle an inconclusive row: roughly how many cases, at the margin."""
    needed = cases_to_decide(estimate.sd, estimate.delta, margin=margin, confidence=confidence)
    if needed is None:
        return (
            f"the observed change ({estimate.delta:+.3f}) sits on the margin, so no number of "
            "cases decides (cannot decide at any size)"
        )
    return f"about {needed} cases (now {estimate.n}) would decide at this margin"


def evaluate_gate(
    report: EvalReport | Report,
    gate: Gate,
    baseline: EvalReport | Report | None,
    *,
    arm: str | None = None,
    baseline_name: str | None = None,
    advisory: Mapping[str, str] | None = None,
) -> GateResult:
    """The gate's verdict on one arm of `report` (read from its cases' scores alone).

    `advisory` names judges whose agreement with people falls short (`agreement`): their
    rows are computed and shown, but neither a missed threshold nor a regression of theirs
    fails the gate or leaves it inconclusive.
    """
    advisory = dict(advisory or {})
    run = as_report(report)
    result = run.arm(arm)
    cases = run.arm_scores(arm)
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
        if not ok and scorer not in advisory:
            reasons.append(f"{scorer}: mean {stats.mean:.3f} is below the threshold {minimum:.3f}")
    if summary.errors:
        reasons.append(f"{summary.errors} call(s) failed; see the report's errors")
    fallback = [c.id for c in cases if c.fallback]
    if fallback:
        # Only the model under test earns evidence: a fallback's answers say nothing of it.
        answered = sorted({deployment for c in cases for deployment in c.fallback})
        reasons.append(
            f"{len(fallback)} of {len(cases)} case(s) were answered by a fallback "
            f"({', '.join(answered)}), not the chain's first deployment: its calls failed "
            f"(first: {fallback[0]}); fix the provider or key and record again"
        )
    regressions: list[RegressionCheck] = []
    unstable: list[str] = []
    confidence = gate.regression.confidence if gate.regression else 0.95
    if gate.regression is not None and baseline is not None:
        base = as_report(baseline)
        scorers = [s for s in gate.regression_scorers() if s in base.arm().summary.scorers]
        regressions, unstable = compare_arms(
            base.arm_scores(),
            cases,
            scorers,
            margin=gate.regression.margin,
            confidence=gate.regression.confidence,
            resamples=gate.regression.resamples,
            seed=gate.regression.seed,
            rule=gate.regression.rule,
        )
        reasons.extend(
            c.decision for c in regressions if c.outcome == "fail" and c.scorer not in advisory
        )
    elif gate.regression is not None:
        # Deleting the baseline must not switch the regression check off. A squad not
        # recorded yet never gets here: `workflow.awaiting_first_recording` skips its gate.
        reasons.append(
            f"no baseline for suite '{run.header.suite}': the regression check cannot run, so "
            f"the gate fails; record one with `squad eval baseline {run.header.suite}` (or "
            "`make eval-refresh`) and commit it"
        )
    inconclusive = any(
        c.outcome == "inconclusive" and c.scorer not in advisory for c in regressions
    )
    gated = GateResult(
        verdict="fail" if reasons else ("inconclusive" if inconclusive else "pass"),
        arm=result.name,
        baseline=baseline_name,
        confidence=confidence,
        thresholds=thresholds,
        regressions=regressions,
        excluded_unstable=unstable,
        answered_by_fallback=fallback,
        reasons=reasons,
        advisory=advisory,
    )
    if gated.verdict != "inconclusive":
        return gated
    return gated.model_copy(update={"report_hash": report_hash(gated, run)})


def report_hash(gate: GateResult, report: EvalReport | Report) -> str:
    """What an approval of an inconclusive gate names: sha256 of the gate's canonical content.

    That is the JSON (sorted keys, no spaces) of the gated prompt (name, version, hash), the
    dataset's hash and the gate's result without its verdict, approval, hash, arm name and
    baseline path (how the version was selected, by label or number, and where the command
    ran do not change what was decided; the figures already say what the baseline was).
    The gate is seeded, so the same prompt, data, recordings and baseline give the same
    hash on any machine; any change to them gives another, and the approval lapses.
    """
    header = as_report(report).header
    prompt = header.arm(gate.arm).prompt
    left_out = {"verdict", "approval", "report_hash", "baseline", "arm"}
    if not gate.advisory:
        left_out.add("advisory")  # the hash of a gate with no advisory judge, as before it
    content = {
        "prompt": {"name": prompt.name, "version": prompt.version, "hash": prompt.hash},
        "dataset_hash": header.dataset_hash,
        "gate": gate.model_dump(mode="json", exclude=left_out),
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def evidence_scores(gate: GateResult, report: EvalReport | Report) -> dict[str, Any]:
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


def gate_evidence(report: EvalReport | Report, gate: GateResult, *, suite: str) -> Evidence:
    """The evidence a gate's verdict on `report` amounts to: what the gate writes, and what
    `verify` re-derives from the recordings to check a committed file."""
    header = as_report(report).header
    arm = header.arm(gate.arm)
    return Evidence(
        prompt=arm.prompt.name,
        version=arm.prompt.version,
        prompt_hash=arm.prompt.hash,
        suite=suite,
        dataset=header.dataset,
        dataset_hash=header.dataset_hash,
        models=arm.models,
        judges=arm.judges,
        verdict="pass" if gate.passed else "fail",
        scores=evidence_scores(gate, report),
        created_at=datetime.now(UTC),
        approval=gate.approval.file if gate.approval else None,
    )


def write_gate_evidence(
    report: EvalReport | Report, gate: GateResult, *, suite: str, evidence_dir: Path
) -> Path:
    """Write `evals/evidence/<prompt>/v<N>.json` for the gated arm (only for a pass)."""
    evidence = gate_evidence(report, gate, suite=suite)
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

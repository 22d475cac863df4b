"""What an arm's summary is computed from: one `CaseScores` per case (its scores and the
figures of its attempts, without inputs or answers), the summary itself, and the merge of
a sharded run's reports.

Kept apart from `report.py` (the on-disk model) because it is the part a streamed run
computes with: a large run keeps only `CaseScores` in memory (`spool.py`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import EvalConfigError
from .report import (
    ArmResult,
    ArmSummary,
    CaseResult,
    EvalReport,
    RepeatResult,
    ScorerInfo,
    ScorerSummary,
    TagSummary,
)
from .stats import mean, mean_interval, percentile


@dataclass(frozen=True, slots=True)
class CaseScores:
    """What summaries, statistics and the gate read of one case: its scores and the figures
    of its attempts, without the inputs and answers (which a large run keeps on disk)."""

    id: str
    index: int
    tags: tuple[str, ...]
    scores: dict[str, float]
    unstable: tuple[str, ...]
    latencies: tuple[float, ...]  # one per attempt, as are the costs
    costs: tuple[float, ...]
    errors: int
    input_tokens: int
    output_tokens: int
    fallback: tuple[str, ...]  # the deployment ("?" if unknown) of each fallback's answer
    spread: dict[str, float]  # scorer -> variance of one answer's score, where repeats vary
    unanswered: int = 0  # attempts no deployment answered (an outage, a deadline, a bad key)

    @property
    def attempts(self) -> int:
        return len(self.latencies)

    @classmethod
    def of(cls, case: CaseResult) -> CaseScores:
        attempts = case.attempts
        return cls(
            id=case.id,
            index=case.index,
            tags=tuple(sys.intern(tag) for tag in case.tags),
            scores={name: _shared(value) for name, value in case.scores.items()},
            unstable=tuple(sys.intern(name) for name in case.unstable),
            latencies=tuple(a.latency_s for a in attempts),
            costs=tuple(_shared(a.cost_usd) for a in attempts),
            errors=sum(1 for a in attempts if a.error is not None),
            input_tokens=sum(a.input_tokens for a in attempts),
            output_tokens=sum(a.output_tokens for a in attempts),
            fallback=tuple(a.deployment or "?" for a in attempts if a.fallback_used),
            spread=_spread(attempts) if len(attempts) > 1 else {},
            unanswered=sum(1 for a in attempts if a.error is not None and a.deployment is None),
        )


def _spread(attempts: Sequence[RepeatResult]) -> dict[str, float]:
    """Per scorer, the variance of one answer's score around the case's mean (n - 1), for
    the scorers whose score differs between repeats: what more repeats would average out."""
    spread: dict[str, float] = {}
    for name in attempts[0].scores:
        values = [a.scores[name].score for a in attempts if name in a.scores]
        if len(values) > 1 and any(v != values[0] for v in values):
            centre = mean(values)
            spread[name] = math.fsum((v - centre) ** 2 for v in values) / (len(values) - 1)
    return spread


# A large run holds one `CaseScores` per case; most scores are a handful of values (0, 1,
# 0.5...), so equal floats are shared rather than held once per case (floats are immutable).
_SHARED_FLOATS: dict[float, float] = {}
_SHARED_MAX = 4096


def _shared(value: float) -> float:
    if math.copysign(1.0, value) < 0:  # -0.0 equals 0.0 as a key, but prints apart
        return value
    found = _SHARED_FLOATS.get(value)
    if found is not None:
        return found
    if len(_SHARED_FLOATS) < _SHARED_MAX:
        _SHARED_FLOATS[value] = value
    return value


def summarize(cases: list[CaseResult], scorers: list[ScorerInfo]) -> ArmSummary:
    """Per-scorer, per-tag and overall aggregates of an arm's cases."""
    return summarize_scores([CaseScores.of(case) for case in cases], scorers)


def summarize_scores(cases: Sequence[CaseScores], scorers: list[ScorerInfo]) -> ArmSummary:
    """`summarize` from the cases' scores alone (what a streamed run keeps in memory)."""
    by_scorer: dict[str, ScorerSummary] = {}
    for info in scorers:
        values = [c.scores[info.name] for c in cases if info.name in c.scores]
        low, high = mean_interval(values)
        by_scorer[info.name] = ScorerSummary(
            mean=round(mean(values), 6),
            ci_low=round(low, 6),
            ci_high=round(high, 6),
            n=len(values),
            passed=sum(1 for v in values if v >= info.pass_score),
        )
    tags: dict[str, TagSummary] = {}
    by_tag: dict[str, list[CaseScores]] = {}
    for case in cases:
        for tag in dict.fromkeys(case.tags):
            by_tag.setdefault(tag, []).append(case)
    for tag in sorted(by_tag):
        tagged = by_tag[tag]
        tags[tag] = TagSummary(
            n=len(tagged),
            scores={
                info.name: round(mean([c.scores[info.name] for c in tagged]), 6) for info in scorers
            },
        )
    latencies = [latency for c in cases for latency in c.latencies]
    return ArmSummary(
        cases=len(cases),
        errors=sum(c.errors for c in cases),
        overall=round(mean([s.mean for s in by_scorer.values()]), 6),
        scorers=by_scorer,
        tags=tags,
        latency_p50_s=round(percentile(latencies, 50), 6),
        latency_p95_s=round(percentile(latencies, 95), 6),
        input_tokens=sum(c.input_tokens for c in cases),
        output_tokens=sum(c.output_tokens for c in cases),
        cost_usd=round(sum(cost for c in cases for cost in c.costs), 8),
        unstable_cases=[c.id for c in cases if c.unstable],
    )


def merge_reports(reports: list[EvalReport]) -> EvalReport:
    """Join the shards of one run into the report an unsharded run would have written."""
    if not reports:
        raise EvalConfigError("nothing to merge: give the shard reports")
    first = reports[0]
    _check_mergeable(reports)
    arms = []
    for position, arm in enumerate(first.arms):
        cases: dict[str, CaseResult] = {}
        models: dict[str, set[str]] = {}
        judges: dict[str, set[str]] = {}
        for report in reports:
            other = report.arms[position]
            if other.prompt != arm.prompt:
                raise EvalConfigError(f"cannot merge: arm '{arm.name}' ran different prompts")
            for case in other.cases:
                if case.id in cases:
                    raise EvalConfigError(f"cannot merge: case '{case.id}' is in two shards")
                cases[case.id] = case
            for alias, answered in other.models.items():
                models.setdefault(alias, set()).update(answered)
            for alias, judged in other.judges.items():
                judges.setdefault(alias, set()).update(judged)
        ordered = sorted(cases.values(), key=lambda c: c.index)
        arms.append(
            ArmResult(
                name=arm.name,
                prompt=arm.prompt,
                models={alias: sorted(found) for alias, found in sorted(models.items())},
                judges={alias: sorted(found) for alias, found in sorted(judges.items())},
                cases=ordered,
                summary=summarize(ordered, first.scorers),
            )
        )
    return first.model_copy(update={"arms": arms, "shard": None, "gate": None})


def _check_mergeable(reports: list[EvalReport]) -> None:
    """Shards of one run: same suite, data, arms; shard numbers 1..n exactly once."""
    first = reports[0]
    for shard_report in reports[1:]:
        for field in ("suite", "dataset_hash", "repeats", "mode"):
            if getattr(shard_report, field) != getattr(first, field):
                raise EvalConfigError(
                    f"cannot merge: shards differ in '{field}' "
                    f"({getattr(first, field)!r} vs {getattr(shard_report, field)!r})"
                )
        if [a.name for a in shard_report.arms] != [a.name for a in first.arms]:
            raise EvalConfigError("cannot merge: shards ran different arms")
    shards = [r.shard for r in reports]
    if all(s is not None for s in shards):
        counts = {s.count for s in shards if s is not None}
        indexes = sorted(s.index for s in shards if s is not None)
        if len(counts) != 1 or indexes != list(range(1, next(iter(counts)) + 1)):
            raise EvalConfigError(
                f"cannot merge: expected shards 1..n exactly once, got {indexes} of {counts}"
            )

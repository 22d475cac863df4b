"""`EvalReport`: the complete, versioned record of one eval run (and, for a gate, its verdict).

The JSON report is the source of truth; Markdown, JUnit and HTML are views of it
(`render.py`). A baseline is a report committed under `evals/baselines/`. The schema is
`EvalReport.model_json_schema()`; bump `REPORT_SCHEMA_VERSION` on any breaking change.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..calls import CallResult, PromptRef
from ..files import REPORT_CAP, atomic_write, display_path, read_text
from .errors import EvalConfigError
from .stats import mean, mean_interval, percentile

REPORT_SCHEMA_VERSION = 1

Mode = Literal["live", "record", "replay"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoreResult(_Model):
    score: float = Field(ge=0, le=1)
    reason: str


class RepeatResult(CallResult):
    """One call of the target for one case (one of `repeats`): the gateway's `CallResult`
    (built from the recorded response with `RepeatResult.of`), its error and its scores."""

    repeat: int = Field(ge=0)
    error: str | None = None
    scores: dict[str, ScoreResult]


class CaseResult(_Model):
    id: str
    index: int = Field(ge=0, description="Position in the dataset (orders merged shards).")
    tags: list[str]
    inputs: dict[str, Any]
    expected: dict[str, Any]
    attempts: list[RepeatResult] = Field(min_length=1)
    scores: dict[str, float] = Field(description="Scorer -> mean score over the repeats.")
    unstable: list[str] = Field(
        default_factory=list, description="Scorers whose verdict flips across repeats."
    )


class ScorerSummary(_Model):
    mean: float
    ci_low: float
    ci_high: float
    n: int
    passed: int = Field(description="Cases at or above the scorer's pass_score.")


class TagSummary(_Model):
    n: int
    scores: dict[str, float]


class ArmSummary(_Model):
    cases: int
    errors: int
    overall: float = Field(description="Unweighted mean of the scorers' means.")
    scorers: dict[str, ScorerSummary]
    tags: dict[str, TagSummary]
    latency_p50_s: float
    latency_p95_s: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    unstable_cases: list[str] = Field(default_factory=list)


class PromptInfo(_Model):
    """An arm's `PromptRef` and the alias it ran on, as report.json spells them (`hash`)."""

    name: str
    version: int
    label: str | None
    hash: str
    alias: str

    @classmethod
    def of(cls, ref: PromptRef, alias: str) -> PromptInfo:
        return cls(
            name=ref.name, version=ref.version, label=ref.label, hash=ref.content_hash, alias=alias
        )


class ArmResult(_Model):
    name: str
    prompt: PromptInfo
    models: dict[str, list[str]] = Field(
        description="Alias -> deployment model strings that answered (target and judge)."
    )
    cases: list[CaseResult]
    summary: ArmSummary


class ScorerInfo(_Model):
    name: str
    type: str
    pass_score: float


class Shard(_Model):
    index: int = Field(ge=1)
    count: int = Field(ge=1)


class ThresholdCheck(_Model):
    scorer: str
    mean: float
    ci_low: float
    ci_high: float
    threshold: float
    passed: bool


class RegressionCheck(_Model):
    scorer: str
    baseline_mean: float
    new_mean: float
    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    p_adjusted: float
    margin: float
    n: int
    regressed: bool = Field(
        description="A drop beyond the margin is shown (`outcome` fail); see `decision`."
    )
    rule: Literal["non-inferiority", "confidently-worse"] = "confidently-worse"
    decision: str = Field(default="", description="Why it passed or failed, in one sentence.")
    outcome: Literal["pass", "fail", "inconclusive"] | None = Field(
        default=None,
        description="pass (non-inferiority shown), fail (a drop beyond the margin shown) or "
        "inconclusive (neither); a report written before outcomes existed gets it from its "
        "interval when read.",
    )
    rules_out: float | None = Field(
        default=None, description="The smallest drop this sample rules out (0: any drop)."
    )
    delta_sd: float | None = Field(default=None, description="SD of the per-case deltas.")
    cases_to_decide: int | None = Field(
        default=None,
        description="Roughly how many cases decide at the margin (None with `delta_sd` set: "
        "no number does, the observed delta sits on the margin).",
    )
    repeats_to_decide: int | None = Field(
        default=None,
        description="Where answers vary across repeats: roughly how many repeats decide with "
        "this many cases (None: repeats alone do not, or answers do not vary).",
    )

    @model_validator(mode="after")
    def _outcome_of_old_reports(self) -> RegressionCheck:
        """A report written before three outcomes read as it was decided then: its interval
        says which of them it was."""
        if self.outcome is None:
            bound = -self.margin - 1e-12
            if not self.regressed:
                self.outcome = "pass"
            elif self.rule == "non-inferiority" and self.ci_high >= bound:
                self.outcome = "inconclusive"
                self.regressed = False  # then "not passed"; now only a drop shown is one
            else:
                self.outcome = "fail"
        return self


class Approval(_Model):
    """The reviewed approval an inconclusive gate was accepted with (`evals.approval`)."""

    file: str = Field(description="The approval file, relative to the repository root.")
    approved_by: str
    reason: str


GateVerdict = Literal["pass", "fail", "inconclusive", "pass-with-approval"]


class GateResult(_Model):
    verdict: GateVerdict = Field(
        description="pass, fail, inconclusive (the data decide neither way: not a pass) or "
        "pass-with-approval (inconclusive, accepted by a committed approval)."
    )
    arm: str
    baseline: str | None
    confidence: float
    thresholds: list[ThresholdCheck]
    regressions: list[RegressionCheck]
    excluded_unstable: list[str] = Field(default_factory=list)
    answered_by_fallback: list[str] = Field(
        default_factory=list,
        description="Cases a later deployment of the chain answered, not the model under test.",
    )
    reasons: list[str] = Field(default_factory=list, description="Why it failed, one per line.")
    report_hash: str | None = Field(
        default=None,
        description="sha256 of the gate's canonical content (`approval.report_hash`): what an "
        "approval of an inconclusive gate names.",
    )
    approval: Approval | None = None

    @property
    def passed(self) -> bool:
        """Whether the gate lets the version through (a pass, or an approved inconclusive)."""
        return self.verdict in ("pass", "pass-with-approval")


class EvalReport(_Model):
    schema_version: Literal[1] = 1
    suite: str
    suite_file: str
    dataset: str
    dataset_hash: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    mode: Mode
    repeats: int
    shard: Shard | None = None
    scorers: list[ScorerInfo]
    arms: list[ArmResult] = Field(min_length=1)
    gate: GateResult | None = None

    def arm(self, name: str | None = None) -> ArmResult:
        if name is None:
            return self.arms[0]
        for arm in self.arms:
            if arm.name == name:
                return arm
        known = ", ".join(a.name for a in self.arms)
        raise EvalConfigError(f"report of suite '{self.suite}' has no arm '{name}' ({known})")


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


def read_report(path: Path) -> EvalReport:
    """Read a report or baseline; a malformed one is an `EvalConfigError` naming the field."""
    where = display_path(path)
    try:
        data = json.loads(read_text(path, cap=REPORT_CAP))
    except FileNotFoundError:
        raise EvalConfigError(f"{where}: report not found") from None
    except RecursionError:
        raise EvalConfigError(f"{where}: not a readable JSON report (nested too deeply)") from None
    except (OSError, json.JSONDecodeError) as error:
        raise EvalConfigError(f"{where}: not a readable JSON report ({error})") from None
    except UnicodeDecodeError as error:
        raise EvalConfigError(
            f"{where}: not UTF-8 text (byte {error.start}); regenerate it or restore it from git"
        ) from None
    if isinstance(data, dict) and data.get("schema_version") not in (None, REPORT_SCHEMA_VERSION):
        raise EvalConfigError(
            f"{where}: report schema_version {data.get('schema_version')} is not "
            f"{REPORT_SCHEMA_VERSION}; regenerate it with this version of the tool"
        )
    try:
        return EvalReport.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(report)"
        raise EvalConfigError(f"{where}: field '{field}': {first['msg']}") from None


def write_json(report: EvalReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, report.model_dump_json(indent=1) + "\n")
    return path


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
        ordered = sorted(cases.values(), key=lambda c: c.index)
        arms.append(
            ArmResult(
                name=arm.name,
                prompt=arm.prompt,
                models={alias: sorted(found) for alias, found in sorted(models.items())},
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

"""`EvalReport`: the complete, versioned record of one eval run (and, for a gate, its verdict).

The JSON report is the source of truth; Markdown, JUnit and HTML are views of it
(`render.py`). A baseline is a report committed under `evals/baselines/`. The schema is
`EvalReport.model_json_schema()`; bump `REPORT_SCHEMA_VERSION` on any breaking change.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..calls import CallResult, PromptRef
from ..errors import invalid_field
from ..files import REPORT_CAP, atomic_write, display_path, read_text
from .errors import EvalConfigError

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
        description="Alias -> deployment model strings that answered the cases under test "
        "(in a report written before `judges` existed, the judges' too)."
    )
    judges: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Alias -> deployment model strings that judged the answers (llm_judge).",
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
    advisory: dict[str, str] = Field(
        default_factory=dict,
        description="llm_judge scorer -> why it does not gate: its agreement with people "
        "falls short of the suite's gate.judge_agreement (`agreement`).",
    )
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
        raise EvalConfigError(f"{where}: {invalid_field(error, whole='(report)')}") from None


def write_json(report: EvalReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, report.model_dump_json(indent=1) + "\n")
    return path

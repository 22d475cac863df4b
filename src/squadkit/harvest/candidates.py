"""What a reviewer is offered: one logged inference, why it was picked, what it said.

A `Candidate` is a line of the review file (`evals/review/<suite>.jsonl`, see
`review_file.py`): the inference's id and prompt, the reasons harvest picked it, the inputs
and the output as the log kept them (redacted), the feedback callers sent, and the expected
answer a reviewer accepts unless they edit it (`proposed_expected`).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["REASONS", "Candidate", "FeedbackSeen", "Reason", "propose_expected"]

Reason = Literal["correction", "negative_feedback", "low_score", "fallback", "sample"]
REASONS: tuple[Reason, ...] = ("correction", "negative_feedback", "low_score", "fallback", "sample")
"""In the order a harvest with a `--limit` keeps them: what a person said was wrong first."""


class FeedbackSeen(BaseModel):
    """One feedback on the inference (or on its episode), as the reviewer sees it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str
    kind: str
    value: Any
    on: Literal["inference", "episode"] = "inference"


class Candidate(BaseModel):
    """One line of the review file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inference_id: str
    created_at: str
    feature: str
    prompt: str | None = None
    prompt_version: int | None = None
    prompt_hash: str | None = None
    reasons: list[Reason] = Field(min_length=1)
    inputs: dict[str, Any]
    inputs_sha256: str
    output: Any = None
    feedback: list[FeedbackSeen] = Field(default_factory=list)
    scores: dict[str, float] = Field(default_factory=dict)
    proposed_expected: dict[str, Any] = Field(default_factory=dict)


def propose_expected(
    output: Any, feedback: list[FeedbackSeen], expected_keys: list[str]
) -> dict[str, Any]:
    """The expected answer a reviewer accepts by default: the last correction a caller sent,
    else the model's own output, kept to the keys the dataset's cases label
    (`expected_keys`, e.g. queue and priority, not the rationale) when it has any."""
    corrections = [item.value for item in feedback if item.kind == "correction"]
    answer = corrections[-1] if corrections else output
    if isinstance(answer, str):
        try:
            parsed = json.loads(answer)
        except ValueError:
            parsed = None
        answer = parsed if isinstance(parsed, dict) else {"output": answer}
    if not isinstance(answer, dict):
        return {} if answer is None else {"output": answer}
    if expected_keys:
        kept = {key: answer[key] for key in expected_keys if key in answer}
        if kept:
            return kept
    return dict(answer)

"""One logged inference: what the service answered, how, for whom, and (opt-in) the content.

Content is personal data more often than not, so it is stored only when the squad opts in
(`SQUAD_INFERENCE_LOG_CAPTURE_CONTENT=true`), and then redacted the way trace content is
(config/observability.yaml `redaction`). Without the opt-in a row keeps the SHA-256 and
the length of the inputs and of the output: enough to find duplicates, to match a dataset
case by content hash and to see sizes, never the text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

__all__ = ["Content", "InferenceRecord", "canonical_json", "content_of", "inputs_sha256"]


def canonical_json(value: Any) -> str:
    """The JSON whose SHA-256 is stored: sorted keys, no spaces (a dataset case's inputs
    hash the same way whatever their key order, which is how harvest tells a logged input
    already in the dataset)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return _CANONICAL.encode(value)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""`json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`, whose
encoder `json.dumps` would build again for every call (it keeps only its default one)."""


def inputs_sha256(inputs: Any) -> str:
    """The hash the log stores for `inputs` (`inputs_sha256`), computed the same way."""
    return hashlib.sha256(canonical_json(inputs).encode()).hexdigest()


@dataclass(frozen=True)
class Content:
    """Inputs or output as stored: always a hash and a length, the text only when opted in."""

    sha256: str | None
    chars: int | None
    text: str | None


def content_of(text: str | None, *, keep: bool, redact: Callable[[str], str]) -> Content:
    """`text`'s hash and length (of the original), and its redacted text when `keep`."""
    if text is None:
        return Content(None, None, None)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return Content(digest, len(text), redact(text) if keep else None)


@dataclass
class InferenceRecord:
    """A row of the `inferences` table (see store.py for the columns)."""

    id: str
    created_at: datetime
    request_id: str
    feature: str
    outcome: str = "ok"
    """`ok`, or the type of the error the caller got as a problem (`ProviderUnavailable`...)."""
    caller: str | None = None
    episode_id: str | None = None
    prompt: str | None = None
    prompt_version: int | None = None
    prompt_label: str | None = None
    prompt_hash: str | None = None
    alias: str | None = None
    deployment: str | None = None
    fallback_used: bool = False
    attempts: int = 0
    latency_ms: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)
    inputs: Content = field(default_factory=lambda: Content(None, None, None))
    output: Content = field(default_factory=lambda: Content(None, None, None))
    experiment: str | None = None
    """The running experiment on the prompt's label, when one ran (`squadkit.experiments`)."""
    arm: str | None = None
    """Its arm that served (None: no subject key, served by the label and not analysed)."""
    forced: bool = False
    """The caller chose the label (`X-Prompt-Label`): never analysed."""

    def row(self) -> dict[str, Any]:
        """The column values of this record."""
        return {
            "id": self.id,
            "created_at": self.created_at,
            "request_id": self.request_id,
            "feature": self.feature,
            "outcome": self.outcome,
            "caller": self.caller,
            "episode_id": self.episode_id,
            "prompt": self.prompt,
            "prompt_version": self.prompt_version,
            "prompt_label": self.prompt_label,
            "prompt_hash": self.prompt_hash,
            "alias": self.alias,
            "deployment": self.deployment,
            "fallback_used": self.fallback_used,
            "attempts": self.attempts,
            "latency_ms": self.latency_ms,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "scores": self.scores or None,
            "inputs_sha256": self.inputs.sha256,
            "inputs_chars": self.inputs.chars,
            "inputs": self.inputs.text,
            "output_sha256": self.output.sha256,
            "output_chars": self.output.chars,
            "output": self.output.text,
            "experiment": self.experiment,
            "arm": self.arm,
            "forced": self.forced,
        }

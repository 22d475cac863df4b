"""What one gateway call is, as its callers and observers see it.

`CallResult` is what a model call gave back (text, output, who answered, usage), defined
once here: `Completion`, the gateway's result, is one, and the evals record it and report it
per repeat as subclasses, converted by `CallResult.of`, so a field added here reaches every
view of a call. `PromptRef` says which prompt version made the messages, and
`GatewayObserver` is the hook observability implements (`CallContext` when a call starts,
one `RouterCall` per Router call, the outcome at the end). They live apart from `Gateway` so
observability and the prompt registry can name them without the call machinery.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field

from .errors import DeploymentFailure

Message = Mapping[str, Any]


@dataclass(frozen=True)
class PromptRef:
    """Which prompt version produced a call's messages (the prompt registry builds it)."""

    name: str
    version: int
    label: str | None
    content_hash: str


class CallResult(BaseModel):
    """What one model call gave back: the fields every view of a call shares.

    The gateway's `Completion`, a recording (`evals.RecordedResponse`) and a report's repeat
    (`evals.report.RepeatResult`) extend it, and `of` converts between them, so adding a
    field here is the one edit that carries it from the gateway into recordings and reports.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = ""
    output: Any = None
    deployment: str | None = Field(
        default=None, description="The pinned model string that answered (None: no answer)."
    )
    fallback_used: bool = Field(
        default=False, description="A later deployment of the chain answered, not the first."
    )
    latency_s: float = Field(default=0.0, ge=0)
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    cost_usd: float = Field(default=0.0, ge=0)

    @classmethod
    def of(cls, result: CallResult, **fields: Any) -> Self:
        """This type built from `result`'s call-result fields, with `fields` added or replaced."""
        shared = {name: getattr(result, name) for name in CallResult.model_fields}
        return cls(**(shared | fields))


class Completion(CallResult):
    """One answered call. `deployment` is the pinned model string that actually answered."""

    deployment: str
    alias: str
    attempts: int = Field(ge=1, description="Provider requests made: retries and repairs count.")
    prompt: PromptRef | None = None
    # Why the model stopped, as the provider said: "stop", "length" (hit max_tokens, so the
    # text may be cut), "content_filter", "tool_calls"; None when it did not say.
    finish_reason: str | None = None
    # Why the deployments before the one that answered did not (empty when the first did, or
    # when it was skipped while cooling down). Key-free; never written to a recording.
    failures: tuple[DeploymentFailure, ...] = Field(default=(), exclude=True)


@dataclass(frozen=True)
class CallContext:
    """What an observer learns when a call starts. Content is there; recording it is opt-in."""

    call_id: str
    alias: str
    chain: tuple[str, ...]
    messages: Sequence[Message]
    prompt: PromptRef | None
    started_at: float = field(default_factory=time.time)
    # The first deployment's defaults merged with the call's params, and the output schema:
    # observability records the request params and scores sampled answers against the schema.
    params: Mapping[str, Any] = field(default_factory=dict)
    output_schema: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class RouterCall:
    """One Router call of a gateway call: the answer, or the structured-output repair.

    `failures` are the tries that failed before it answered (retries, fallbacks), each naming
    the pinned model; `deployment` is the one that answered, None when none did.
    """

    purpose: Literal["answer", "repair"]
    deployment: str | None
    latency_s: float
    input_tokens: int
    output_tokens: int
    failures: tuple[DeploymentFailure, ...]


class GatewayObserver(Protocol):
    """Hook for tracing/metrics: the gateway calls these; they must not raise."""

    def on_call_start(self, call: CallContext) -> None: ...

    def on_attempt(self, call: CallContext, attempt: RouterCall) -> None: ...

    def on_call_end(
        self, call: CallContext, completion: Completion | None, error: BaseException | None
    ) -> None: ...


class NoopObserver:
    """The default observer: does nothing."""

    def on_call_start(self, call: CallContext) -> None:
        return None

    def on_attempt(self, call: CallContext, attempt: RouterCall) -> None:
        return None

    def on_call_end(
        self, call: CallContext, completion: Completion | None, error: BaseException | None
    ) -> None:
        return None

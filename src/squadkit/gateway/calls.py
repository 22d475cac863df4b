"""What one gateway call is, as its callers and observers see it.

`Completion` is the result, `PromptRef` says which prompt version made the messages, and
`GatewayObserver` is the hook observability implements (`CallContext` when a call starts,
one `Attempt` per Router call, the outcome at the end). They live apart from `Gateway` so
observability and the prompt registry can name them without the call machinery.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .errors import DeploymentFailure

Message = Mapping[str, Any]


@dataclass(frozen=True)
class PromptRef:
    """Which prompt version produced a call's messages (the prompt registry builds it)."""

    name: str
    version: int
    label: str | None
    content_hash: str


@dataclass(frozen=True)
class Completion:
    """One answered call. `deployment` is the pinned model string that actually answered."""

    text: str
    output: Any
    alias: str
    deployment: str
    fallback_used: bool
    attempts: int
    latency_s: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    prompt: PromptRef | None = None
    # Why the model stopped, as the provider said: "stop", "length" (hit max_tokens, so the
    # text may be cut), "content_filter", "tool_calls"; None when it did not say.
    finish_reason: str | None = None


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
class Attempt:
    """One Router call of a gateway call: the answer, or the structured-output repair."""

    purpose: Literal["answer", "repair"]
    deployment: str | None
    latency_s: float
    input_tokens: int
    output_tokens: int
    failures: tuple[DeploymentFailure, ...]


class GatewayObserver(Protocol):
    """Hook for tracing/metrics: the gateway calls these; they must not raise."""

    def on_call_start(self, call: CallContext) -> None: ...

    def on_attempt(self, call: CallContext, attempt: Attempt) -> None: ...

    def on_call_end(
        self, call: CallContext, completion: Completion | None, error: BaseException | None
    ) -> None: ...


class NoopObserver:
    """The default observer: does nothing."""

    def on_call_start(self, call: CallContext) -> None:
        return None

    def on_attempt(self, call: CallContext, attempt: Attempt) -> None:
        return None

    def on_call_end(
        self, call: CallContext, completion: Completion | None, error: BaseException | None
    ) -> None:
        return None

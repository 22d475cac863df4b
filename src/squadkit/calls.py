"""What one model call is, from the prompt that asked to the answer and who gave it.

These types cross every layer, so they are defined once, here, below the prompt registry,
the gateway and observability (which all name them):

- `PromptRef`: which prompt version made a call's messages (name, version, label, content
  hash); `RenderedPrompt`, what `PromptVersion.render` gives, carries one and is what a
  feature hands the gateway (`ModelGateway.acomplete_prompt(rendered)`).
- `CallResult`: what a model call gave back (text, output, who answered, usage). The
  gateway's `Completion` is one, and the evals record it and report it per repeat as
  subclasses, converted by `CallResult.of`, so a field added here reaches every view.
- `Provenance`: which prompt version answered, through which deployment, at what cost, in
  the flat shape a feature returns beside its answer and the service's response carries
  (`completion.provenance`), so a squad's feature never copies fields by hand.
- `DeploymentFailure`: why one deployment of a chain did not answer (typed cause).
- `GatewayObserver`: the hook observability implements (`CallContext` when a call starts,
  one `RouterCall` per Router call, the outcome at the end).

Nothing here imports litellm, jsonschema or the registry: it is plain data.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "NOT_RETRIED_STATUSES",
    "CallContext",
    "CallResult",
    "Completion",
    "DeploymentFailure",
    "FailureCause",
    "GatewayObserver",
    "Message",
    "NoopObserver",
    "PromptRef",
    "Provenance",
    "RenderedPrompt",
    "RouterCall",
]

Message = Mapping[str, Any]


FailureCause = Literal[
    "rate_limited",
    "timeout",
    "auth",
    "bad_request",
    "not_found",
    "server_error",
    "connection",
    "cooling_down",
    "other",
]
"""Why a deployment failed, in a closed set metrics and spans can group by."""

# Exception class names (anywhere in the MRO of the exception or of what it was raised from,
# so litellm's, openai's and the stdlib's all count) -> cause, checked in order: a litellm
# `Timeout` is also an `APIConnectionError`. Then the HTTP status decides.
_CAUSE_BY_TYPE: tuple[tuple[frozenset[str], FailureCause], ...] = (
    (frozenset({"RouterRateLimitError", "RouterRateLimitErrorBasic"}), "cooling_down"),
    (frozenset({"Timeout", "APITimeoutError", "TimeoutError"}), "timeout"),
    (frozenset({"RateLimitError"}), "rate_limited"),
    (frozenset({"AuthenticationError", "PermissionDeniedError"}), "auth"),
    (frozenset({"NotFoundError"}), "not_found"),
    (frozenset({"BadRequestError", "UnprocessableEntityError"}), "bad_request"),
    (frozenset({"APIConnectionError", "ConnectionError"}), "connection"),
)


NOT_RETRIED_STATUSES = frozenset({400, 401, 403, 404, 422})
"""HTTP statuses that say the request itself is wrong (bad, unauthenticated, forbidden,
unknown model, unprocessable): sent again, it fails the same way, so no gateway path
retries it."""


@dataclass(frozen=True)
class DeploymentFailure:
    """Why one deployment of a chain did not answer, in fields set where the gateway knew them.

    `deployment` is the pinned model string (never a Router group), `cause` one of
    `FailureCause`, `error_type` the exception's class name (`RateLimitError`; None when
    nothing was raised, as for a cooled-down deployment the call skipped), `status_code` the
    provider's HTTP status, and `reason` the one key-free line a person reads.
    """

    deployment: str
    cause: FailureCause
    reason: str
    error_type: str | None = None
    status_code: int | None = None
    attempts: int = 1

    @classmethod
    def of(
        cls,
        deployment: str,
        error: BaseException | None,
        *,
        attempts: int = 1,
        secrets: Sequence[str] = (),
    ) -> DeploymentFailure:
        """`deployment` failed with `error`: its type, status, cause and first line.

        `secrets` (the keys the gateway read) are replaced by `***` in the reason.
        """
        if error is None:
            return cls(deployment, "other", "failed (no exception reported)", attempts=attempts)
        name = type(error).__name__
        status = getattr(error, "status_code", None)
        status = status if isinstance(status, int) and not isinstance(status, bool) else None
        text = str(getattr(error, "message", None) or error)
        first = text.strip().splitlines()[0] if text.strip() else ""
        for prefix in ("litellm.", name + ":", " "):
            first = first.removeprefix(prefix)
        first = first.removeprefix(name + ":").strip()[:200]
        for secret in secrets:
            if secret:
                first = first.replace(secret, "***")
        return cls(
            deployment=deployment,
            cause=_cause(error, status),
            reason=f"{name}{f' {status}' if status else ''}: {first}",
            error_type=name,
            status_code=status,
            attempts=attempts,
        )

    @classmethod
    def cooling_down(cls, deployment: str) -> DeploymentFailure:
        """`deployment` was left out of the call: litellm had cooled it down."""
        return cls(deployment, "cooling_down", "skipped: cooling down after recent failures")

    @property
    def retryable(self) -> bool:
        """A request the provider refused as wrong (`NOT_RETRIED_STATUSES`) fails again the
        same way: neither gateway path retries it."""
        return self.status_code not in NOT_RETRIED_STATUSES

    def __str__(self) -> str:
        times = f" ({self.attempts} attempts)" if self.attempts > 1 else ""
        note = "" if self.retryable else " [not retried]"
        return f"{self.deployment}: {self.reason}{times}{note}"


def _cause(error: BaseException, status: int | None) -> FailureCause:
    for link in _chain(error):
        names = {klass.__name__ for klass in type(link).__mro__}
        for types, cause in _CAUSE_BY_TYPE:
            if names & types:
                return cause
    by_status: dict[int, FailureCause] = {
        408: "timeout",
        429: "rate_limited",
        401: "auth",
        403: "auth",
        404: "not_found",
        400: "bad_request",
        413: "bad_request",
        422: "bad_request",
    }
    if status in by_status:
        return by_status[status]
    if status is not None and status >= 500:
        return "server_error"
    return "other"


def _chain(error: BaseException) -> list[BaseException]:
    """`error` and what it was raised from, down to the next error litellm mapped.

    litellm raises a refused connection as a 500 `InternalServerError` whose context holds
    the `APIConnectionError`; an earlier litellm error in the context is another try's (a
    fallback runs while the Router handles the failure before it), so the walk stops there.
    """
    chain = [error]
    link = error.__cause__ or error.__context__
    while link is not None and len(chain) < 10:
        if type(link).__module__.startswith("litellm.exceptions") or link in chain:
            break
        chain.append(link)
        link = link.__cause__ or link.__context__
    return chain


@dataclass(frozen=True)
class PromptRef:
    """Which prompt version produced a call's messages (the prompt registry builds it)."""

    name: str
    version: int
    label: str | None
    content_hash: str


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt ready for the gateway: its messages, alias, params and schema, and its `ref`.

    `PromptVersion.render` builds it; `ModelGateway.acomplete_prompt(rendered)` sends it as
    one argument, so the prompt's identity reaches the completion, traces and reports.
    """

    ref: PromptRef
    model: str
    messages: list[dict[str, str]]
    params: dict[str, Any]
    output_schema: dict[str, Any] | None

    @property
    def text(self) -> str:
        """The content of a single-text prompt (all messages joined otherwise)."""
        return "\n\n".join(message["content"] for message in self.messages)


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

    @property
    def provenance(self) -> Provenance:
        """Which prompt version answered, through which deployment: what a feature returns."""
        if self.prompt is None:
            raise ValueError(
                f"a completion of alias '{self.alias}' without a prompt has no provenance; "
                "call the gateway with the rendered prompt (acomplete_prompt)"
            )
        return Provenance(
            prompt=self.prompt.name,
            prompt_version=self.prompt.version,
            prompt_label=self.prompt.label,
            prompt_hash=self.prompt.content_hash,
            model_alias=self.alias,
            deployment=self.deployment,
            fallback_used=self.fallback_used,
            attempts=self.attempts,
            latency_ms=round(self.latency_s * 1000, 3),
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cost_usd=self.cost_usd,
        )


class Provenance(BaseModel):
    """Which prompt version and which model deployment produced an answer, and at what cost.

    The flat, JSON-friendly view of a `Completion` and its `PromptRef` that a feature returns
    beside its answer (`completion.provenance`) and the service's response carries, so a
    caller can quote exactly what answered. Its field names are the service's wire names.
    """

    model_config = ConfigDict(frozen=True)

    prompt: str
    prompt_version: int
    prompt_label: str | None
    prompt_hash: str
    model_alias: str
    deployment: str = Field(description="The pinned model string that answered.")
    fallback_used: bool = Field(description="True when a later link of the chain answered.")
    attempts: int
    latency_ms: float
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None


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

"""Support-ticket triage: a ticket in, a queue, a priority and a one-line rationale out.

The taxonomy (queues, priorities, tiers, channels) is shared with the prompt's schemas,
the eval dataset and the offline models (`offline/triage.py`). The prompt text, its
model alias and its output schema live in `prompts/triage/`; this module only says what
goes in and what comes out. `FEATURE` (at the end) declares it: the route serves it and the
eval suite `evals/triage.yaml` runs it, scoring the `decision` it returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from squadkit.features import Feature
from squadkit.gateway import InvalidOutput

if TYPE_CHECKING:
    from squadkit.gateway import ModelGateway
    from squadkit.prompts import PromptRegistry

TRIAGE_PROMPT = "triage"
"""Name of the prompt in `prompts/` that this feature renders."""

Queue = Literal["billing", "technical", "account", "shipping", "sales", "security"]
Priority = Literal["low", "normal", "high", "urgent"]
CustomerTier = Literal["free", "pro", "enterprise"]
Channel = Literal["email", "chat", "web", "phone"]


class Ticket(BaseModel):
    """A support ticket as the core platform sends it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # `pattern` (any non-space character) keeps blank text out, in the schema too.
    subject: str = Field(
        min_length=1, max_length=200, pattern=r"\S", description="The ticket's subject line."
    )
    body: str = Field(
        min_length=1,
        max_length=8000,
        pattern=r"\S",
        description="The customer's message, plain text.",
    )
    customer_tier: CustomerTier = Field(description="The customer's plan.")
    channel: Channel = Field(description="Where the ticket came in.")


class TriageDecision(BaseModel):
    """Where the ticket goes and how urgent it is; validated against the prompt's schema."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    queue: Queue
    priority: Priority
    rationale: str = Field(max_length=1000, description="One or two sentences on why.")


class TriageMetadata(BaseModel):
    """Which prompt version and which model deployment produced a decision, and at what cost."""

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


class TriageResult(BaseModel):
    """A decision plus its provenance."""

    model_config = ConfigDict(frozen=True)

    decision: TriageDecision
    metadata: TriageMetadata


async def triage_ticket(
    ticket: Ticket,
    *,
    registry: PromptRegistry,
    gateway: ModelGateway,
    label: str | None = None,
    deadline_s: float | None = None,
) -> TriageResult:
    """Triage one ticket with the `triage` prompt at `label` (default: production).

    Raises the gateway's typed errors (`ProviderUnavailable`, `InvalidOutput`,
    `DeadlineExceeded`), the registry's `PromptNotFound` for an unknown label, and
    `PromptInputError` when the ticket does not fit the prompt's input schema.
    """
    version = registry.get(TRIAGE_PROMPT, label=label)
    rendered = version.render(ticket.model_dump())
    completion = await gateway.acomplete(
        rendered.model,
        rendered.messages,
        params=rendered.params,
        output_schema=rendered.output_schema,
        prompt=rendered.ref,
        deadline_s=deadline_s,
    )
    try:
        decision = TriageDecision.model_validate(completion.output)
    except ValidationError as error:
        # The gateway validated the answer against the prompt's schema; reaching here means
        # the prompt's output_schema is looser than this feature's taxonomy.
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(answer)"
        raise InvalidOutput(
            completion.alias,
            completion.deployment,
            f"{rendered.name}@v{rendered.version}: answer field '{field}': {first['msg']}; "
            "tighten the prompt's output_schema to the triage taxonomy",
        ) from None
    return TriageResult(
        decision=decision,
        metadata=TriageMetadata(
            prompt=rendered.name,
            prompt_version=rendered.version,
            prompt_label=rendered.label,
            prompt_hash=rendered.content_hash,
            model_alias=completion.alias,
            deployment=completion.deployment,
            fallback_used=completion.fallback_used,
            attempts=completion.attempts,
            latency_ms=round(completion.latency_s * 1000, 3),
            input_tokens=completion.input_tokens,
            output_tokens=completion.output_tokens,
            cost_usd=completion.cost_usd,
        ),
    )


FEATURE = Feature(
    name="triage",
    prompt=TRIAGE_PROMPT,
    input_model=Ticket,
    output_model=TriageResult,
    run=triage_ticket,
    answer=lambda result: result.decision,  # what evals/triage.yaml scores
)

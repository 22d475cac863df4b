"""Support-ticket triage: a ticket in, a queue, a priority and a one-line rationale out.

The taxonomy is shared with the prompt's schemas, the dataset and `offline/triage.py`; the
prompt text, its model alias and output schema live in `prompts/triage/`. `FEATURE` (at the
end) is what the route serves and `evals/triage.yaml` runs, scoring the `decision`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from squadkit.features import Feature
from squadkit.gateway import ModelGateway, Provenance, parse_answer
from squadkit.prompts import PromptRegistry

TRIAGE_PROMPT = "triage"  # the prompt in prompts/ that this feature renders

Queue = Literal["billing", "technical", "account", "shipping", "sales", "security"]
Priority = Literal["low", "normal", "high", "urgent"]
CustomerTier = Literal["free", "pro", "enterprise"]
Channel = Literal["email", "chat", "web", "phone"]


class Ticket(BaseModel):
    """A support ticket as the core platform sends it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The limits equal prompts/triage/v*.yaml's input_schema (`squad prompts check` fails
    # when they differ); `pattern` (any non-space character) keeps blank text out, too.
    subject: str = Field(
        min_length=1, max_length=300, pattern=r"\S", description="The ticket's subject line."
    )
    body: str = Field(
        min_length=1,
        max_length=20_000,
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


class TriageResult(BaseModel):
    """A decision plus its provenance: which prompt version and deployment, at what cost."""

    model_config = ConfigDict(frozen=True)

    decision: TriageDecision
    metadata: Provenance


async def triage_ticket(
    ticket: Ticket,
    *,
    registry: PromptRegistry,
    gateway: ModelGateway,
    label: str | None = None,
    deadline_s: float | None = None,
) -> TriageResult:
    """Triage one ticket with the `triage` prompt at `label` (default: production).

    Raises the gateway's typed errors (`InvalidOutput` also for an answer outside the
    taxonomy), `PromptNotFound` for an unknown label, `PromptInputError` for a bad ticket.
    """
    rendered = registry.get(TRIAGE_PROMPT, label=label).render(ticket.model_dump())
    completion = await gateway.acomplete_prompt(rendered, deadline_s=deadline_s)
    decision = parse_answer(completion, TriageDecision)
    return TriageResult(decision=decision, metadata=completion.provenance)


FEATURE = Feature(
    name="triage",
    prompt=TRIAGE_PROMPT,
    input_model=Ticket,
    output_model=TriageResult,
    run=triage_ticket,
    answer=lambda result: result.decision,  # what evals/triage.yaml scores
)

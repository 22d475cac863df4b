"""The fixture squad's one feature: a support ticket in, a queue and a priority out.

Shaped like the template's triage feature (the same prompt inputs and taxonomy) but only as
large as the library's tests need: validate the ticket, render the prompt at a label, ask
the gateway, refuse an answer outside the taxonomy, report which prompt version and
deployment answered. `FEATURE` declares it: the route serves it and the suite evaluates it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from squadkit.features import Feature
from squadkit.gateway import ModelGateway, Provenance, parse_answer
from squadkit.prompts import PromptRegistry

PROMPT = "triage"

Queue = Literal["billing", "technical", "account", "shipping", "sales", "security"]
Priority = Literal["low", "normal", "high", "urgent"]


class Ticket(BaseModel):
    """A support ticket as the platform sends it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(min_length=1, max_length=300, pattern=r"\S")
    body: str = Field(min_length=1, max_length=20_000, pattern=r"\S")
    customer_tier: Literal["free", "pro", "enterprise"]
    channel: Literal["email", "chat", "web", "phone"]


class Answer(BaseModel):
    """The prompt's answer, held to the feature's taxonomy (what the suite scores)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    queue: Queue
    priority: Priority
    rationale: str


class Decision(BaseModel):
    """The answer and its provenance."""

    model_config = ConfigDict(frozen=True)

    answer: Answer
    provenance: Provenance


async def triage_ticket(
    ticket: Ticket,
    *,
    registry: PromptRegistry,
    gateway: ModelGateway,
    label: str | None = None,
    deadline_s: float | None = None,
) -> Decision:
    """Triage `ticket` with the `triage` prompt at `label` (default: production)."""
    rendered = registry.get(PROMPT, label=label).render(ticket.model_dump())
    completion = await gateway.acomplete_prompt(rendered, deadline_s=deadline_s)
    return Decision(answer=parse_answer(completion, Answer), provenance=completion.provenance)


FEATURE = Feature(
    name="triage",
    prompt=PROMPT,
    input_model=Ticket,
    output_model=Decision,
    run=triage_ticket,
    answer=lambda decision: decision.answer,
)

"""The fixture squad's one feature: a support ticket in, a queue and a priority out.

Shaped like the template's triage feature (the same prompt inputs and taxonomy) but only as
large as the service tests need: validate the ticket, render the prompt at a label, ask the
gateway, report which prompt version and deployment answered.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from squadkit.gateway import Gateway
from squadkit.prompts import PromptRegistry

PROMPT = "triage"

Queue = Literal["billing", "technical", "account", "shipping", "sales", "security"]
Priority = Literal["low", "normal", "high", "urgent"]


class Ticket(BaseModel):
    """A support ticket as the platform sends it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(min_length=1, max_length=200, pattern=r"\S")
    body: str = Field(min_length=1, max_length=8000, pattern=r"\S")
    customer_tier: Literal["free", "pro", "enterprise"]
    channel: Literal["email", "chat", "web", "phone"]


class Provenance(BaseModel):
    """Which prompt version and which deployment produced a decision."""

    model_config = ConfigDict(frozen=True)

    prompt: str
    prompt_version: int
    prompt_label: str | None
    deployment: str
    fallback_used: bool


class Decision(BaseModel):
    """The prompt's answer (validated against its output schema by the gateway) and provenance."""

    model_config = ConfigDict(frozen=True)

    queue: Queue
    priority: Priority
    rationale: str
    provenance: Provenance


async def triage_ticket(
    ticket: Ticket,
    *,
    registry: PromptRegistry,
    gateway: Gateway,
    label: str | None = None,
    deadline_s: float | None = None,
) -> Decision:
    """Triage `ticket` with the `triage` prompt at `label` (default: production)."""
    rendered = registry.get(PROMPT, label=label).render(ticket.model_dump())
    completion = await gateway.acomplete(
        rendered.model,
        rendered.messages,
        params=rendered.params,
        output_schema=rendered.output_schema,
        prompt=rendered.ref,
        deadline_s=deadline_s,
    )
    return Decision(
        **completion.output,
        provenance=Provenance(
            prompt=rendered.name,
            prompt_version=rendered.version,
            prompt_label=rendered.label,
            deployment=completion.deployment,
            fallback_used=completion.fallback_used,
        ),
    )

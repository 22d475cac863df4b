"""The squad's AI features: plain async functions over the prompt registry and the gateway.

A feature takes typed input, renders its prompt at a label, calls the gateway with the
prompt's model alias and returns a typed result plus the metadata that says exactly which
prompt version and model deployment produced it. The service, the eval runner and scripts
all call the same function, so what is evaluated is what is served.
"""

from .triage import (
    TRIAGE_PROMPT,
    Channel,
    CustomerTier,
    Priority,
    Queue,
    Ticket,
    TriageDecision,
    TriageMetadata,
    TriageResult,
    triage_ticket,
)

__all__ = [
    "TRIAGE_PROMPT",
    "Channel",
    "CustomerTier",
    "Priority",
    "Queue",
    "Ticket",
    "TriageDecision",
    "TriageMetadata",
    "TriageResult",
    "triage_ticket",
]

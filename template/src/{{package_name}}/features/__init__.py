"""The squad's AI features: one module each, plain async functions over the registry and
the gateway, each declared once as `FEATURE = Feature(...)` (`squadkit.features`).

A feature takes typed input, renders its prompt at a label, calls the gateway with the
prompt's model alias, validates the answer and returns a typed result plus the metadata
that says exactly which prompt version and model deployment produced it. squadkit finds
each module's `FEATURE`: the service's route serves it (`serve_feature(FEATURE, ...)`) and
an eval suite that names it (`target: {feature: triage}`) runs the same function on every
case, through recorded model calls in replay, so what is evaluated is what is served.
"""

from .triage import (
    TRIAGE_PROMPT,
    Channel,
    CustomerTier,
    Priority,
    Queue,
    Ticket,
    TriageDecision,
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
    "TriageResult",
    "triage_ticket",
]

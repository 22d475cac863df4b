"""Online experiments (issue 26): a label's traffic split between prompt versions, decided
with statistics that allow looking every day (`sequential`)."""

from .sequential import (
    MINIMUM_ARM_SIZE,
    ArmOutcomes,
    Comparison,
    compare_arms,
    guardrail_crossed,
    mean_interval,
)

__all__ = [
    "MINIMUM_ARM_SIZE",
    "ArmOutcomes",
    "Comparison",
    "compare_arms",
    "guardrail_crossed",
    "mean_interval",
]

"""Online experiments (issue 26): a label's traffic split between prompt versions, decided
with statistics that allow looking every day (`sequential`); declared in
config/experiments.yaml (`config`), assigned by the service (`assignment`), reported by
`squad experiments report` (`report`), ended by `squad experiments stop` (`stop`)."""

from .assignment import Assignment, ExperimentsFile
from .config import Experiment, ExperimentsConfig, find_experiment, load_experiments
from .sequential import (
    MINIMUM_ARM_SIZE,
    ArmOutcomes,
    Comparison,
    compare_arms,
    guardrail_crossed,
    mean_interval,
)
from .stop import StoppedExperiment, stop_experiment

__all__ = [
    "MINIMUM_ARM_SIZE",
    "ArmOutcomes",
    "Assignment",
    "Comparison",
    "Experiment",
    "ExperimentsConfig",
    "ExperimentsFile",
    "StoppedExperiment",
    "compare_arms",
    "find_experiment",
    "guardrail_crossed",
    "load_experiments",
    "mean_interval",
    "stop_experiment",
]

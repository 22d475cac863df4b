"""Guarded rollback, the service's half: an arm whose guardrail breaks stops being assigned.

While an experiment runs, the service calls `GuardrailWatch.check` every
`SQUAD_EXPERIMENTS_GUARDRAIL_CHECK_S` seconds (off the event loop). For each running
experiment it reads the guardrails of every arm exactly as `squad experiments report` does
(`report.arm_guardrails`: one query over the experiment's inferences, the same anytime-valid
`guardrail_crossed`), and an arm other than the control whose guardrail is crossed is
halted: a row in `arm_halts` (`inferences.halts`, shared by every replica and kept across
restarts), a structured warning logged once (by the replica that recorded it), and from then
on `ExperimentsFile` serves the arm's subjects with the control. The control itself is
never halted: its traffic has nowhere else to go (it is the label's version); its breach
is the report's and the workflow's business. Ending the experiment, or moving the label,
goes through a reviewed pull request (the scheduled workflow), never through here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from ..inferences import InferenceStore
from ..inferences.halts import ArmHalt, read_halts, record_halt
from .assignment import ExperimentsFile
from .report import arm_guardrails

__all__ = ["GuardrailCheck", "GuardrailWatch"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GuardrailCheck:
    """What one check found: the halts this process recorded now, and every halt of a
    running experiment (recorded by any replica, now or before)."""

    recorded: list[ArmHalt]
    halted: list[ArmHalt]


class GuardrailWatch:
    """Re-checks the running experiments' guardrails and halts the arms that break them."""

    def __init__(self, experiments: ExperimentsFile, store: InferenceStore) -> None:
        self.experiments = experiments
        self.store = store

    def check(self, now: datetime | None = None) -> GuardrailCheck:
        """One round (see the module docstring). Database errors propagate: the caller
        keeps the halts it had and tries again at the next round."""
        splits = self.experiments.running()
        known = {(h.experiment, h.arm) for h in read_halts(self.store)}
        recorded = []
        for split in splits:
            experiment = split.experiment
            if not experiment.guardrails:
                continue
            readings = arm_guardrails(split.name, experiment, store=self.store)
            for arm, guards in readings.items():
                if arm == experiment.control_arm or (split.name, arm) in known:
                    continue
                crossed = next((guard for guard in guards if guard.crossed), None)
                if crossed is None:
                    continue
                halt = ArmHalt(
                    experiment=split.name,
                    arm=arm,
                    halted_at=now or datetime.now(UTC),
                    guardrail=crossed.name,
                    observed=crossed.value,
                    bound=crossed.bound.value,
                    direction=crossed.bound.direction,
                )
                if record_halt(self.store, halt):
                    recorded.append(halt)
                    _warn(halt, control=experiment.control_arm)
        running = {split.name: split for split in splits}
        halted = [
            halt
            for halt in read_halts(self.store)
            if halt.experiment in running and halt.arm in running[halt.experiment].arms
        ]
        arms: dict[str, set[str]] = {}
        for halt in halted:
            arms.setdefault(halt.experiment, set()).add(halt.arm)
        self.experiments.halt_arms(arms)
        return GuardrailCheck(recorded, halted)


def _warn(halt: ArmHalt, *, control: str) -> None:
    log.warning(
        "experiment '%s': %s; its subjects are served by the control arm %s from now on "
        "(end the experiment through a reviewed pull request: `squad experiments report %s`)",
        halt.experiment,
        halt.describe(),
        control,
        halt.experiment,
        extra={
            "event": "experiment.arm_halted",
            "experiment": halt.experiment,
            "arm": halt.arm,
            "guardrail": halt.guardrail,
            "observed": halt.observed,
            "bound": halt.bound,
            "direction": halt.direction,
        },
    )

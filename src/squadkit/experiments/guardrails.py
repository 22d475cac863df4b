"""Guarded rollback, the service's half: an arm whose guardrail breaks stops being assigned.

While an experiment runs, the service calls `GuardrailWatch.check` every
`SQUAD_EXPERIMENTS_GUARDRAIL_CHECK_S` seconds (off the event loop). For each running
experiment it reads the guardrails of every arm exactly as `squad experiments report` does
(the same anytime-valid `guardrail_crossed` on the same observations), and an arm other
than the control whose guardrail is crossed is halted: a row in `arm_halts`
(`inferences.halts`, shared by every replica and kept across restarts), a structured
warning logged once (by the replica that recorded it), and from then on `ExperimentsFile`
serves the arm's subjects with the control. The control itself is
never halted: its traffic has nowhere else to go (it is the label's version); its breach
is the report's and the workflow's business. Ending the experiment, or moving the label,
goes through a reviewed pull request (the scheduled workflow), never through here.

Cheap, in two steps. `_screen` is one aggregate query per experiment (GROUP BY arm): each
guardrail's `ArmOutcomes` (n, sum, sum of squares) straight from SQL, the observations
defined as the report defines them (an error or a fallback 1 else 0; a latency beyond the
bound 1 else 0, read against `P95_SHARE`; a cost scaled on [0, COST_SCALE x bound]),
then `guardrail_crossed`. Only an arm it finds crossed is confirmed by the report's own
code (`report.arm_guardrails`, which reads the rows), and only a confirmed crossing
halts: the report and the service cannot disagree, and the value recorded is the one the
report shows (a p95, not a share). Score guardrails live in a JSON column no aggregate
reads portably: an experiment with one is read through `arm_guardrails` at every check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..inferences import InferenceStore
from ..inferences.halts import ArmHalt, read_halts, record_halt
from .assignment import ExperimentsFile
from .config import Bound, Experiment
from .report import COST_SCALE, P95_SHARE, arm_guardrails
from .sequential import DEFAULT_PLANNED_N, ArmOutcomes, Direction, guardrail_crossed

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
            candidates = {
                arm
                for arm in _screen(self.store, split.name, experiment)
                if arm != experiment.control_arm and (split.name, arm) not in known
            }
            if not candidates:
                continue
            readings = arm_guardrails(split.name, experiment, store=self.store)
            for arm, guards in readings.items():
                if arm not in candidates:
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


def _screen(store: InferenceStore, name: str, experiment: Experiment) -> set[str]:
    """The arms whose guardrail may be crossed (see the module docstring): one aggregate."""
    guardrails = experiment.guardrails
    if not guardrails:
        return set()
    if any(guard.startswith("score:") for guard in guardrails):
        return set(experiment.arms)
    from sqlalchemy import func, select  # noqa: PLC0415

    from ..inferences import INFERENCES  # noqa: PLC0415

    c = INFERENCES.c
    columns: list[Any] = [c.arm, func.count().label("n")]
    for index, (guard, bound) in enumerate(guardrails.items()):
        observed = _observation(guard, bound)
        columns += [
            func.sum(observed).label(f"s{index}"),
            func.sum(observed * observed).label(f"q{index}"),
        ]
    query = (
        select(*columns)
        .where(c.experiment == name, c.forced.is_(False), c.arm.in_(list(experiment.arms)))
        .group_by(c.arm)
    )
    with store.engine.connect() as connection:
        rows = [row._mapping for row in connection.execute(query)]
    alpha = experiment.stop.alpha
    planned = experiment.stop.max_n or DEFAULT_PLANNED_N
    crossed = set()
    for row in rows:
        n = int(row["n"])
        for index, (guard, bound) in enumerate(guardrails.items()):
            total = min(float(row[f"s{index}"] or 0.0), n)
            squares = min(float(row[f"q{index}"] or 0.0), total)
            limit, direction = _limit(guard, bound)
            if n and guardrail_crossed(
                ArmOutcomes(n, total, squares),
                bound=limit,
                direction=direction,
                alpha=alpha,
                planned_n=planned,
            ):
                crossed.add(str(row["arm"]))
    return crossed


def _observation(guard: str, bound: Bound) -> Any:
    """One answer's observation of `guard` in [0, 1], as a SQL expression (as the report
    defines it, `report._guardrail`)."""
    from sqlalchemy import case  # noqa: PLC0415

    from ..inferences import INFERENCES  # noqa: PLC0415

    c = INFERENCES.c
    if guard == "error_rate":
        return case((c.outcome != "ok", 1.0), else_=0.0)
    if guard == "fallback_rate":
        return case((c.fallback_used.is_(True), 1.0), else_=0.0)
    if guard == "latency_p95_ms":
        return case((c.latency_ms > bound.value, 1.0), else_=0.0)
    cap = COST_SCALE * bound.value  # cost_per_answer_usd
    if cap > 0:
        return case((c.cost_usd >= cap, 1.0), else_=c.cost_usd / cap)
    return case((c.cost_usd > 0, 1.0), else_=0.0)


def _limit(guard: str, bound: Bound) -> tuple[float, Direction]:
    """The bound `guard`'s observations are held to (a share beyond, for a p95)."""
    if guard == "latency_p95_ms":
        return P95_SHARE, "at-most"
    if guard == "cost_per_answer_usd":
        return 1 / COST_SCALE, "at-most"
    return bound.value, bound.direction


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

"""What an experiment has shown so far: per-arm outcomes from the inference log and feedback.

`experiment_report` reads the experiment's inferences (SQLite or PostgreSQL, through the
inference log's store) and the feedback on them, and computes per arm: the answers
analysed, the primary metric with its anytime-valid interval (`sequential.mean_interval`)
and its change against the control (`compare_arms`), each guardrail, latency p50/p95 and
cost; then one verdict (`verdict.py`). Analysed means: logged with this experiment, an
arm, and not forced. Answers forced by a caller (`X-Prompt-Label`) and answers without a
subject key are counted apart and never analysed.

Primary metric values are scaled to [0, 1]: a boolean feedback is 0 or 1, a number one is
(value - min) / (max - min) of its declared range, an online score is read as it is (the
online scorers score in [0, 1]); `better: lower` turns each into 1 - value. Feedback is
the latest per inference, or per episode for feedback sent on an episode (attributed to the
arm its analysed answers had; an episode seen on two arms, after a weight change, is left
out). Guardrails on latency read the share of answers slower than the bound (a p95 within
it means at most 5% beyond it), on cost the cost per answer scaled by twice the bound
(clipped: a crossing shown is real, a heavy tail may be missed), the rates and scores
their means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ConfigError
from .config import Bound, Experiment
from .sequential import (
    DEFAULT_PLANNED_N,
    ArmOutcomes,
    Comparison,
    compare_arms,
    guardrail_crossed,
    mean_interval,
)

if TYPE_CHECKING:
    from ..inferences import FeedbackConfig, InferenceStore
    from ..inferences.halts import ArmHalt

__all__ = [
    "ArmSummary",
    "ExperimentReport",
    "GuardrailReading",
    "arm_guardrails",
    "experiment_report",
    "primary_scale",
]

P95_SHARE = 0.05
"""A p95 at most the bound: at most this share of answers beyond it."""
COST_SCALE = 2.0
"""Cost per answer is read on [0, COST_SCALE x bound] (see the module docstring)."""


@dataclass(frozen=True)
class GuardrailReading:
    """One guardrail of one arm: the value shown, its bound, whether it is crossed."""

    name: str
    value: float | None
    bound: Bound
    crossed: bool


@dataclass(frozen=True)
class ArmSummary:
    """One arm as the report shows it."""

    name: str
    version: int
    model: str | None
    answers: int
    primary: ArmOutcomes
    interval: tuple[float, float] | None
    change: Comparison | None
    guardrails: list[GuardrailReading]
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    cost_per_answer_usd: float | None
    cost_usd: float
    halted: ArmHalt | None = None
    """Set when the service stopped assigning the arm (a guardrail crossed, `guardrails.py`)."""


@dataclass(frozen=True)
class ExperimentReport:
    """The experiment's arms, what was not analysed, and the stop rule's state."""

    name: str
    experiment: Experiment
    arms: list[ArmSummary]
    alpha: float
    comparison_alpha: float
    forced: int
    without_subject: int
    started: datetime | None
    stop_reached: Literal["max_n", "max_days"] | None
    notes: list[str] = field(default_factory=list)

    @property
    def control(self) -> ArmSummary:
        return next(arm for arm in self.arms if arm.name == self.experiment.control_arm)


def experiment_report(
    name: str,
    experiment: Experiment,
    *,
    store: InferenceStore,
    feedback: FeedbackConfig,
    now: datetime | None = None,
) -> ExperimentReport:
    """Read the log and compute the report of `experiment` (see the module docstring)."""
    try:
        scale = primary_scale(experiment, feedback)
    except ConfigError as error:
        raise ConfigError(f"config/experiments.yaml: experiment '{name}': {error}") from None
    with store.reaching("read the experiment's inferences"):
        rows = _inferences(store, name)
        feedback_rows = _feedback(store, name, experiment.primary.feedback)
    halts = {halt.arm: halt for halt in _halts(store, name)}
    analysed = [r for r in rows if not r["forced"] and r["arm"] in experiment.arms]
    values = _primary_values(experiment, analysed, feedback_rows, scale)
    alpha = experiment.stop.alpha
    comparison_alpha = alpha / (len(experiment.arms) - 1)
    planned = experiment.stop.max_n or DEFAULT_PLANNED_N
    outcomes = {arm: ArmOutcomes.of(values.get(arm, [])) for arm in experiment.arms}
    control = outcomes[experiment.control_arm]
    arms = []
    for arm_name, arm in experiment.arms.items():
        own = [r for r in analysed if r["arm"] == arm_name]
        primary = outcomes[arm_name]
        change = None
        if arm_name != experiment.control_arm and primary.n and control.n:
            change = compare_arms(
                control, primary, alpha=comparison_alpha, planned_n=max(1, planned)
            )
        latencies = sorted(float(r["latency_ms"]) for r in own)
        costs = [float(r["cost_usd"]) for r in own]
        arms.append(
            ArmSummary(
                name=arm_name,
                version=arm.version,
                model=arm.model,
                answers=len(own),
                primary=primary,
                interval=(
                    mean_interval(primary, alpha=alpha, planned_n=planned) if primary.n else None
                ),
                change=change,
                guardrails=[
                    _guardrail(guard, bound, own, alpha=alpha, planned_n=planned)
                    for guard, bound in experiment.guardrails.items()
                ],
                latency_p50_ms=_quantile(latencies, 0.5),
                latency_p95_ms=_quantile(latencies, 0.95),
                cost_per_answer_usd=sum(costs) / len(costs) if costs else None,
                cost_usd=sum(costs),
                halted=halts.get(arm_name),
            )
        )
    started = min((r["created_at"] for r in analysed), default=None)
    return ExperimentReport(
        name=name,
        experiment=experiment,
        arms=arms,
        alpha=alpha,
        comparison_alpha=comparison_alpha,
        forced=sum(1 for r in rows if r["forced"]),
        without_subject=sum(1 for r in rows if not r["forced"] and r["arm"] is None),
        started=started,
        stop_reached=_stop_reached(experiment, outcomes, started, now or datetime.now(UTC)),
    )


def arm_guardrails(
    name: str, experiment: Experiment, *, store: InferenceStore
) -> dict[str, list[GuardrailReading]]:
    """Arm -> its guardrails, read as the report reads them (same rows, same statistics),
    without the feedback and the primary metric: what the service re-checks while the
    experiment runs (`guardrails.py`). One query over the experiment's inferences."""
    rows = _inferences(store, name)
    alpha = experiment.stop.alpha
    planned = experiment.stop.max_n or DEFAULT_PLANNED_N
    analysed = [r for r in rows if not r["forced"] and r["arm"] in experiment.arms]
    return {
        arm_name: [
            _guardrail(
                guard,
                bound,
                [r for r in analysed if r["arm"] == arm_name],
                alpha=alpha,
                planned_n=planned,
            )
            for guard, bound in experiment.guardrails.items()
        ]
        for arm_name in experiment.arms
    }


def _halts(store: InferenceStore, name: str) -> list[ArmHalt]:
    """The experiment's halted arms; none on a log older than revision 0004 (the report
    only reads: it does not migrate)."""
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    from ..inferences.halts import read_halts  # noqa: PLC0415

    try:
        return read_halts(store, name)
    except SQLAlchemyError:
        return []


def primary_scale(experiment: Experiment, feedback: FeedbackConfig) -> tuple[float, float]:
    """(low, high) of the primary feedback metric's values; (0, 1) for a score. A metric
    the report cannot read is a `ConfigError` (`squad prompts check` reports it first)."""
    metric_name = experiment.primary.feedback
    if metric_name is None:
        return (0.0, 1.0)
    metric = feedback.metrics.get(metric_name)
    if metric is None:
        known = ", ".join(sorted(feedback.metrics)) or "(none)"
        raise ConfigError(
            f"primary feedback '{metric_name}' is not a metric of config/feedback.yaml "
            f"(metrics: {known})"
        )
    if metric.kind == "boolean":
        return (0.0, 1.0)
    low, high = metric.min, metric.max
    if metric.kind == "number" and low is not None and high is not None and high > low:
        return (low, high)
    raise ConfigError(
        f"primary feedback '{metric_name}' is a {metric.kind} metric in config/feedback.yaml: "
        "use a boolean, or a number with `min` and `max`"
    )


def _inferences(store: InferenceStore, name: str) -> list[dict[str, Any]]:
    from sqlalchemy import select  # noqa: PLC0415

    from ..inferences import INFERENCES  # noqa: PLC0415

    columns = INFERENCES.c
    query = select(
        columns.id,
        columns.created_at,
        columns.episode_id,
        columns.arm,
        columns.forced,
        columns.outcome,
        columns.fallback_used,
        columns.latency_ms,
        columns.cost_usd,
        columns.scores,
    ).where(columns.experiment == name)
    with store.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def _feedback(store: InferenceStore, name: str, metric: str | None) -> list[dict[str, Any]]:
    """The primary metric's feedback on the experiment's inferences and episodes, oldest first."""
    if metric is None:
        return []
    from sqlalchemy import or_, select  # noqa: PLC0415

    from ..inferences import FEEDBACK, INFERENCES  # noqa: PLC0415

    ids = select(INFERENCES.c.id).where(INFERENCES.c.experiment == name)
    episodes = select(INFERENCES.c.episode_id).where(INFERENCES.c.experiment == name)
    query = (
        select(FEEDBACK.c.inference_id, FEEDBACK.c.episode_id, FEEDBACK.c.value)
        .where(FEEDBACK.c.metric == metric)
        .where(
            or_(
                FEEDBACK.c.inference_id.in_(ids),
                FEEDBACK.c.inference_id.is_(None) & FEEDBACK.c.episode_id.in_(episodes),
            )
        )
        .order_by(FEEDBACK.c.created_at, FEEDBACK.c.id)
    )
    with store.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def _primary_values(
    experiment: Experiment,
    analysed: list[dict[str, Any]],
    feedback_rows: list[dict[str, Any]],
    scale: tuple[float, float],
) -> dict[str, list[float]]:
    """Arm -> the primary metric's observations, each in [0, 1] with higher better."""
    low, high = scale
    flip = experiment.primary.better == "lower"
    values: dict[str, list[float]] = {}

    def add(arm: str, value: Any) -> None:
        if isinstance(value, bool):
            number = 1.0 if value else 0.0
        elif isinstance(value, int | float) and math.isfinite(value):
            number = min(1.0, max(0.0, (float(value) - low) / (high - low)))
        else:
            return
        values.setdefault(arm, []).append(1.0 - number if flip else number)

    score = experiment.primary.score
    if score is not None:
        for row in analysed:
            add(row["arm"], (row["scores"] or {}).get(score))
        return values
    arm_of = {row["id"]: row["arm"] for row in analysed}
    episode_arms: dict[str, set[str]] = {}
    for row in analysed:
        if row["episode_id"] is not None:
            episode_arms.setdefault(row["episode_id"], set()).add(row["arm"])
    latest: dict[tuple[str, str], tuple[str, Any]] = {}  # later rows replace earlier ones
    for row in feedback_rows:
        if row["inference_id"] is not None:
            if row["inference_id"] in arm_of:
                latest[("inference", row["inference_id"])] = (arm_of[row["inference_id"]], row)
        elif len(arms := episode_arms.get(row["episode_id"], set())) == 1:
            latest[("episode", row["episode_id"])] = (next(iter(arms)), row)
    for arm, row in latest.values():
        add(arm, row["value"])
    return values


def _guardrail(
    name: str, bound: Bound, rows: list[dict[str, Any]], *, alpha: float, planned_n: int
) -> GuardrailReading:
    """One guardrail of one arm's analysed answers (see the module docstring)."""
    if name == "latency_p95_ms":
        latencies = sorted(float(r["latency_ms"]) for r in rows)
        beyond = ArmOutcomes.of(1.0 if x > bound.value else 0.0 for x in latencies)
        crossed = bool(rows) and guardrail_crossed(
            beyond, bound=P95_SHARE, direction="at-most", alpha=alpha, planned_n=planned_n
        )
        return GuardrailReading(name, _quantile(latencies, 0.95), bound, crossed)
    if name == "cost_per_answer_usd":
        cap = COST_SCALE * bound.value
        costs = [float(r["cost_usd"]) for r in rows]
        scaled = ArmOutcomes.of(min(1.0, c / cap) if cap > 0 else float(c > 0) for c in costs)
        crossed = bool(rows) and guardrail_crossed(
            scaled, bound=1 / COST_SCALE, direction="at-most", alpha=alpha, planned_n=planned_n
        )
        return GuardrailReading(name, sum(costs) / len(costs) if costs else None, bound, crossed)
    if name == "error_rate":
        observed = [0.0 if r["outcome"] == "ok" else 1.0 for r in rows]
    elif name == "fallback_rate":
        observed = [1.0 if r["fallback_used"] else 0.0 for r in rows]
    else:
        score = name.removeprefix("score:")
        observed = [
            min(1.0, max(0.0, float(value)))
            for r in rows
            if isinstance(value := (r["scores"] or {}).get(score), int | float)
        ]
    outcomes = ArmOutcomes.of(observed)
    crossed = bool(observed) and guardrail_crossed(
        outcomes, bound=bound.value, direction=bound.direction, alpha=alpha, planned_n=planned_n
    )
    return GuardrailReading(name, outcomes.mean if observed else None, bound, crossed)


def _quantile(ordered: list[float], q: float) -> float | None:
    """The nearest-rank quantile of sorted values (None for none)."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _stop_reached(
    experiment: Experiment,
    outcomes: dict[str, ArmOutcomes],
    started: datetime | None,
    now: datetime,
) -> Literal["max_n", "max_days"] | None:
    stop = experiment.stop
    if stop.max_n is not None and sum(o.n for o in outcomes.values()) >= stop.max_n:
        return "max_n"
    if stop.max_days is not None and started is not None:
        begun = started if started.tzinfo else started.replace(tzinfo=UTC)
        if (now - begun).total_seconds() >= stop.max_days * 86400:
            return "max_days"
    return None

"""Arms halted by a guardrail: one row per (experiment, arm), in the inference log's database.

A halt must hold for every replica and survive a restart, and the replicas already share
one database (the inference log: PostgreSQL for several, SQLite for one), so it is a row
there (revision 0004) rather than a file each process would have to be told about or a
Redis key that an eviction could drop. The first replica to see the crossing inserts the
row; the others find it on their next check. Ending the experiment (the workflow's pull
request) is what lifts a halt: the row stays as the record of why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, DateTime, Float, String, Table, insert, select
from sqlalchemy.exc import IntegrityError

from .store import InferenceStore, metadata

__all__ = ["ARM_HALTS", "ArmHalt", "read_halts", "record_halt"]

ARM_HALTS = Table(
    "arm_halts",
    metadata,
    Column("experiment", String(64), primary_key=True),
    Column("arm", String(64), primary_key=True),
    Column("halted_at", DateTime(timezone=True), nullable=False),
    Column("guardrail", String(128), nullable=False),
    Column("observed", Float),
    Column("bound", Float, nullable=False),
    Column("direction", String(16), nullable=False),
)
"""The `arm_halts` table as revision 0004 creates it."""


@dataclass(frozen=True)
class ArmHalt:
    """Why an arm stopped being assigned: the guardrail, what was observed, its bound."""

    experiment: str
    arm: str
    halted_at: datetime
    guardrail: str
    observed: float | None
    bound: float
    direction: str

    def describe(self) -> str:
        """One line for /readyz and the report: `arm v2 halted: error_rate 0.31 (at-most 0.05)`."""
        shown = "-" if self.observed is None else f"{self.observed:.4g}"
        return (
            f"arm {self.arm} halted: {self.guardrail} {shown} ({self.direction} {self.bound:.4g})"
        )


def record_halt(store: InferenceStore, halt: ArmHalt) -> bool:
    """Insert `halt`; False when the arm was halted already (by this or another replica)."""
    row = {
        "experiment": halt.experiment,
        "arm": halt.arm,
        "halted_at": halt.halted_at,
        "guardrail": halt.guardrail,
        "observed": halt.observed,
        "bound": halt.bound,
        "direction": halt.direction,
    }
    try:
        with store.engine.begin() as connection:
            connection.execute(insert(ARM_HALTS), [row])
    except IntegrityError:
        return False
    return True


def read_halts(store: InferenceStore, experiment: str | None = None) -> list[ArmHalt]:
    """Every halt recorded (of `experiment` only, when given), oldest first."""
    query = select(ARM_HALTS).order_by(ARM_HALTS.c.halted_at)
    if experiment is not None:
        query = query.where(ARM_HALTS.c.experiment == experiment)
    with store.engine.connect() as connection:
        return [ArmHalt(**row._mapping) for row in connection.execute(query)]

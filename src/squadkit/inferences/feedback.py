"""Feedback on inferences: the metrics a squad declares, and the rows callers send.

`config/feedback.yaml` declares each metric a caller may send (`POST /v1/feedback`): its
name, kind and range (and, for a number, `review_below`: what `squad harvest` counts as
negative). Four kinds: `boolean` (`correct: false`), `number` (with `min` and
`max`), `category` (one of `values`) and `correction` (a corrected output: any JSON
object or string). A value is checked against its metric before it is stored, so the
table holds only what the squad declared.

Rows live beside the inferences (`feedback`, Alembic revision 0002), carrying the prompt
name and version of the inference they judge, so a metric per prompt version is one
GROUP BY. A caller's `Idempotency-Key` is unique per caller: sending the same feedback
twice stores it once.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    String,
    Table,
    bindparam,
    exists,
    insert,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from ..errors import ConfigError
from ..files import display_path
from ..yaml_lines import line_in_text, read_team_yaml
from .ids import uuid7
from .store import INFERENCES, InferenceStore, metadata

__all__ = [
    "FEEDBACK",
    "FeedbackConfig",
    "FeedbackMetric",
    "FeedbackRow",
    "InvalidFeedbackValue",
    "PendingFeedback",
    "episode_exists",
    "find_inference",
    "load_feedback_config",
    "record_feedback",
    "record_feedbacks",
    "store_feedback",
]

FEEDBACK = Table(
    "feedback",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("inference_id", String(36)),
    Column("episode_id", String(128)),
    Column("metric", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", JSON, nullable=False),
    Column("caller", String(128), nullable=False),
    Column("idempotency_key", String(128)),
    Column("prompt", String(128)),
    Column("prompt_version", Integer),
)
"""The `feedback` table as revision 0002 creates it."""


class InvalidFeedbackValue(ValueError):
    """A value that is not of its metric's kind or outside its range (a 422)."""


class FeedbackMetric(BaseModel):
    """One metric of config/feedback.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["boolean", "number", "category", "correction"]
    description: str = ""
    min: float | None = None
    max: float | None = None
    values: list[str] | None = None
    review_below: float | None = None
    """A number under it sends the answer to review (`squad harvest`); default: the middle
    of `min`-`max`."""

    @model_validator(mode="after")
    def _consistent(self) -> FeedbackMetric:
        if self.kind == "category" and not self.values:
            raise ValueError("a category metric needs `values: [...]`")
        if self.kind != "number" and (self.min is not None or self.max is not None):
            raise ValueError("`min`/`max` apply to number metrics only")
        if self.kind != "number" and self.review_below is not None:
            raise ValueError("`review_below` applies to number metrics only")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("`min` is greater than `max`")
        return self

    def check(self, name: str, value: Any) -> Any:
        """`value` as stored, or `InvalidFeedbackValue` saying what `name` expects."""
        if self.kind == "boolean":
            if not isinstance(value, bool):
                raise InvalidFeedbackValue(f"metric '{name}' takes true or false")
        elif self.kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidFeedbackValue(f"metric '{name}' takes a number")
            low = -math.inf if self.min is None else self.min
            high = math.inf if self.max is None else self.max
            if not low <= value <= high:
                raise InvalidFeedbackValue(
                    f"metric '{name}' takes a number from {self.min} to {self.max}"
                )
        elif self.kind == "category":
            if value not in (self.values or []):
                raise InvalidFeedbackValue(
                    f"metric '{name}' takes one of: {', '.join(self.values or [])}"
                )
        elif not isinstance(value, str | dict):
            raise InvalidFeedbackValue(
                f"metric '{name}' takes a corrected output (a JSON object or a string)"
            )
        return value


class FeedbackConfig(BaseModel):
    """config/feedback.yaml: the metrics callers may send."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metrics: dict[str, FeedbackMetric] = Field(default_factory=dict)


def load_feedback_config(path: Path) -> FeedbackConfig:
    """The metrics of `path`; none when the file does not exist (every metric unknown)."""
    if not path.exists():
        return FeedbackConfig()
    where = display_path(path)
    text, data = read_team_yaml(path)
    data = data or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping `metrics:` of name -> metric")
    try:
        return FeedbackConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(first["loc"])
        line = line_in_text(text, loc)
        field = ".".join(str(part) for part in loc)
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(
            f"{where}{f':{line}' if line else ''}: field '{field}': {message}; declare "
            "`metrics: {NAME: {kind: boolean|number|category|correction, ...}}`"
        ) from None


class FeedbackRow(BaseModel):
    """A stored feedback, as the API returns it."""

    feedback_id: str
    inference_id: str | None
    episode_id: str | None
    metric: str
    value: Any
    prompt: str | None = None
    prompt_version: int | None = None


def find_inference(store: InferenceStore, inference_id: str) -> dict[str, Any] | None:
    """The prompt name and version of inference `inference_id`, or None if unknown."""
    query = select(INFERENCES.c.prompt, INFERENCES.c.prompt_version).where(
        INFERENCES.c.id == inference_id
    )
    with store.engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else {"prompt": row.prompt, "prompt_version": row.prompt_version}


def episode_exists(store: InferenceStore, episode_id: str) -> bool:
    query = select(INFERENCES.c.id).where(INFERENCES.c.episode_id == episode_id).limit(1)
    with store.engine.connect() as connection:
        return connection.execute(query).first() is not None


def store_feedback(
    store: InferenceStore,
    *,
    caller: str,
    metric: str,
    kind: str,
    value: Any,
    inference_id: str | None,
    episode_id: str | None,
    prompt: str | None,
    prompt_version: int | None,
    idempotency_key: str | None,
) -> tuple[FeedbackRow, bool]:
    """Store one feedback; (the stored row, whether it is new). With a key the caller used
    before, nothing is written and the earlier row comes back (its own values)."""
    if idempotency_key is not None:
        earlier = _by_key(store, caller, idempotency_key)
        if earlier is not None:
            return earlier, False
    row = _new_row(
        {
            "caller": caller,
            "metric": metric,
            "kind": kind,
            "value": value,
            "inference_id": inference_id,
            "episode_id": episode_id,
            "prompt": prompt,
            "prompt_version": prompt_version,
            "idempotency_key": idempotency_key,
        }
    )
    try:
        with store.engine.begin() as connection:
            connection.execute(FEEDBACK.insert(), [row])
    except IntegrityError:  # the same key, sent twice at once: the other one won
        earlier = _by_key(store, caller, idempotency_key or "")
        if earlier is None:
            raise
        return earlier, False
    return _row(row), True


@dataclass(frozen=True)
class PendingFeedback:
    """One feedback a caller sent, checked against its metric, not yet stored."""

    caller: str
    metric: str
    kind: str
    value: Any
    inference_id: str | None
    episode_id: str | None
    idempotency_key: str | None


def record_feedback(
    store: InferenceStore,
    *,
    caller: str,
    metric: str,
    kind: str,
    value: Any,
    inference_id: str | None,
    episode_id: str | None,
    idempotency_key: str | None,
) -> tuple[FeedbackRow, bool] | None:
    """Store the caller's feedback on inference `inference_id` (with its prompt name and
    version) or on episode `episode_id`; (the row, whether it is new), None when the
    inference or episode is unknown. With a key the caller used before, nothing is written
    and the earlier row comes back (its own values).

    One statement in the usual case, committed (durably, on PostgreSQL with
    `synchronous_commit` on) when this returns; on PostgreSQL in autocommit, so one round
    trip instead of three (BEGIN, the statement, COMMIT).
    """
    pending = PendingFeedback(
        caller, metric, kind, value, inference_id, episode_id, idempotency_key
    )
    if store.engine.dialect.name != "postgresql":  # SQLite: BEGIN and COMMIT cost no trip
        with store.engine.begin() as connection:
            return _record(connection, pending)
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return _record(connection, pending)


def record_feedbacks(
    store: InferenceStore, pending: Sequence[PendingFeedback]
) -> list[tuple[FeedbackRow, bool] | None]:
    """`record_feedback` for each of `pending`, in one transaction: one commit (one WAL
    flush on PostgreSQL) for them all; what `FeedbackWriter` does with a batch. A key sent
    twice in one batch is stored once: the second sees the first's row, as a replay."""
    with store.engine.begin() as connection:
        return [_record(connection, one) for one in pending]


def _record(connection: Any, pending: PendingFeedback) -> tuple[FeedbackRow, bool] | None:
    """One feedback on `connection`: `INSERT INTO feedback ... SELECT ... FROM inferences
    WHERE id = ... ON CONFLICT (caller, idempotency_key) DO NOTHING RETURNING ...` finds the
    inference, stores the row and skips a used key in one statement. Only when it stored
    nothing do two more reads say why: the target is unknown (None), or the key was used
    (the earlier row). The same key sent twice at once: one insert wins, the other waits
    for it on the unique constraint, stores nothing and returns the winner's row."""
    given = vars(pending) | {"prompt": None, "prompt_version": None}
    for _ in range(2):  # a second time: the inference row was committed in between
        row = _new_row(given)
        on_episode = pending.inference_id is None
        statement = _insert_judged(connection.dialect.name, on_episode)
        parameters = row | {"target": pending.episode_id if on_episode else pending.inference_id}
        try:
            stored = connection.execute(statement, parameters).first()
        except IntegrityError:  # a dialect without ON CONFLICT: the key was used
            stored = None
        if stored is not None:
            return _row(row | dict(stored._mapping)), True
        if not _target_exists(connection, pending.inference_id, pending.episode_id):
            return None
        if pending.idempotency_key is not None:
            query = _key_query(pending.caller, pending.idempotency_key)
            earlier = connection.execute(query).first()
            if earlier is not None:
                return _row(dict(earlier._mapping)), False
    return None  # the target went in between (pruned): as if unknown


@functools.cache
def _insert_judged(dialect: str, on_episode: bool) -> Any:
    """`INSERT INTO feedback SELECT row FROM its target ON CONFLICT DO NOTHING RETURNING`:
    no row when the inference (or every inference of the episode) is unknown or the
    caller's key was used; otherwise the stored prompt name and version. Built once per
    dialect and target (the values are bound at execution): building it per feedback cost
    more CPU than running it on SQLite."""
    names = ["id", "created_at", *_STORED[:-2]]
    values = [bindparam(name, type_=FEEDBACK.c[name].type) for name in names]
    if not on_episode:
        judged = INFERENCES.c.prompt, INFERENCES.c.prompt_version
        source = select(*values, *judged).where(INFERENCES.c.id == bindparam("target"))
    else:
        episode = select(INFERENCES.c.id).where(INFERENCES.c.episode_id == bindparam("target"))
        nothing = null().label("prompt"), null().label("prompt_version")
        source = select(*values, *nothing).where(exists(episode))
    columns = [*names, "prompt", "prompt_version"]
    returned = (FEEDBACK.c.prompt, FEEDBACK.c.prompt_version)
    if dialect in ("postgresql", "sqlite"):
        make = postgresql_insert if dialect == "postgresql" else sqlite_insert
        skipping = (
            make(FEEDBACK)
            .from_select(columns, source)
            .on_conflict_do_nothing(index_elements=["caller", "idempotency_key"])
        )
        return skipping.returning(*returned)
    return insert(FEEDBACK).from_select(columns, source).returning(*returned)


def _target_exists(connection: Any, inference_id: str | None, episode_id: str | None) -> bool:
    if inference_id is not None:
        query = select(INFERENCES.c.id).where(INFERENCES.c.id == inference_id)
    else:
        query = select(INFERENCES.c.id).where(INFERENCES.c.episode_id == episode_id).limit(1)
    return connection.execute(query).first() is not None


_STORED = (
    "inference_id",
    "episode_id",
    "metric",
    "kind",
    "value",
    "caller",
    "idempotency_key",
    "prompt",
    "prompt_version",
)


def _new_row(given: dict[str, Any]) -> dict[str, Any]:
    """A new feedback row from the fields its caller was given (by name), with its id and
    time: the one place both writers build it."""
    return {"id": uuid7(), "created_at": datetime.now(UTC)} | {
        name: given[name] for name in _STORED
    }


def _key_query(caller: str, key: str) -> Any:
    return select(FEEDBACK).where(FEEDBACK.c.caller == caller, FEEDBACK.c.idempotency_key == key)


def _by_key(store: InferenceStore, caller: str, key: str) -> FeedbackRow | None:
    with store.engine.connect() as connection:
        found = connection.execute(_key_query(caller, key)).first()
    return None if found is None else _row(dict(found._mapping))


def _row(row: dict[str, Any]) -> FeedbackRow:
    return FeedbackRow(
        feedback_id=row["id"],
        inference_id=row["inference_id"],
        episode_id=row["episode_id"],
        metric=row["metric"],
        value=row["value"],
        prompt=row["prompt"],
        prompt_version=row["prompt_version"],
    )

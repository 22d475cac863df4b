"""Where inferences are stored: SQLAlchemy Core over SQLite (default) or PostgreSQL.

SQLite is the embedded default, one file in WAL mode (readers never block the writer), so
`make serve` on a laptop needs nothing else. Several replicas share a PostgreSQL database
named by `SQUAD_INFERENCE_LOG_URL` (`postgresql+psycopg://...`). The schema belongs to the
Alembic migrations in `migrations/` (run at start-up and by `squad inference-log
migrate`); `INFERENCES` below mirrors it for queries and must change with a new revision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
)

from ..errors import ConfigError, SquadError

__all__ = ["INFERENCES", "InferenceLogUnavailable", "InferenceStore", "default_sqlite_url"]

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

metadata = MetaData()
INFERENCES = Table(
    "inferences",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("request_id", String(128), nullable=False),
    Column("feature", String(128), nullable=False),
    Column("outcome", String(64), nullable=False),
    Column("caller", String(128)),
    Column("episode_id", String(128), index=True),
    Column("prompt", String(128)),
    Column("prompt_version", Integer),
    Column("prompt_label", String(64)),
    Column("prompt_hash", String(128)),
    Column("alias", String(128)),
    Column("deployment", String(256)),
    Column("fallback_used", Boolean, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("scores", JSON),
    Column("inputs_sha256", String(64)),
    Column("inputs_chars", Integer),
    Column("inputs", Text),
    Column("output_sha256", String(64)),
    Column("output_chars", Integer),
    Column("output", Text),
    Column("experiment", String(64), index=True),
    Column("arm", String(64)),
    Column("forced", Boolean, nullable=False, server_default="0"),
)
"""The `inferences` table as revisions 0001 (created) and 0003 (experiment, arm, forced)
leave it."""


POOL_SIZE = 10
"""Connections the store keeps open: one per feedback thread (`FeedbackWriter`, 4), the
inference log's writer, a guardrail check and /readyz or CLI reads, with room to spare.
SQLAlchemy's default, 5, was fewer than the service uses at once, and each checkout past
it opened a connection and closed it after use (on PostgreSQL a new backend process each
time)."""


class InferenceLogUnavailable(SquadError):
    """The store could not be reached or refused the statement (the CLI's exit 2)."""


def default_sqlite_url(root: Path) -> str:
    """The embedded store: `.squad/inference-log.sqlite3` under the repo (git-ignored)."""
    return f"sqlite:///{root / '.squad' / 'inference-log.sqlite3'}"


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a crash
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class InferenceStore:
    """The inference log's database: migrate, insert batches, count, prune."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._sqlite_insert: _SqliteInsert | None = None
        try:
            self.engine: Engine = create_engine(
                url, pool_pre_ping=not url.startswith("sqlite"), pool_size=POOL_SIZE
            )
        except Exception as error:  # a malformed URL or a missing driver
            raise ConfigError(
                f"SQUAD_INFERENCE_LOG_URL: cannot use {self.safe_url}: {error}; use "
                "sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
            ) from None
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages and logs."""
        try:
            from sqlalchemy.engine import make_url  # noqa: PLC0415

            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:
            return "(unparsable URL)"

    @contextmanager
    def reaching(self, doing: str) -> Iterator[None]:
        """Turn a database error while `doing` into one `InferenceLogUnavailable` line."""
        from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

        try:
            yield
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()
            raise InferenceLogUnavailable(
                f"inference log {self.safe_url}: cannot {doing}: "
                f"{reason[0] if reason else type(error).__name__} (is the database up? "
                "check SQUAD_INFERENCE_LOG_URL)"
            ) from None

    def migrate(self) -> str | None:
        """Bring the schema to the newest revision (Alembic); return that revision."""
        from alembic import command  # noqa: PLC0415 - only start-up and the CLI migrate
        from alembic.config import Config  # noqa: PLC0415
        from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def insert(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert `rows` in one transaction (all or none).

        On SQLite the rows go in a few multi-row statements (`_SqliteInsert`); other
        databases get SQLAlchemy Core's insert.
        """
        if not rows:
            return
        if self._sqlite_insert is None and self.engine.dialect.name == "sqlite":
            self._sqlite_insert = _SqliteInsert(self.engine.dialect)
        with self.engine.begin() as connection:
            if self._sqlite_insert is None:
                connection.execute(insert(INFERENCES), list(rows))
            else:
                self._sqlite_insert.run(connection, rows)

    def contains(self, inference_id: str) -> bool:
        """Whether the row `inference_id` is stored (did a killed writer's batch commit?)."""
        with self.engine.connect() as connection:
            query = select(INFERENCES.c.id).where(INFERENCES.c.id == inference_id)
            return connection.execute(query).first() is not None

    def count(self) -> int:
        with self.engine.connect() as connection:
            query = select(func.count()).select_from(INFERENCES)
            return int(connection.execute(query).scalar_one())

    def prune(self, days: float, *, now: datetime | None = None) -> int:
        """Delete the inferences older than `days`; return how many went."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
        with self.engine.begin() as connection:
            result = connection.execute(delete(INFERENCES).where(INFERENCES.c.created_at < cutoff))
        return int(result.rowcount or 0)

    def dispose(self) -> None:
        self.engine.dispose()


class _SqliteInsert:
    """The SQLite insert of a batch, in as few statements as the driver allows.

    The writer's thread shares the GIL with the event loop, and `sqlite3` gives it up
    around every statement it steps: `executemany` once per row. Each time, the writer
    waits for the loop to hand the GIL back, and the loop for the writer (a convoy: on a
    saturated service the inference log's thread cost 0.17 ms of CPU per request against
    0.045 ms alone). So a batch goes in multi-row `INSERT ... VALUES (...), (...)`
    statements of `CHUNKS` rows (a batch of 140 is 2 x 64 + 3 x 4: five statements, each
    compiled once per connection by the driver's statement cache), each value through the
    bind processor SQLAlchemy would apply.
    """

    CHUNKS = (256, 64, 16, 4, 1)
    """Rows per statement, largest first; 256 x 30 columns is under SQLite's 32,766
    parameters (3.32+; older builds allow 999: their chunks stop at 16)."""

    def __init__(self, dialect: Any) -> None:
        import sqlite3  # noqa: PLC0415 - the dialect's driver, already loaded

        compiled = insert(INFERENCES).compile(dialect=dialect)
        types = {column.name: column.type for column in INFERENCES.columns}
        self.columns: list[tuple[str, Callable[[Any], Any] | None]] = [
            (name, types[name].dialect_impl(dialect).bind_processor(dialect))
            for name in compiled.positiontup or ()
        ]
        self.head, _, self.values = compiled.string.partition(" VALUES ")
        limit = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
        self.chunks = [size for size in self.CHUNKS if size * len(self.columns) <= limit]
        self.statements: dict[int, str] = {}

    def run(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        width = len(self.columns)
        values = [
            row[name] if bind is None else bind(row[name])
            for row in rows
            for name, bind in self.columns
        ]
        start = 0
        for size in self.chunks:
            while len(rows) - start >= size:
                connection.exec_driver_sql(
                    self._statement(size), tuple(values[start * width : (start + size) * width])
                )
                start += size

    def _statement(self, size: int) -> str:
        statement = self.statements.get(size)
        if statement is None:
            statement = f"{self.head} VALUES {', '.join([self.values] * size)}"
            self.statements[size] = statement
        return statement

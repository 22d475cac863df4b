"""The inference log's storage alone: Alembic migrations, the batched writer, retention,
against a real SQLite file and the real PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect, select

from squadkit.inferences import (
    INFERENCES,
    Content,
    InferenceLogWriter,
    InferenceRecord,
    InferenceStore,
    content_of,
    uuid7,
)
from tests.library.waiting import eventually

DOWN_URL = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"
"""A PostgreSQL that is not there: nothing listens on port 1."""


def _record(created_at: datetime | None = None) -> InferenceRecord:
    return InferenceRecord(
        id=uuid7(),
        created_at=created_at or datetime.now(UTC),
        request_id="req-1",
        feature="triage",
        scores={"length": 1.0},
    )


def _sqlite(tmp_path: Path) -> InferenceStore:
    store = InferenceStore(f"sqlite:///{tmp_path / 'log' / 'inferences.sqlite3'}")
    store.migrate()
    return store


def test_uuid7_ids_sort_by_issue_time_and_are_version_7() -> None:
    ids = [uuid7() for _ in range(5000)]

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(value).version for value in ids} == {7}


def test_migrations_create_the_table_once_through_alembic(tmp_path: Path) -> None:
    store = InferenceStore(f"sqlite:///{tmp_path / 'inferences.sqlite3'}")

    assert store.migrate() == "0004"
    assert store.migrate() == "0004"  # a second start finds it at head
    tables = set(inspect(store.engine).get_table_names())
    assert tables == {"inferences", "feedback", "arm_halts", "alembic_version"}


def _varied_rows(count: int) -> list[dict[str, object]]:
    """Rows exercising every column type, with and without their optional values."""
    now = datetime.now(UTC)
    return [
        InferenceRecord(
            id=uuid7(),
            created_at=now - timedelta(seconds=index * 1000.123456),
            request_id=f"req-{index}",
            feature="triage",
            outcome="ok" if index % 3 else "InvalidOutput",
            caller=None if index % 2 else "platform",
            episode_id="ep-1" if index % 4 == 0 else None,
            prompt="triage" if index % 5 else None,
            prompt_version=index if index % 5 else None,
            prompt_label="production",
            alias="triage",
            fallback_used=bool(index % 2),
            attempts=index,
            latency_ms=index * 0.1,
            input_tokens=index,
            cost_usd=0.0 if index % 2 else 1e-6 * index,
            scores={} if index % 2 else {"length": 1.0, "grounded": 0.5},
            inputs=Content("a" * 64, 12, None if index % 2 else "ünïcode ✓"),
            experiment="exp" if index % 3 == 0 else None,
            forced=index % 7 == 0,
        ).row()
        for index in range(count)
    ]


def _stored(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(inferences)")]
        listed = ", ".join(f"{name}, typeof({name})" for name in columns)
        return connection.execute(f"SELECT {listed} FROM inferences ORDER BY id").fetchall()  # noqa: S608


def test_sqlite_insert_stores_what_a_sqlalchemy_core_insert_stores(tmp_path: Path) -> None:
    rows = _varied_rows(1 + 256 + 64 + 16 + 4 + 1)  # a row alone, then every statement size
    store = _sqlite(tmp_path)
    reference = InferenceStore(f"sqlite:///{tmp_path / 'core.sqlite3'}")
    reference.migrate()

    store.insert(rows[:1])
    store.insert(rows[1:])
    with reference.engine.begin() as connection:
        connection.execute(insert(INFERENCES), rows)

    stored = _stored(tmp_path / "log" / "inferences.sqlite3")
    assert len(stored) == len(rows)
    assert stored == _stored(tmp_path / "core.sqlite3")


def test_the_sqlite_file_is_in_wal_mode(tmp_path: Path) -> None:
    store = _sqlite(tmp_path)
    store.insert([_record().row()])

    with sqlite3.connect(tmp_path / "log" / "inferences.sqlite3") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_content_without_opt_in_keeps_hash_and_length_only() -> None:
    kept = content_of("mail me at ann@example.com", keep=True, redact=lambda s: s[:4])
    hidden = content_of("mail me at ann@example.com", keep=False, redact=lambda s: s)

    assert hidden.text is None
    assert hidden.chars == 26
    assert hidden.sha256 == kept.sha256
    assert kept.text == "mail"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_close_writes_every_submitted_row(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        request.getfixturevalue("postgres_url")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'x.sqlite3'}"
    )
    store = InferenceStore(url)
    store.migrate()
    writer = InferenceLogWriter(store, batch_size=50)
    records = [_record() for _ in range(1234)]

    for record in records:
        assert writer.submit(record)
    writer.close()

    reader = InferenceStore(url)
    with reader.engine.connect() as connection:
        stored = connection.execute(select(INFERENCES.c.id, INFERENCES.c.scores)).all()
    assert sorted(row.id for row in stored) == sorted(record.id for record in records)
    assert {str(row.scores) for row in stored} == {"{'length': 1.0}"}
    assert writer.stats.written == 1234
    assert writer.stats.dropped == writer.stats.write_errors == 0
    reader.dispose()


def test_a_full_queue_drops_and_counts_instead_of_waiting(tmp_path: Path) -> None:
    store = _sqlite(tmp_path)
    blocker = sqlite3.connect(tmp_path / "log" / "inferences.sqlite3", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # the writer's insert now waits (busy_timeout)
    # One row a batch, no collecting window: once the writer took the first row it goes
    # straight to the insert that waits on the lock, and takes nothing more from the queue.
    writer = InferenceLogWriter(store, queue_size=5, batch_size=1, flush_interval_s=0)
    writer.submit(_record())
    # until the writer took the row and blocks on the lock
    eventually(lambda: writer._queue.qsize() == 0, "the writer to take the row")

    started = time.perf_counter()
    accepted = [writer.submit(_record()) for _ in range(20)]
    elapsed = time.perf_counter() - started
    blocker.execute("ROLLBACK")
    blocker.close()
    writer.close()

    assert accepted == [True] * 5 + [False] * 15
    assert writer.stats.dropped == 15
    assert elapsed < 4.0  # never waited for the locked store (a wait lasts its 5 s timeout)
    assert store.count() == 6


def test_a_store_that_is_down_is_counted_not_raised() -> None:
    writer = InferenceLogWriter(InferenceStore(DOWN_URL), migrated=False)

    for _ in range(3):
        writer.submit(_record())
    writer.close()

    assert writer.stats.write_errors == 3
    assert writer.stats.written == 0


def test_a_store_down_at_start_is_migrated_when_it_comes_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'late.sqlite3'}"
    writer = InferenceLogWriter(InferenceStore(url), migrated=False)

    writer.submit(_record())
    writer.close()

    assert InferenceStore(url).count() == 1


def test_prune_deletes_only_rows_older_than_the_retention(tmp_path: Path) -> None:
    store = _sqlite(tmp_path)
    now = datetime.now(UTC)
    store.insert([_record(now - timedelta(days=40)).row(), _record(now - timedelta(days=2)).row()])

    assert store.prune(30, now=now) == 1
    assert store.count() == 1

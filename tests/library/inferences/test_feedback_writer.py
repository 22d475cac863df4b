"""`FeedbackWriter` and `record_feedbacks` on a real SQLite file and the real PostgreSQL:
feedback waiting together shares one commit, and batching changes no answer (a key used
twice, an unknown inference, a row the store refuses each get their own)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from squadkit.inferences import (
    FEEDBACK,
    FeedbackWriter,
    InferenceLogUnavailable,
    InferenceRecord,
    InferenceStore,
    PendingFeedback,
    record_feedbacks,
    uuid7,
)
from squadkit.inferences.feedback_writer import THREADS

WAIT_S = 60


def _inference(store: InferenceStore) -> str:
    inference_id = uuid7()
    row = InferenceRecord(
        id=inference_id, created_at=datetime.now(UTC), request_id="r", feature="triage"
    )
    store.insert([row.row()])
    return inference_id


def _pending(inference_id: str, key: str | None = None, caller: str = "crm") -> PendingFeedback:
    return PendingFeedback(
        caller=caller,
        metric="correct",
        kind="boolean",
        value=True,
        inference_id=inference_id,
        episode_id=None,
        idempotency_key=key,
    )


def _stored(store: InferenceStore) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(FEEDBACK)).scalar_one())


@contextmanager
def _feedback_table_locked(store: InferenceStore) -> Iterator[None]:
    """Another writer holds the feedback table: the writer's next insert waits for it, so
    whatever is submitted meanwhile is queued behind that one."""
    with store.engine.connect() as connection:
        if store.engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(text("LOCK TABLE feedback IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            connection.rollback()


def _results(futures: list[Future[Any]]) -> list[Any]:
    return [future.result(timeout=WAIT_S) for future in futures]


def test_feedback_waiting_together_shares_one_commit(store: InferenceStore) -> None:
    inference_id = _inference(store)
    writer = FeedbackWriter(store, threads=1, max_batch=64)
    try:
        with _feedback_table_locked(store):
            futures = [writer.submit(_pending(inference_id, uuid.uuid4().hex)) for _ in range(20)]
        results = _results(futures)
    finally:
        writer.close()

    assert all(created for _, created in results)
    assert len({row.feedback_id for row, _ in results}) == 20
    assert _stored(store) == 20
    assert writer.batches <= 2  # the first alone (it met the lock), the rest in one


def test_a_key_sent_twice_in_one_batch_is_stored_once(store: InferenceStore) -> None:
    inference_id = _inference(store)

    first, again = record_feedbacks(store, [_pending(inference_id, "k1")] * 2)

    assert first is not None
    assert again is not None
    assert (first[1], again[1]) == (True, False)
    assert first[0] == again[0]
    assert _stored(store) == 1


def test_an_unknown_inference_in_a_batch_is_none_and_the_rest_is_stored(
    store: InferenceStore,
) -> None:
    inference_id = _inference(store)

    known, unknown = record_feedbacks(store, [_pending(inference_id), _pending(uuid7())])

    assert known is not None
    assert known[1]
    assert known[0].inference_id == inference_id
    assert unknown is None
    assert _stored(store) == 1


def test_a_row_the_store_refuses_fails_alone_not_its_batch(postgres_url: str) -> None:
    store = InferenceStore(postgres_url)
    store.migrate()
    inference_id = _inference(store)
    writer = FeedbackWriter(store, threads=1, max_batch=64)
    try:
        with _feedback_table_locked(store):
            futures = [
                writer.submit(_pending(inference_id, "a")),
                writer.submit(_pending(inference_id, "b", caller="x" * 200)),  # > 128 chars
                writer.submit(_pending(inference_id, "c")),
            ]
        for future in futures:
            future.exception(timeout=WAIT_S)
    finally:
        writer.close()
        stored = _stored(store)
        store.dispose()

    assert [future.result() is not None for future in (futures[0], futures[2])] == [True] * 2
    assert "too long" in str(futures[1].exception())
    assert stored == 2


def test_close_stores_what_is_queued_then_refuses_more(store: InferenceStore) -> None:
    inference_id = _inference(store)
    writer = FeedbackWriter(store, threads=1, max_batch=64)
    with _feedback_table_locked(store):
        futures = [writer.submit(_pending(inference_id)) for _ in range(5)]
    writer.close()

    assert all(created for _, created in _results(futures))
    assert _stored(store) == 5
    with pytest.raises(InferenceLogUnavailable, match="closed"):
        writer.submit(_pending(inference_id))


def test_feedback_is_batched_on_postgresql_and_not_on_sqlite(store: InferenceStore) -> None:
    writer = FeedbackWriter(store)
    try:
        stored = writer.submit(_pending(_inference(store))).result(timeout=WAIT_S)
    finally:
        writer.close()

    assert writer.batched == (store.engine.dialect.name == "postgresql")
    assert stored is not None
    assert stored[1]


def test_the_store_keeps_a_connection_for_every_feedback_thread_and_the_log_writer(
    store: InferenceStore,
) -> None:
    # Past the pool's size each checkout opens a connection and closes it after use (on
    # PostgreSQL a new backend process per feedback): the pool must hold them all.
    inference_id = _inference(store)
    opened: list[object] = []
    event.listen(store.engine, "connect", lambda *_: opened.append(None))
    in_use = [store.engine.connect() for _ in range(THREADS + 2)]  # + log writer, a check
    for connection in in_use:
        connection.close()
    opened.clear()
    writer = FeedbackWriter(store)
    try:
        with _feedback_table_locked(store):
            futures = [writer.submit(_pending(inference_id)) for _ in range(40)]
            assert store.contains(inference_id)  # a reader (/readyz, a check) beside them
        _results(futures)
    finally:
        writer.close()

    assert opened == []

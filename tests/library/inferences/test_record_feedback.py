"""`record_feedback`, the one transaction behind `POST /v1/feedback`, on a real SQLite file
and the real PostgreSQL: a key sent twice at once stores one feedback, and both senders get
that one back."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from squadkit.inferences import FeedbackRow, InferenceRecord, InferenceStore, record_feedback, uuid7

ROUNDS = 20


def _send_at_once(store: InferenceStore, inference_id: str, key: str) -> list[Any]:
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def send() -> None:
        barrier.wait()
        try:
            results.append(
                record_feedback(
                    store,
                    caller="crm",
                    metric="correct",
                    kind="boolean",
                    value=False,
                    inference_id=inference_id,
                    episode_id=None,
                    idempotency_key=key,
                )
            )
        except Exception as error:  # a failure is a result the assertions below see
            results.append(error)

    senders = [threading.Thread(target=send) for _ in range(2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    return results


def test_one_key_sent_twice_at_once_stores_one_feedback(store: InferenceStore) -> None:
    inference_id = uuid7()
    row = InferenceRecord(
        id=inference_id, created_at=datetime.now(UTC), request_id="r", feature="triage"
    )
    store.insert([row.row()])
    for _ in range(ROUNDS):  # each round races two senders of a fresh key
        results = _send_at_once(store, inference_id, uuid.uuid4().hex)

        assert all(isinstance(result, tuple) for result in results), results
        rows: list[FeedbackRow] = [result[0] for result in results]
        assert sorted(result[1] for result in results) == [False, True]
        assert rows[0].feedback_id == rows[1].feedback_id

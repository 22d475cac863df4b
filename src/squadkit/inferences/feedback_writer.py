"""The feedback writer: `POST /v1/feedback`'s rows, stored in batches the callers wait for.

A feedback, unlike an inference's row, is answered only once it is stored (a 201 is a
promise). Stored one commit each, every feedback waits for its own WAL flush: on
PostgreSQL a few milliseconds of fdatasync each, which at 200 requests/s on a busy disk
queue up until callers hit their in-flight limit (issue 25 measured p99 175 ms and 429s).
So a few threads (`THREADS`) store them: a free one takes every feedback waiting (up to
`max_batch`) and stores them in one transaction, one commit for the lot
(`record_feedbacks`), then answers each caller's future. Nothing waits on purpose: alone,
a feedback is one autocommit statement (`record_feedback`); under load, the queue that
built up while the threads were committing is the next batch, so commits per second stay
bounded whatever the rate.

A batch the store refuses (the database is down, a deadlock with another batch
holding the same keys) is retried one feedback at a time, so each caller gets its own
answer or its own error. `close` stores what is queued, then stops the threads.

SQLite is not batched by default (`max_batch` 1): in WAL mode with `synchronous=NORMAL` a
commit does not flush, so there is little to share, while a batch would hold the file's
one write lock, and its automatic checkpoint (which does flush) runs in the committing
thread, stalling whatever it had taken.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from .feedback import FeedbackRow, PendingFeedback, record_feedback, record_feedbacks
from .store import InferenceLogUnavailable, InferenceStore

__all__ = ["FeedbackWriter"]

log = logging.getLogger(__name__)

THREADS = 4
"""Threads storing feedback: a feedback arriving while one waits for its commit's flush
starts on another, not behind it (PostgreSQL flushes their commits together)."""

Stored = tuple[FeedbackRow, bool] | None
"""`record_feedback`'s answer: (the row, whether it is new), or None: unknown target."""


class FeedbackWriter:
    """See the module docstring."""

    def __init__(
        self, store: InferenceStore, *, threads: int = THREADS, max_batch: int | None = None
    ) -> None:
        self.store = store
        self.max_batch = (
            (1 if store.engine.dialect.name == "sqlite" else 64) if max_batch is None else max_batch
        )
        """Feedback per transaction at most: 64, or 1 on SQLite (see the module docstring)."""
        self.batches = 0
        """Transactions written (a test sees that feedback sent at once shared commits)."""
        self._queue: queue.SimpleQueue[tuple[PendingFeedback, Future[Stored]] | None] = (
            queue.SimpleQueue()
        )
        self._closed = False
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, name=f"squad-feedback-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def batched(self) -> bool:
        return self.max_batch > 1

    def submit(self, pending: PendingFeedback) -> Future[Stored]:
        """Queue `pending`; the future is done once it is stored (or refused)."""
        future: Future[Stored] = Future()
        with self._lock:
            if self._closed:
                raise InferenceLogUnavailable("the feedback writer is closed (shutting down)")
            self._queue.put((pending, future))
        return future

    def close(self, timeout_s: float = 30.0) -> None:
        """Store every queued feedback, then stop the threads."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for _ in self._threads:
                self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout_s)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            self._write(batch)

    def _write(self, batch: list[tuple[PendingFeedback, Future[Stored]]]) -> None:
        live = [
            (pending, future) for pending, future in batch if future.set_running_or_notify_cancel()
        ]
        if not live:
            return
        self.batches += 1
        try:
            if len(live) == 1:
                results = [_one(self.store, live[0][0])]
            else:
                results = record_feedbacks(self.store, [pending for pending, _ in live])
        except Exception as error:
            if len(live) == 1:
                live[0][1].set_exception(error)
                return
            log.info("feedback: a batch of %d failed (%s); one at a time", len(live), error)
            for pending, future in live:
                try:
                    future.set_result(_one(self.store, pending))
                except Exception as alone:
                    future.set_exception(alone)
            return
        for (_, future), result in zip(live, results, strict=True):
            future.set_result(result)


def _one(store: InferenceStore, pending: PendingFeedback) -> Stored:
    return record_feedback(
        store,
        caller=pending.caller,
        metric=pending.metric,
        kind=pending.kind,
        value=pending.value,
        inference_id=pending.inference_id,
        episode_id=pending.episode_id,
        idempotency_key=pending.idempotency_key,
    )

"""The inference log's writer: batched inserts on a thread of their own, never in the way.

`submit` is all a request does: one `put_nowait` on a bounded queue. A thread collects
rows for up to `flush_interval_s` (or `batch_size` rows) and inserts them in one
transaction: under load, a few large transactions instead of one per answer. So logging costs
an answer nothing but that put, whatever the store does:

- the queue is full (the store is slower than the traffic, or down): the row is dropped
  and counted (`dropped`), the request never waits;
- an insert fails (the store is down, a disk is full): the batch's rows are counted
  (`write_errors`) and logged, once per outage and then every `LOG_EVERY` failures, and
  the thread carries on with the next batch;
- a store that was down at start-up is migrated before the first batch that reaches it;
- `close` (the service's lifespan shutdown, after uvicorn finished in-flight requests, so
  after SIGTERM) writes everything still queued before it returns: nothing is lost on drain;
- given a `WriteLedger` (`ledger.py`), every queued and every settled row is counted in it,
  so after a `kill -9` the next start reports how many rows the queue took with it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .ledger import WriteLedger
from .record import InferenceRecord
from .store import InferenceStore

__all__ = ["InferenceLogWriter", "WriterStats"]

log = logging.getLogger(__name__)

LOG_EVERY = 100
"""Failed batches between two log lines while the store stays down."""


@dataclass
class WriterStats:
    """What the writer did since start-up (the service exposes it on /metrics)."""

    written: int = 0
    dropped: int = 0
    write_errors: int = 0


class InferenceLogWriter:
    """See the module docstring."""

    def __init__(
        self,
        store: InferenceStore,
        *,
        queue_size: int = 10_000,
        batch_size: int = 500,
        flush_interval_s: float = 0.2,
        migrated: bool = True,
        ledger: WriteLedger | None = None,
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.stats = WriterStats()
        self._queue: queue.Queue[Callable[[], dict[str, Any]]] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._failing = 0
        self._migrated = migrated
        self._drop_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="inference-log", daemon=True)
        self._thread.start()

    def submit(self, record: InferenceRecord | Callable[[], InferenceRecord]) -> bool:
        """Queue `record` for writing; False (and counted) when the queue is full.

        Given a callable, the record is built on the writer's thread: hashing and
        serialising the content then cost the request nothing.
        """
        build = record.row if isinstance(record, InferenceRecord) else lambda: record().row()
        if self.ledger is not None:  # before the put: the writer may settle it at once
            self.ledger.accept()
        try:
            self._queue.put_nowait(build)
        except queue.Full:
            if self.ledger is not None:
                self.ledger.refuse()
            with self._drop_lock:  # submit may run on several threads (sync routes)
                self.stats.dropped += 1
            return False
        return True

    def close(self, timeout_s: float = 30.0) -> None:
        """Write everything queued, then stop the thread (waits at most `timeout_s`)."""
        self._stop.set()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.error(
                "inference log: %d row(s) still queued after %ss at shutdown",
                self._queue.qsize(),
                timeout_s,
            )
        elif self.ledger is not None:  # all settled; else the next start reports the rest
            self.ledger.close()
        self.store.dispose()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=0.1)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            self._write(self._batch(first))

    def _batch(self, first: Callable[[], dict[str, Any]]) -> list[Callable[[], dict[str, Any]]]:
        """`first` and what follows it within `flush_interval_s`, up to `batch_size` rows
        (at once, without waiting, once `close` was called)."""
        batch = [first]
        deadline = time.monotonic() + self.flush_interval_s
        while len(batch) < self.batch_size:
            wait = deadline - time.monotonic()
            try:
                if wait <= 0 or self._stop.is_set():
                    batch.append(self._queue.get_nowait())
                else:
                    batch.append(self._queue.get(timeout=min(wait, 0.1)))
            except queue.Empty:
                if wait <= 0 or self._stop.is_set():
                    break
        return batch

    def _write(self, builds: list[Callable[[], dict[str, Any]]]) -> None:
        batch = []
        for build in builds:
            try:
                batch.append(build())
            except Exception:  # a row that cannot be built is lost, counted, logged
                self.stats.write_errors += 1
                log.exception("inference log: a row could not be built")
        ledger = self.ledger
        if ledger is not None:
            ledger.settle(len(builds) - len(batch))  # the unbuildable rows: counted above
            if batch:
                ledger.begin_batch(len(batch), str(batch[0]["id"]))
        try:
            if not self._migrated:  # the store was down at start-up: create the schema now
                self.store.migrate()
                self._migrated = True
            self.store.insert(batch)
        except Exception as error:  # a store that is down is counted and logged, not raised
            self.stats.write_errors += len(batch)
            if ledger is not None:
                ledger.settle(len(batch))
            if self._failing % LOG_EVERY == 0:
                log.error(
                    "inference log: %d row(s) not written to %s (%d lost so far): %s",
                    len(batch),
                    self.store.safe_url,
                    self.stats.write_errors,
                    type(error).__name__,
                )
            self._failing += 1
            if self._stop.is_set():
                return
            time.sleep(min(0.05 * self._failing, 1.0))  # back off while it stays down
            return
        if self._failing:
            log.warning("inference log: %s writable again", self.store.safe_url)
            self._failing = 0
        self.stats.written += len(batch)
        if ledger is not None:
            ledger.settle(len(batch))

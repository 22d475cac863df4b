"""The inference log's writer: batched inserts on a thread of their own, never in the way.

`submit` is all a request does: one append to a bounded queue (a `deque`, no lock and no
thread woken: a `queue.Queue` took its lock and woke the writer on every row, a thread
switch per answer). The writer's thread wakes every `flush_interval_s` (or as soon as
`batch_size` rows wait) and inserts what waits then, `batch_size` rows a transaction;
rows arriving meanwhile wait for the next window: under load, a few large transactions
instead of one per answer. The thread shares the GIL with the event loop, so what it
does per row is kept small (the store's insert: `store.py`). So logging costs an answer
little more than that append, whatever the store does:

- the queue is full (the store is slower than the traffic, or down): the row is dropped
  and counted (`dropped`), the request never waits (threads submitting at the same instant
  may overshoot `queue_size` by one row each: the bound protects memory, not a count);
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
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .ledger import WriteLedger
from .record import InferenceRecord
from .store import InferenceStore

__all__ = ["InferenceLogWriter", "WriterStats"]

log = logging.getLogger(__name__)

LOG_EVERY = 100
"""Failed batches between two log lines while the store stays down."""
IDLE_WAIT_S = 0.05
"""How long the writer sleeps between looks at the queue when `flush_interval_s` is 0 (it
is woken at once for each row then)."""


class _Rows:
    """The writer's queue: rows (or callables building them) in submission order, at most
    `maxsize` of them (see the module docstring)."""

    def __init__(self, maxsize: int) -> None:
        self.rows: deque[InferenceRecord | Callable[[], InferenceRecord]] = deque()
        self.maxsize = maxsize

    def qsize(self) -> int:
        """Rows waiting (as `queue.Queue.qsize`: approximate while threads submit)."""
        return len(self.rows)


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
        self._queue = _Rows(queue_size)
        # Woken early only when a batch is full (or at once per row without a window).
        self._wake_at = batch_size if flush_interval_s > 0 else 1
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._failing = 0
        self._migrated = migrated
        self._drop_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="inference-log", daemon=True)
        self._thread.start()

    def submit(self, record: InferenceRecord | Callable[[], InferenceRecord]) -> bool:
        """Queue `record` for writing; False (and counted) when the queue is full.

        Given a callable, the record is built on the writer's thread (the service does
        so when the content is kept: its redaction stays off the request path).
        """
        rows = self._queue.rows
        if len(rows) >= self._queue.maxsize:
            with self._drop_lock:  # submit may run on several threads (sync routes)
                self.stats.dropped += 1
            return False
        if self.ledger is not None:  # before the append: the writer may settle it at once
            self.ledger.accept()
        rows.append(record)  # deque.append: atomic, no lock
        if len(rows) >= self._wake_at and not self._wake.is_set():
            self._wake.set()
        return True

    def close(self, timeout_s: float = 30.0) -> None:
        """Write everything queued, then stop the thread (waits at most `timeout_s`)."""
        self._stop.set()
        self._wake.set()
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
        rows = self._queue.rows
        while True:
            stopping = self._stop.is_set()  # read first: rows submitted before close are seen
            # The rows waiting now, not those arriving while they are written: draining
            # to empty wrote each window's stragglers in a few more small transactions
            # (20 a second instead of 5 at 700 requests/s), each paying a commit and
            # the GIL's hand-overs; they wait for the next window, unless a batch is full.
            waiting = len(rows)
            while waiting > 0 or (stopping and rows):
                size = min(len(rows), self.batch_size)
                self._write([rows.popleft() for _ in range(size)])
                waiting -= size
            if stopping:
                return
            if len(rows) < self._wake_at:
                self._wake.wait(self.flush_interval_s or IDLE_WAIT_S)
            self._wake.clear()

    def _write(self, builds: list[InferenceRecord | Callable[[], InferenceRecord]]) -> None:
        batch = []
        for build in builds:
            try:
                batch.append(build.row() if isinstance(build, InferenceRecord) else build().row())
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

"""What a killed process owed the inference log: rows accepted, rows settled, kept on disk.

SIGTERM loses nothing (the writer drains), but `kill -9` (an OOM kill, a node lost) takes
the writer's queue with it. Issue 25 asks that at most the unflushed rows are lost and that
their count is reported at the next start. So each writer keeps a `WriteLedger`: a small
memory-mapped file of its own holding two counters, rows *accepted* (queued by a request)
and rows *settled* (stored, or already counted as a write error or an unbuildable row).
Updating it is a store into shared memory, no system call: the request path pays one
uncontended lock and an 8-byte write, and the kernel's page cache keeps the bytes when the
process is killed (a machine that loses power loses them too: that is out of scope).

The file is locked (`flock`) for the life of its process; the kernel drops the lock when
the process dies, however it dies. At start-up `reclaim` takes the ledgers whose lock it
can get (their process is gone, pid reuse and containers notwithstanding), reads them and
deletes them: one report per dead process, even with several replicas starting at once.

A batch being inserted when the kill came may or may not have committed. The writer notes
it first (its row count, its first row's id and the settled count before it), so the next
start can ask the store whether that id is there and count the batch exactly.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import mmap
import os
import struct
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LEDGER_GLOB", "InFlightBatch", "UnsettledRows", "WriteLedger", "reclaim"]

log = logging.getLogger(__name__)

MAGIC = b"SQIL"
VERSION = 1
SIZE = 1024
LEDGER_GLOB = "inference-log-*.ledger"
"""The ledgers' file names in their folder (anything else there is left alone)."""

# magic, version, pid, started (unix s), accepted, settled, in-flight rows,
# settled before the in-flight batch, the in-flight batch's first id, store URL length.
_HEADER = struct.Struct("<4sIQdQQQQ36sH")
_COUNTER = struct.Struct("<Q")
_ACCEPTED, _SETTLED, _IN_FLIGHT, _BASE, _FIRST_ID = 24, 32, 40, 48, 56
_STORE = _HEADER.size
_MAX_STORE = SIZE - _STORE


@dataclass(frozen=True)
class InFlightBatch:
    """The batch a dead writer was inserting: committed only if `first_id` is stored."""

    rows: int
    first_id: str
    settled_before: int


@dataclass(frozen=True)
class UnsettledRows:
    """What one dead process's ledger says (see `lost`)."""

    pid: int
    started_at: float
    accepted: int
    settled: int
    store: str
    in_flight: InFlightBatch | None

    def lost(self, *, in_flight_committed: bool) -> int:
        """Rows accepted but never stored nor counted; `in_flight_committed` says whether
        the batch being inserted reached the store (unknown: say False, an upper bound)."""
        settled = self.settled
        if self.in_flight is not None and in_flight_committed:
            settled = max(settled, self.in_flight.settled_before + self.in_flight.rows)
        return max(self.accepted - settled, 0)


class WriteLedger:
    """This process's ledger file, locked while it lives; see the module docstring."""

    def __init__(self, path: Path, descriptor: int, memory: mmap.mmap) -> None:
        self.path = path
        self._descriptor = descriptor
        self._memory = memory
        self._lock = threading.Lock()
        self._accepted = 0
        self._settled = 0

    @classmethod
    def open(cls, folder: Path, store: str) -> WriteLedger:
        """Create, lock and map a new ledger in `folder` for a writer to `store`."""
        folder.mkdir(parents=True, exist_ok=True)
        name = f"inference-log-{os.getpid()}-{uuid.uuid4().hex[:12]}.ledger"
        building = folder / f".{name}.tmp"  # not matched by LEDGER_GLOB until locked
        descriptor = os.open(building, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            url = store.encode()[:_MAX_STORE]
            header = _HEADER.pack(
                MAGIC, VERSION, os.getpid(), time.time(), 0, 0, 0, 0, b"", len(url)
            )
            os.write(descriptor, (header + url).ljust(SIZE, b"\0"))
            memory = mmap.mmap(descriptor, SIZE)
            os.rename(building, folder / name)  # the lock stays with the open file
        except BaseException:
            os.close(descriptor)
            building.unlink(missing_ok=True)
            raise
        return cls(folder / name, descriptor, memory)

    def accept(self) -> None:
        """One more row queued (any thread: the request path)."""
        with self._lock:
            self._accepted += 1
            _COUNTER.pack_into(self._memory, _ACCEPTED, self._accepted)

    def refuse(self) -> None:
        """Take back an `accept` whose row the queue refused (it is counted as dropped)."""
        with self._lock:
            self._accepted -= 1
            _COUNTER.pack_into(self._memory, _ACCEPTED, self._accepted)

    def begin_batch(self, rows: int, first_id: str) -> None:
        """The writer is about to insert `rows` rows, the first with id `first_id`."""
        self._memory[_FIRST_ID : _FIRST_ID + 36] = first_id.encode()[:36].ljust(36, b"\0")
        _COUNTER.pack_into(self._memory, _BASE, self._settled)
        _COUNTER.pack_into(self._memory, _IN_FLIGHT, rows)  # last: marks the note complete

    def settle(self, rows: int) -> None:
        """`rows` rows stored or counted as lost by the writer (its thread only)."""
        self._settled += rows
        _COUNTER.pack_into(self._memory, _SETTLED, self._settled)
        _COUNTER.pack_into(self._memory, _IN_FLIGHT, 0)

    def close(self) -> None:
        """Delete the ledger (every accepted row was settled: nothing to report)."""
        self.path.unlink(missing_ok=True)
        self._memory.close()
        os.close(self._descriptor)


def _read(memory: bytes) -> UnsettledRows | None:
    fields = _HEADER.unpack_from(memory)
    magic, version, pid, started, accepted, settled, in_flight, base, first_id, length = fields
    if magic != MAGIC or version != VERSION or length > _MAX_STORE:
        return None
    batch = None
    if in_flight:
        batch = InFlightBatch(in_flight, first_id.rstrip(b"\0").decode(errors="replace"), base)
    store = memory[_STORE : _STORE + length].decode(errors="replace")
    return UnsettledRows(pid, started, accepted, settled, store, batch)


def reclaim(folder: Path) -> list[UnsettledRows]:
    """Read and delete the ledgers in `folder` whose process is gone (a live one is locked)."""
    found = []
    for path in sorted(folder.glob(LEDGER_GLOB)):
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except OSError:  # another process reclaimed it first
            continue
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process is alive
            with contextlib.suppress(FileNotFoundError):
                if os.stat(path).st_ino != os.fstat(descriptor).st_ino:
                    continue  # reclaimed (and replaced) meanwhile
                content = os.read(descriptor, SIZE)
                path.unlink()
                read = _read(content) if len(content) == SIZE else None
                if read is None:
                    log.warning("inference log: %s is not a ledger; deleted", path)
                else:
                    found.append(read)
        finally:
            os.close(descriptor)
    return found

"""What the next start makes of a killed writer's ledger: the batch it was inserting counts
as stored only if its first row is in the store (real SQLite file, SIGKILLed writers)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from squadkit.inferences import InferenceRecord, InferenceStore, reclaim, uuid7
from squadkit.service.inference_log import report_lost


def _store(tmp_path: Path) -> InferenceStore:
    store = InferenceStore(f"sqlite:///{tmp_path / 'log.sqlite3'}")
    store.migrate()
    return store


def _killed_mid_batch(folder: Path, store: InferenceStore, first_id: str) -> None:
    """A writer that queued 5 rows and was inserting 3 of them, first `first_id`, when
    SIGKILL came."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from squadkit.inferences import WriteLedger
        ledger = WriteLedger.open(Path({str(folder)!r}), {store.safe_url!r})
        for _ in range(5):
            ledger.accept()
        ledger.begin_batch(3, {first_id!r})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    process = subprocess.run([sys.executable, "-c", script], check=False)
    assert process.returncode == -signal.SIGKILL


def test_a_batch_whose_first_row_is_stored_is_not_reported_lost(tmp_path: Path) -> None:
    store = _store(tmp_path)
    first = uuid7()
    row = InferenceRecord(id=first, created_at=datetime.now(UTC), request_id="r", feature="t")
    store.insert([row.row()])
    _killed_mid_batch(tmp_path / "ledgers", store, first)

    (dead,) = reclaim(tmp_path / "ledgers")

    assert report_lost(dead, store, migrated=True) == 2
    store.dispose()


def test_a_batch_whose_first_row_is_missing_is_reported_lost(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _killed_mid_batch(tmp_path / "ledgers", store, uuid7())

    (dead,) = reclaim(tmp_path / "ledgers")

    assert report_lost(dead, store, migrated=True) == 5
    store.dispose()

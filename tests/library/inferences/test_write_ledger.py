"""The write ledger alone: what a killed process owed the inference log survives it, is
read once by the next start, and a live process's ledger is never taken for a dead one's.
The killed writers are real processes, killed with SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from squadkit.inferences import WriteLedger, reclaim

STORE = "postgresql+psycopg://squad@db/log"


def _killed_writer(folder: Path, steps: str) -> None:
    """Run a process that opens a ledger in `folder`, does `steps` (`ledger` in scope),
    then SIGKILLs itself."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from squadkit.inferences import WriteLedger
        ledger = WriteLedger.open(Path({str(folder)!r}), {STORE!r})
        {steps}
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    process = subprocess.run([sys.executable, "-c", script], check=False)
    assert process.returncode == -signal.SIGKILL


def test_a_killed_process_leaves_its_unsettled_count_for_the_next_start(tmp_path: Path) -> None:
    _killed_writer(tmp_path, "[ledger.accept() for _ in range(7)]; ledger.settle(3)")

    found = reclaim(tmp_path)

    assert [(dead.accepted, dead.settled, dead.store) for dead in found] == [(7, 3, STORE)]
    assert found[0].lost(in_flight_committed=False) == 4


def test_a_ledger_is_reported_once(tmp_path: Path) -> None:
    _killed_writer(tmp_path, "ledger.accept()")

    assert len(reclaim(tmp_path)) == 1
    assert reclaim(tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_a_live_process_ledger_is_not_reclaimed(tmp_path: Path) -> None:
    ledger = WriteLedger.open(tmp_path, STORE)
    ledger.accept()
    try:
        assert reclaim(tmp_path) == []
        assert ledger.path.exists()
    finally:
        ledger.close()


def test_a_batch_that_committed_before_the_kill_is_not_counted_lost(tmp_path: Path) -> None:
    steps = "[ledger.accept() for _ in range(5)]; ledger.begin_batch(3, 'first-id')"
    _killed_writer(tmp_path, steps)

    (dead,) = reclaim(tmp_path)

    assert dead.in_flight is not None
    assert dead.in_flight.first_id == "first-id"
    assert dead.lost(in_flight_committed=True) == 2
    assert dead.lost(in_flight_committed=False) == 5

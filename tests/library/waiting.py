"""Waiting in tests without betting on how fast this machine is today.

A condition a test expects to become true gets a cap far above what a loaded 2-core host
needs (a wait that succeeds returns as soon as it does, so a high cap costs nothing). A
server's start is judged by the work it did, not the time it took: it fails when the
process exits, or when it has used `cpu_budget_s` of CPU without answering, so a start
that is merely starved of CPU (a fresh venv compiling litellm beside two busy neighbours)
is waited for, and one that spins is not. A wall-clock cap stays as a last resort for a
process that hangs without using CPU.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

EVENTUALLY_S = 300.0  # a cap, never a measure: see the module's docstring
START_CPU_BUDGET_S = 120.0
START_WALL_CAP_S = 1800.0


def eventually(condition: Callable[[], bool], what: str, timeout_s: float = EVENTUALLY_S) -> None:
    """Return once `condition()` holds; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f} s waiting for {what}"
        time.sleep(0.02)


def cpu_seconds(pid: int) -> float | None:
    """The CPU time (user + system) a live process has used, from /proc; None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    # After the command's ")": state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=30).status_code == 200
    except httpx.TransportError:
        return False


def wait_until_serving(
    process: subprocess.Popen[str], url: str, cpu_budget_s: float = START_CPU_BUDGET_S
) -> None:
    """Return once `url` answers 200; fail with the process's output if it exits, or once it
    has used `cpu_budget_s` of CPU (or, where /proc is missing, that much wall time) or
    `START_WALL_CAP_S` has passed without answering."""
    started = time.monotonic()
    while not _answers(url):
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"the server exited with {process.returncode}:\n{output}")
        waited = time.monotonic() - started
        used = cpu_seconds(process.pid)
        assert (waited if used is None else used) < cpu_budget_s, (
            f"the server used {used if used is not None else waited:.0f} s without answering {url}"
        )
        assert waited < START_WALL_CAP_S, f"the server did not answer {url} in {waited:.0f} s"
        time.sleep(0.1)

"""Names the eval tests import (not from `conftest.py`, which is ambiguous across folders)."""

import json
from pathlib import Path

from tests.library.squad import ROOT as SQUAD

__all__ = ["SQUAD", "drop_recordings", "keep_first_cases"]


def keep_first_cases(evals_dir: Path, count: int) -> None:
    """Cut the triage dataset to its first `count` cases, for a test that makes live calls."""
    dataset = evals_dir / "datasets" / "triage.jsonl"
    lines = dataset.read_text(encoding="utf-8").splitlines(keepends=True)
    dataset.write_text("".join(lines[:count]), encoding="utf-8")


def drop_recordings(recordings: Path, *, case: str, alias: str | None = None) -> int:
    """Delete the recorded answers of `case` (of `alias` only, when given); how many went."""
    kept, dropped = [], 0
    for line in recordings.read_text(encoding="utf-8").splitlines(keepends=True):
        request = json.loads(line)["request"]
        if request["case"] == case and alias in (None, request["alias"]):
            dropped += 1
        else:
            kept.append(line)
    recordings.write_text("".join(kept), encoding="utf-8")
    return dropped

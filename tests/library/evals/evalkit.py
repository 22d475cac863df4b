"""Names the eval tests import (not from `conftest.py`, which is ambiguous across folders)."""

from pathlib import Path

from tests.library.squad import ROOT as SQUAD

__all__ = ["SQUAD", "keep_first_cases"]


def keep_first_cases(evals_dir: Path, count: int) -> None:
    """Cut the triage dataset to its first `count` cases, for a test that makes live calls."""
    dataset = evals_dir / "datasets" / "triage.jsonl"
    lines = dataset.read_text(encoding="utf-8").splitlines(keepends=True)
    dataset.write_text("".join(lines[:count]), encoding="utf-8")

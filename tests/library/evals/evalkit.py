"""Names the eval tests import (not from `conftest.py`, which is ambiguous across folders)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The repository root: its committed evals/ data is what the data tests check."""


def keep_first_cases(evals_dir: Path, count: int) -> None:
    """Cut the triage dataset to its first `count` cases, for a test that makes live calls."""
    dataset = evals_dir / "datasets" / "triage.jsonl"
    lines = dataset.read_text(encoding="utf-8").splitlines(keepends=True)
    dataset.write_text("".join(lines[:count]), encoding="utf-8")

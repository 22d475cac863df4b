"""Helpers the prompt registry's tests import by name.

They live here, not in `conftest.py`: several test folders have a conftest, and
`from conftest import ...` resolves to whichever one pytest imported first, so a run of
`pytest tests/evals tests/prompts` would import the wrong one.
"""

from dataclasses import dataclass
from pathlib import Path

DATASET = "evals/datasets/triage.jsonl"


@dataclass
class Squad:
    """Result of one in-process `squad ...` run through the real entry point."""

    code: int
    out: str
    err: str


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under prompts/ and evals/ (caches aside), to compare before and after."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for folder in ("prompts", "evals")
        for path in sorted((root / folder).rglob("*"))
        if path.is_file() and ".cache" not in path.parts
    }

"""Names the eval tests import (not from `conftest.py`, which is ambiguous across folders)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The repository root: its committed evals/ data is what the data tests check."""

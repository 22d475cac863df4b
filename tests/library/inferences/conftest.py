"""Fixtures shared by the inference-log tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from squadkit.inferences import InferenceStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[InferenceStore]:
    """A migrated store on each backend (PostgreSQL skips, saying how, where none runs)."""
    url = (
        f"sqlite:///{tmp_path / 'log.sqlite3'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    found = InferenceStore(url)
    found.migrate()
    yield found
    found.dispose()

"""Fixtures of the harvest tests: a scratch fixture squad and its inference log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from squadkit.inferences import InferenceStore
from tests.library.harvest.harvestkit import Log
from tests.library.postgres import postgres_schema
from tests.library.squad import copy_data


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_data(tmp_path / "squad")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The log's URL: a real SQLite file, then the real PostgreSQL (skipped when absent)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'inference-log.sqlite3'}"
    else:
        with postgres_schema() as schema_url:
            yield schema_url


@pytest.fixture
def log(url: str) -> Iterator[Log]:
    """A migrated log on each backend (the selection's tests run in-process on both)."""
    store = InferenceStore(url)
    store.migrate()
    yield Log(store)
    store.dispose()


@pytest.fixture
def sqlite_log(tmp_path: Path) -> Iterator[Log]:
    """A migrated SQLite log (the CLI's tests: `log.store.url` is its URL)."""
    store = InferenceStore(f"sqlite:///{tmp_path / 'cli-log.sqlite3'}")
    store.migrate()
    yield Log(store)
    store.dispose()

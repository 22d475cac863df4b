"""Fixtures of the eval tests: a scratch copy of the fixture squad, and settings pointing at it."""

from __future__ import annotations

from pathlib import Path

import pytest

from squadkit.settings import Settings
from tests.library.squad import copy_data


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The fixture squad's config/, prompts/ and evals/ (with its recordings), to change freely.

    Its models are the offline `local/...` ones the recordings were made with.
    """
    return copy_data(tmp_path)


@pytest.fixture
def settings(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("SQUAD_MODELS_FILE", raising=False)
    monkeypatch.chdir(repo)
    return Settings(root=repo)

"""Fixtures of the eval tests: a scratch copy of the repo's data, and settings pointing at it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from squadkit.settings import Settings

from tests.library.evals.evalkit import REPO

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


# The committed recordings were made with the offline models: whatever provider this repo
# uses in config/models.yaml, the eval machinery is tested against the offline chain.
OFFLINE_MODELS = """\
aliases:
  triage: {deployments: [{model: local/triage-rules-v1}]}
  judge: {deployments: [{model: local/judge-heuristic-v1}]}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """prompts/ and evals/ copied, offline models, so a test may record, gate, write evidence."""
    for folder in ("prompts", "evals"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "models.yaml").write_text(OFFLINE_MODELS, encoding="utf-8")
    return tmp_path


@pytest.fixture
def settings(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("SQUAD_MODELS_FILE", raising=False)
    monkeypatch.chdir(repo)
    return Settings(root=repo)

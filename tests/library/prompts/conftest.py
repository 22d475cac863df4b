"""Fixtures for the prompt registry's tests: a throwaway copy of this repo's data folders."""

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from squadkit.cli import main
from squadkit.gateway.config import load_models_config
from squadkit.prompts import (
    Evidence,
    PromptRegistry,
    file_hash,
    write_evidence,
)
from tests.library.prompts.promptkit import DATASET, Squad

# A fixed registry, not the repo's live prompts/: the team's own prompt versions, labels and
# models must not change what these tests of the registry itself expect.
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the fixture repo (prompts/, config/, a small dataset) as the repository root."""
    shutil.copytree(FIXTURES, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SQUAD_ROOT", str(tmp_path))
    for name in [key for key in os.environ if key.startswith("SQUAD_PROMPT_")]:
        monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture
def add_evidence(repo: Path) -> Callable[..., Path]:
    """Write passing evidence for a triage version, as the eval gate would."""

    def add(version: int, **changes: object) -> Path:
        prompt = PromptRegistry.load(repo / "prompts").get("triage", version=version)
        models = load_models_config(repo / "config" / "models.yaml")
        fields: dict[str, object] = {
            "prompt": "triage",
            "version": version,
            "prompt_hash": prompt.content_hash,
            "suite": "triage",
            "dataset": DATASET,
            "dataset_hash": file_hash(repo / DATASET),
            "models": {"triage": models.deployment_chain("triage")[-1:]},
            "verdict": "pass",
            "scores": {"accuracy": 0.9},
        }
        fields.update(changes)
        return write_evidence(repo / "evals" / "evidence", Evidence.model_validate(fields))

    return add


@pytest.fixture
def squad(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Squad]:
    """Run `squad ARGS...` in-process through `cli.main`, exactly as the console script."""

    def run(*args: str) -> Squad:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["squad", *args])
        code = 0
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
        return Squad(code, captured.out, captured.err)

    return run

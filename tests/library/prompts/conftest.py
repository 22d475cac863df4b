"""Fixtures for the prompt registry's tests: a throwaway copy of this repo's data folders."""

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from squadkit.cli import main
from squadkit.evals import RunOptions, Target, load_suite, workflow
from squadkit.prompts import Evidence, write_evidence
from squadkit.settings import Settings
from tests.library.prompts.promptkit import Squad

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


@pytest.fixture(scope="session")
def earned_evidence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture repo after a real eval gate of triage v1 and v2 (recorded with the
    offline model): honest recordings and evidence, made once per session."""
    root = tmp_path_factory.mktemp("earned")
    shutil.copytree(FIXTURES, root, dirs_exist_ok=True)
    settings = Settings(root=root, models_file_override=None)
    suite = load_suite(root / "evals" / "triage.yaml")
    record = RunOptions(mode="record", progress=False)
    for version in (1, 2):
        target = Target(prompt="triage", version=version)
        workflow.gate(settings, suite, record, [target], root / "reports")
    return root


@pytest.fixture
def add_evidence(repo: Path, earned_evidence: Path) -> Callable[..., Path]:
    """Put the evidence a passing eval gate wrote for a triage version (and the recordings
    it replays from) in place; `changes` then edit fields, as a hand-written file would."""

    def add(version: int, **changes: object) -> Path:
        recordings = Path("evals") / "recordings" / "triage.jsonl"
        shutil.copyfile(earned_evidence / recordings, repo / recordings)
        earned = earned_evidence / "evals" / "evidence" / "triage" / f"v{version}.json"
        fields = json.loads(earned.read_text(encoding="utf-8")) | changes
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

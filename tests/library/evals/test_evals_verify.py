"""Evidence is verified, not trusted: `prompts check` and `promote` replay it from recordings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from squadkit.evals import verify
from squadkit.gateway.config import load_models_config
from squadkit.prompts import Problem, file_hash
from squadkit.settings import Settings
from tests.library.prompts.promptkit import snapshot
from tests.library.squad import COMMAND

EVIDENCE = Path("evals") / "evidence" / "triage"


def _squad(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, "prompts", *args],
        cwd=repo,
        env={**os.environ, "SQUAD_ROOT": str(repo)},
        capture_output=True,
        text=True,
        check=False,
    )


def _edit(path: Path, change: Callable[[dict[str, object]], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _v3_claiming_v1s_evidence(repo: Path) -> None:
    """A new v3 and a copy of v1's evidence with `version` and `prompt_hash` edited to it."""
    prompts = repo / "prompts" / "triage"
    v3 = (prompts / "v1.yaml").read_text(encoding="utf-8").replace("version: 1", "version: 3")
    (prompts / "v3.yaml").write_text(v3.replace("{{ body }}", ""), encoding="utf-8")
    assert _squad(repo, "lock").returncode == 0
    forged = json.loads((repo / EVIDENCE / "v1.json").read_text(encoding="utf-8"))
    forged |= {"version": 3, "prompt_hash": file_hash(prompts / "v3.yaml")}
    (repo / EVIDENCE / "v3.json").write_text(json.dumps(forged, indent=2), encoding="utf-8")


def _run_forged(repo: Path, command: str, version: int) -> subprocess.CompletedProcess[str]:
    """`prompts check` with staging pointing at `version`, or `promote` moving it there."""
    if command == "check":
        labels = repo / "prompts" / "labels.yaml"
        data = yaml.safe_load(labels.read_text(encoding="utf-8"))
        data["labels"]["triage"]["staging"] = version
        labels.write_text(yaml.safe_dump(data), encoding="utf-8")
    before = snapshot(repo)
    result = (
        _squad(repo, "check")
        if command == "check"
        else _squad(repo, "promote", "triage", str(version), "--label", "staging")
    )
    assert snapshot(repo) == before  # no file changed
    return result


def _problem_line(result: subprocess.CompletedProcess[str], version: int) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if f"triage/v{version}.json:" in line]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_honest_evidence_passes_check(repo: Path) -> None:
    result = _squad(repo, "check")

    assert result.returncode == 0, result.stderr
    assert "ok: 1 prompts, 2 versions" in result.stdout


@pytest.mark.parametrize("command", ["check", "promote"])
def test_evidence_copied_to_another_version_fails(repo: Path, command: str) -> None:
    _v3_claiming_v1s_evidence(repo)

    line = _problem_line(_run_forged(repo, command, 3), 3)

    assert "evals/evidence/triage/v3.json: cannot be re-derived from " in line
    assert "evals/recordings/triage.jsonl" in line
    assert "no recording for model alias 'triage'" in line
    refused = "refusing to point gated label triage:staging at v3 (override with --force"
    assert (refused if command == "promote" else "rerun the eval gate for triage@v3") in line


@pytest.mark.parametrize("command", ["check", "promote"])
def test_edited_scores_fail(repo: Path, command: str) -> None:
    def raise_queue(data: dict[str, object]) -> None:
        scores = data["scores"]
        assert isinstance(scores, dict)
        scores["queue"]["mean"] = 0.9

    _edit(repo / EVIDENCE / "v1.json", raise_queue)

    line = _problem_line(_run_forged(repo, command, 1), 1)

    assert (
        "evals/evidence/triage/v1.json: scores do not reproduce from "
        "evals/recordings/triage.jsonl (queue 0.900 claimed, 0.675 replayed); "
        "rerun the eval gate for triage@v1"
    ) in line


@pytest.mark.parametrize("command", ["check", "promote"])
def test_edited_deployments_fail(repo: Path, command: str) -> None:
    def drop_the_judge(data: dict[str, object]) -> None:
        judges = data["judges"]
        assert isinstance(judges, dict)
        del judges["judge"]

    _edit(repo / EVIDENCE / "v1.json", drop_the_judge)

    line = _problem_line(_run_forged(repo, command, 1), 1)

    assert "evals/evidence/triage/v1.json: judging deployments do not reproduce" in line
    assert "(none claimed, judge: local/judge-heuristic-v1 replayed)" in line


@pytest.mark.parametrize("command", ["check", "promote"])
def test_edited_deployments_of_a_schema_1_file_fail(repo: Path, command: str) -> None:
    def drop_the_judge(data: dict[str, object]) -> None:  # schema 1 listed it with triage
        data["schema_version"] = 1
        data.pop("judges")

    _edit(repo / EVIDENCE / "v1.json", drop_the_judge)

    line = _problem_line(_run_forged(repo, command, 1), 1)

    assert "evals/evidence/triage/v1.json: answering deployments do not reproduce" in line
    assert "(triage: local/triage-rules-v1 claimed, judge: local/judge-heuristic-v1, " in line


@dataclass
class Verifier:
    """Verifies the fixture squad's gated evidence in-process, counting the replays."""

    settings: Settings
    replayed: int = 0

    def __call__(self) -> list[Problem]:
        models = load_models_config(self.settings.models_file)
        return verify.verify_evidence(self.settings, [("triage", 1), ("triage", 2)], models=models)


@pytest.fixture
def verifier(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Verifier:
    counter = Verifier(settings)
    reproduce = verify._reproduce

    def counted(*args: Any) -> Problem | None:
        counter.replayed += 1
        return reproduce(*args)

    monkeypatch.setattr(verify, "_reproduce", counted)
    return counter


def test_a_cached_verification_is_not_replayed(verifier: Verifier, repo: Path) -> None:
    assert verifier() == []
    assert verifier.replayed == 2
    assert (repo / "evals" / ".cache" / ".gitignore").read_text().endswith("*\n")

    assert verifier() == []
    assert verifier.replayed == 2


@pytest.mark.parametrize(
    "changed",
    [
        "evals/evidence/triage/v1.json",
        "evals/recordings/triage.jsonl",
        "evals/triage.yaml",
        "evals/datasets/triage.jsonl",
        "evals/baselines/triage.json",
        "prompts/triage/v1.yaml",
        "config/models.yaml",
    ],
)
def test_a_changed_input_is_replayed_again(verifier: Verifier, repo: Path, changed: str) -> None:
    assert verifier() == []
    with (repo / changed).open("a", encoding="utf-8") as file:
        file.write("\n")

    verifier()

    assert verifier.replayed > 2


def test_another_squadkit_version_is_replayed_again(
    verifier: Verifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert verifier() == []
    monkeypatch.setattr(verify, "_squadkit_version", lambda: "0.0.0+other")

    assert verifier() == []
    assert verifier.replayed == 4


def test_verifying_evidence_never_imports_litellm(repo: Path) -> None:
    script = (
        "import sys\n"
        "from squadkit.cli import main\n"
        "sys.argv = ['squad', 'prompts', 'check']\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
        "assert 'squadkit.evals.runner' in sys.modules, 'nothing was replayed'\n"
        "assert 'litellm' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=repo,
        env={**os.environ, "SQUAD_ROOT": str(repo)},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr

"""`squad prompts promote` compares the candidate with the version its label serves now."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from squadkit.gateway.config import load_models_config
from squadkit.prompts import PromotionRefused, RegressionPolicy, promote
from tests.library.squad import COMMAND


def _promote(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, "prompts", "promote", "triage", "2", "--label", "production", *args],
        cwd=repo,
        env={**os.environ, "SQUAD_ROOT": str(repo)},
        capture_output=True,
        text=True,
        check=False,
    )


def _lower_queue_of_v2(repo: Path, by: float) -> None:
    path = repo / "evals" / "evidence" / "triage" / "v2.json"
    evidence = json.loads(path.read_text(encoding="utf-8"))
    evidence["scores"]["queue"]["mean"] -= by
    path.write_text(json.dumps(evidence, indent=2), encoding="utf-8")


def test_a_candidate_within_the_margin_is_promoted_and_compared(repo: Path) -> None:
    result = _promote(repo)

    assert result.returncode == 0, result.stderr
    assert "triage:production -> v2 (was v1)" in result.stdout
    assert "vs v1: queue " in result.stdout


def test_a_candidate_below_the_served_version_beyond_the_margin_is_refused(repo: Path) -> None:
    """The registry's comparison itself (`squad prompts promote` first replays the evidence,
    so a lowered score can only reach it through the library: see `test_evals_verify`)."""
    _lower_queue_of_v2(repo, 0.1)
    labels = (repo / "prompts" / "labels.yaml").read_bytes()

    with pytest.raises(PromotionRefused) as refused:
        promote(
            repo / "prompts",
            "triage",
            2,
            "production",
            models=load_models_config(repo / "config" / "models.yaml"),
            evidence_dir=repo / "evals" / "evidence",
            root=repo,
            policy=RegressionPolicy(scorers=("queue", "priority", "judge"), margin=0.02),
        )

    assert "triage@v2 scores below v1, which triage:production serves now" in str(refused.value)
    assert "queue 0.575 vs 0.675 (-0.100)" in str(refused.value)
    assert (repo / "prompts" / "labels.yaml").read_bytes() == labels


def test_force_with_a_reason_promotes_and_records_it(repo: Path) -> None:
    _lower_queue_of_v2(repo, 0.1)

    result = _promote(repo, "--force", "--reason", "accepted: v2 fixes a security miss")

    assert result.returncode == 0, result.stderr
    history = yaml.safe_load((repo / "prompts" / "labels.yaml").read_text())["history"]
    assert history[-1]["forced"] is True
    assert history[-1]["reason"] == "accepted: v2 fixes a security miss"


def test_a_failing_gate_prints_the_table_a_pass_prints(repo: Path) -> None:
    """v3 is v1 without the ticket's body (the regression of the issue that set the rule):
    recorded with the offline model, the gate fails and still shows every scorer's row."""
    prompts = repo / "prompts" / "triage"
    v3 = (prompts / "v1.yaml").read_text(encoding="utf-8").replace("{{ body }}", "")
    (prompts / "v3.yaml").write_text(v3.replace("version: 1", "version: 3"), encoding="utf-8")

    result = subprocess.run(
        [COMMAND, "eval", "gate", "triage", "--version", "3", "--mode", "record"],
        cwd=repo,
        env={**os.environ, "SQUAD_ROOT": str(repo), "CI": "1"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert "## Eval `triage` - gate FAIL" in result.stdout
    assert "| queue |" in result.stdout
    assert "- queue fails: the 90% interval of the change" in result.stdout
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "eval gate failed for suite 'triage'" in error
    assert not (repo / "evals" / "evidence" / "triage" / "v3.json").exists()


def test_refresh_records_an_unreleased_version_so_its_gate_replays(repo: Path) -> None:
    """The prompt-change path: a new v3, then `make eval-refresh`, then the gate of v3."""
    prompts = repo / "prompts" / "triage"
    v3 = (prompts / "v2.yaml").read_text(encoding="utf-8").replace("version: 2", "version: 3")
    v3 = v3.replace("You triage", "Be concise. You triage")  # new messages: not yet recorded
    assert "Be concise." in v3
    (prompts / "v3.yaml").write_text(v3, encoding="utf-8")
    env = {**os.environ, "SQUAD_ROOT": str(repo), "CI": "1"}
    gate = [COMMAND, "eval", "gate", "triage", "--version", "3"]

    before = subprocess.run(gate, cwd=repo, env=env, capture_output=True, text=True, check=False)
    refresh = subprocess.run(
        [COMMAND, "eval", "refresh", "triage", "--out", "out"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    after = subprocess.run(gate, cwd=repo, env=env, capture_output=True, text=True, check=False)

    assert before.returncode == 2
    assert "record it with `squad eval run triage --version 3 --mode record`" in before.stderr
    assert refresh.returncode == 0, refresh.stdout + refresh.stderr
    assert after.returncode == 0, after.stdout + after.stderr
    assert (repo / "evals" / "evidence" / "triage" / "v3.json").is_file()

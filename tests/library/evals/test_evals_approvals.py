"""An inconclusive gate exits 3; a reviewed approval committed in the repository accepts it
for the gate, the evidence, `squad prompts promote` and the PR comment (the CLI as a user
runs it, on the fixture squad with a baseline its recordings cannot be decided against)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from squadkit.evals.plan import PlannedGate
from squadkit.evals.render_plan import GatedVersion, plan_summary
from squadkit.evals.report import read_report
from squadkit.evals.suite import Target
from tests.library.evals.test_evals_outcomes import noisy_baseline
from tests.library.squad import COMMAND


def _squad(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, *args],
        cwd=repo,
        env={**os.environ, "SQUAD_ROOT": str(repo)},
        capture_output=True,
        text=True,
        check=False,
    )


def _gate_staging(repo: Path, label: str = "staging") -> subprocess.CompletedProcess[str]:
    return _squad(repo, "eval", "gate", "triage", "--label", label, "--out", f"reports/{label}")


def _approve(repo: Path, label: str = "staging") -> subprocess.CompletedProcess[str]:
    return _squad(
        repo,
        "eval",
        "approve",
        "triage",
        "--report",
        f"reports/{label}/triage/report.json",
        "--by",
        "Ada Reviewer",
        "--reason",
        "queue changes both ways on 6 of 40 tickets; read each, none worse",
    )


def test_an_inconclusive_gate_exits_3_and_says_what_would_decide(repo: Path) -> None:
    noisy_baseline(repo / "evals")
    evidence = repo / "evals" / "evidence" / "triage" / "v2.json"
    before = evidence.read_bytes()

    result = _gate_staging(repo)

    assert result.returncode == 3, result.stderr
    error = result.stderr.strip().splitlines()
    assert len(error) == 1  # one line, no traceback
    assert error[0].startswith("error: eval gate inconclusive for suite 'triage'")
    assert "cases (now 40)" in error[0]
    assert "squad eval approve triage" in error[0]
    assert "gate INCONCLUSIVE" in result.stdout  # the table is printed first
    assert evidence.read_bytes() == before


def test_an_approval_of_the_report_hash_passes_the_gate_and_promote_accepts_it(
    repo: Path,
) -> None:
    noisy_baseline(repo / "evals")
    assert _gate_staging(repo).returncode == 3
    report = json.loads((repo / "reports/staging/triage/report.json").read_text(encoding="utf-8"))

    approved = _approve(repo)

    assert approved.returncode == 0, approved.stderr
    path = repo / "evals" / "approvals" / "triage" / "v2.yaml"
    approval = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert approval["report_hash"] == report["gate"]["report_hash"]
    assert (approval["prompt"], approval["version"]) == ("triage", 2)
    assert approval["prompt_hash"] == report["arms"][0]["prompt"]["hash"]
    assert approval["approved_by"] == "Ada Reviewer"

    gated = _gate_staging(repo)
    assert gated.returncode == 0, gated.stderr
    assert "gate PASS (approved)" in gated.stdout
    assert "accepted by approval** `evals/approvals/triage/v2.yaml`" in gated.stdout
    evidence = json.loads((repo / "evals/evidence/triage/v2.json").read_text(encoding="utf-8"))
    assert evidence["verdict"] == "pass"
    assert evidence["approval"] == "evals/approvals/triage/v2.yaml"
    # The pull request's comment (the plan gate's Markdown) shows the approval.
    accepted = read_report(repo / "reports/staging/triage/report.json")
    planned = PlannedGate(
        suite="triage", target=Target(prompt="triage", version=2), version=2, reasons=("added",)
    )
    comment = plan_summary("triage", "abc123", [GatedVersion(planned, accepted, None)])
    assert "| `triage@v2` | added | - | PASS (approved) |" in comment
    assert "accepted by the approval `evals/approvals/triage/v2.yaml` (approved by Ada" in comment

    # v1, which production serves, reads the same against this baseline: promote verifies
    # its evidence too, so it needs its own approval (or more cases) first.
    assert _gate_staging(repo, "production").returncode == 3
    assert _approve(repo, "production").returncode == 0
    assert _gate_staging(repo, "production").returncode == 0
    promoted = _squad(repo, "prompts", "promote", "triage", "2", "--label", "production")
    assert promoted.returncode == 0, promoted.stderr
    assert "triage:production -> v2 (was v1)" in promoted.stdout


def test_an_approval_of_another_report_hash_is_not_accepted(repo: Path) -> None:
    noisy_baseline(repo / "evals")
    assert _gate_staging(repo).returncode == 3
    assert _approve(repo).returncode == 0
    path = repo / "evals" / "approvals" / "triage" / "v2.yaml"
    approval = yaml.safe_load(path.read_text(encoding="utf-8"))
    approval["report_hash"] = "sha256:" + "0" * 64
    path.write_text(yaml.safe_dump(approval), encoding="utf-8")

    result = _gate_staging(repo)

    assert result.returncode == 3
    assert "does not approve this gate: its report_hash sha256:000" in result.stderr


def test_a_bad_approval_file_is_one_line_naming_file_and_field(repo: Path) -> None:
    noisy_baseline(repo / "evals")
    path = repo / "evals" / "approvals" / "triage" / "v2.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("prompt: triage\nversion: 2\napproved_by: me\n", encoding="utf-8")

    result = _gate_staging(repo)

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: evals/approvals/triage/v2.yaml: field 'prompt_hash': Field required"
    )


def test_approving_a_gate_that_passed_is_refused(repo: Path) -> None:
    assert _gate_staging(repo).returncode == 0

    result = _approve(repo)

    assert result.returncode == 2
    assert "field 'gate.verdict'" in result.stderr
    assert "only an inconclusive gate can be approved" in result.stderr
    assert not (repo / "evals" / "approvals").exists()


def test_power_answers_how_many_cases_a_margin_needs_from_the_baseline(repo: Path) -> None:
    result = _squad(repo, "eval", "power", "triage", "--margin", "0.05", "--disagreement", "0.16")

    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| queue |")]
    # A pass/fail scorer: delta SD sqrt(0.16) = 0.4; ((1.645 + 0.842) * 0.4 / 0.05)^2 -> 396
    # cases for a neutral change, ((2.486 * 0.4) / 0.025)^2 -> 1583 for a drop of 0.025.
    assert rows == [
        "| queue | 0.675 | 16% | 0.400 | 396 | 1583 | 0.157 |",
    ]


def test_power_without_a_baseline_is_a_usage_error(repo: Path) -> None:
    (repo / "evals" / "baselines" / "triage.json").unlink()

    result = _squad(repo, "eval", "power", "triage")

    assert result.returncode == 2
    assert result.stderr.startswith("error: evals/baselines/triage.json: no baseline")

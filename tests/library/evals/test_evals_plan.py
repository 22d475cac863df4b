"""`squad eval plan` and `squad eval gate --plan`: CI gates every version a change brings in.

Each test commits the fixture squad as the base, changes it as a pull request would, and
plans against the base commit.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from squadkit.evals import workflow
from squadkit.evals.plan import Against, EvalPlan, plan_gates, read_plan
from squadkit.settings import Settings
from tests.library.squad import COMMAND

GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        [*GIT, *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def base(repo: Path) -> str:
    """The fixture squad committed: the pull request's base commit."""
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "-m", "base")
    return _git(repo, "rev-parse", "HEAD")


def _add_v3(repo: Path, *, drop_body: bool = False, label: str | None = "staging") -> None:
    prompts = repo / "prompts" / "triage"
    text = (prompts / "v2.yaml").read_text(encoding="utf-8").replace("version: 2", "version: 3")
    (prompts / "v3.yaml").write_text(
        text.replace("{{ body }}", "") if drop_body else text, encoding="utf-8"
    )
    if label is not None:
        labels = repo / "prompts" / "labels.yaml"
        before = labels.read_text(encoding="utf-8")
        labels.write_text(before.replace(f"{label}: 2", f"{label}: 3"), encoding="utf-8")


def _plan(settings: Settings, base: str | None) -> EvalPlan:
    return plan_gates(settings.prompts_dir, workflow.suites(settings, []), base=base)


def _squad(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, *args],
        cwd=repo,
        env={**os.environ, "SQUAD_ROOT": str(repo), "CI": "1"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_plan_without_base_gates_each_suite_target(settings: Settings, base: str) -> None:
    _add_v3(settings.root)

    plan = _plan(settings, None)

    assert [(g.arm, g.reasons, g.against) for g in plan.gates] == [
        ("triage@production", ("suite target",), None)
    ]


def test_a_version_the_change_adds_for_a_gated_label_is_gated_beside_what_it_served(
    settings: Settings, base: str
) -> None:
    _add_v3(settings.root)

    plan = _plan(settings, base)

    assert [(g.arm, g.version, g.reasons, g.against) for g in plan.gates] == [
        (
            "triage@production",
            1,
            ("suite target", "label production"),
            Against(label="production", version=1),
        ),
        ("triage@v3", 3, ("added", "label staging"), Against(label="staging", version=2)),
    ]
    assert [t.arm_name for t in plan.targets("triage")] == ["triage@production", "triage@v3"]


def test_an_unlabelled_new_version_is_gated_beside_the_suite_target_label(
    settings: Settings, base: str
) -> None:
    _add_v3(settings.root, label=None)

    (_, staging, added) = _plan(settings, base).gates

    assert (added.arm, added.reasons) == ("triage@v3", ("added",))
    assert added.against == Against(label="production", version=1)
    assert (staging.arm, staging.reasons) == ("triage@v2", ("label staging",))


def test_a_base_that_is_no_commit_is_a_one_line_error(repo: Path, base: str) -> None:
    result = _squad(repo, "eval", "plan", "--base", "no-such-ref", "--out", "plan.json")

    assert result.returncode == 2
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "--base no-such-ref: not a commit in this clone" in error
    assert "Traceback" not in result.stderr


def test_gating_a_plan_fails_a_worse_version_and_shows_it_beside_the_served_one(
    repo: Path, base: str
) -> None:
    """v3 is v2 without the ticket's body, on `staging` only: the suite's target (production,
    v1) passes, v3 fails, and the summary puts v3's scores beside v2's."""
    _add_v3(repo, drop_body=True)
    recorded = _squad(repo, "eval", "run", "triage", "--version", "3", "--mode", "record")
    assert recorded.returncode == 0, recorded.stderr
    planned = _squad(repo, "eval", "plan", "--base", base, "--out", "plan.json")
    assert planned.returncode == 0, planned.stderr
    assert read_plan(repo / "plan.json").base == base

    result = _squad(repo, "eval", "gate", "--plan", "plan.json", "--out", "out")

    assert result.returncode == 1, result.stdout + result.stderr
    summary = (repo / "out" / "triage" / "summary.md").read_text(encoding="utf-8")
    assert summary in result.stdout
    assert summary.startswith("## Eval `triage` - gate FAIL")
    assert "| `triage@v1` | suite target, label production | `production`: v1 | PASS |" in summary
    assert "| `triage@v3` | added, label staging | `staging`: v2 | FAIL |" in summary
    assert "Beside v2, which `staging` serves today (scores from its evidence" in summary
    assert "| Scorer | v2 (staging today) | v3 | Delta | Gate |" in summary
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "eval gate failed for suite 'triage' (triage@v3)" in error
    assert not (repo / "evals" / "evidence" / "triage" / "v3.json").exists()


def test_gating_a_plan_passes_an_unchanged_copy(repo: Path, base: str) -> None:
    _add_v3(repo)
    assert (
        _squad(repo, "eval", "run", "triage", "--version", "3", "--mode", "record").returncode == 0
    )
    assert _squad(repo, "eval", "plan", "--base", base, "--out", "plan.json").returncode == 0

    result = _squad(repo, "eval", "gate", "--plan", "plan.json", "--out", "out")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "| `triage@v3` | added, label staging | `staging`: v2 | PASS |" in result.stdout


def test_a_malformed_plan_is_a_one_line_error(repo: Path) -> None:
    (repo / "plan.json").write_text('{"gates": 3}', encoding="utf-8")

    result = _squad(repo, "eval", "gate", "--plan", "plan.json")

    assert result.returncode == 2
    assert "plan.json: not an eval plan (field 'gates'" in result.stderr


def test_a_label_no_longer_gated_is_named_in_the_plan_and_the_pr_summary(
    repo: Path, base: str
) -> None:
    labels = repo / "prompts" / "labels.yaml"
    before = labels.read_text(encoding="utf-8")
    labels.write_text(before.replace("gated_labels:\n- production\n", "gated_labels:\n"))
    assert _squad(repo, "eval", "plan", "--base", base, "--out", "plan.json").returncode == 0
    (note,) = read_plan(repo / "plan.json").notes
    assert note.startswith("gated_labels no longer lists 'production' (prompts/labels.yaml")

    _squad(repo, "eval", "gate", "--plan", "plan.json", "--out", "out")

    summary = (repo / "out" / "triage" / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## Eval `triage` - gate ")
    assert f"> **Note:** {note}" in summary

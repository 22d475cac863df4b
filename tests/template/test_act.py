"""The generated CI runs locally with real act (host mode, offline) and means what it says.

Each test commits a fresh render and runs `make act` in it, the command a team uses
before pushing: act copies the work tree, runs each job's `make` steps on this machine,
and stands in for remote actions with the stubs `scripts/act.py` writes. A fresh render
passes; a locked prompt edited in place fails the `prompts` job, and a prompt version that
scores below the gate fails the `eval gate` job; act exits non-zero for both. `promote.yml`
gates a version, moves its label and dry-runs the pull request step.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.template.conftest import GIT, Rendered, commit_all, committed_copy, git, run

pytestmark = [pytest.mark.slow, pytest.mark.act]


@pytest.fixture(scope="module")
def committed(
    render_once: Callable[..., Rendered],
    install: Callable[[Rendered], dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, str]]:
    """A committed copy of the default render and the env with its tools installed (uv's
    cache warmed through the shared installer; these runs get their own venv)."""
    rendered = render_once()
    return committed_copy(rendered, install(rendered), tmp_path_factory.mktemp("act"))


def _act(repo: Path, env: dict[str, str], *arguments: str) -> tuple[int, str]:
    result = run(["make", "act", *arguments], cwd=repo, env=env, check=False)
    return result.returncode, result.stdout + result.stderr


def test_fresh_render_passes_ci_workflow_under_act(committed: tuple[Path, dict[str, str]]) -> None:
    repo, env = committed
    status, output = _act(repo, env, "ACT_WORKFLOWS=ci")
    assert status == 0, output[-8000:]
    assert "Job failed" not in output
    for job in ("lint and format", "types", "tests and coverage", "prompt lock", "workflow lint"):
        assert f"[ci/{job}" in output


def test_fresh_render_passes_evals_workflow_under_act(
    committed: tuple[Path, dict[str, str]],
) -> None:
    repo, env = committed
    status, output = _act(repo, env, "ACT_WORKFLOWS=evals")
    assert status == 0, output[-8000:]
    assert "Job failed" not in output
    # Shards went through the artifact stand-in to the merge and the gate, and the PR
    # comment step ran in its dry-run form.
    assert "artifact eval-shard-1 ->" in output
    assert "[act] would post or update the PR comment" in output


def _promote(repo: Path, env: dict[str, str], version: str) -> tuple[int, str]:
    inputs = f"prompt=triage version={version} label=production"
    return _act(
        repo, env, "ACT_WORKFLOWS=promote", "ACT_EVENT=workflow_dispatch", f"ACT_INPUTS={inputs}"
    )


def test_promote_workflow_gates_then_moves_the_label_under_act(
    committed: tuple[Path, dict[str, str]],
) -> None:
    repo, env = committed
    status, output = _promote(repo, env, "2")
    assert status == 0, output[-8000:]
    assert "triage:production -> v2 (was v1)" in output
    assert "[act] would push branch 'promote/triage-v2-production'" in output


def test_promote_workflow_refuses_a_version_that_does_not_exist_under_act(
    committed: tuple[Path, dict[str, str]],
) -> None:
    repo, env = committed
    status, output = _promote(repo, env, "9")
    assert status != 0
    assert "Job failed" in output
    assert "triage has no v9 (versions: v1, v2)" in output
    assert "would push branch" not in output


def test_edited_locked_prompt_fails_prompts_job_under_act(
    committed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    source, env = committed
    repo = tmp_path / "repo"
    shutil.copytree(source, repo, ignore=shutil.ignore_patterns(".cache"))
    prompt = repo / "prompts" / "triage" / "v1.yaml"
    prompt.write_text(prompt.read_text() + "\n# an edit to a released version\n")
    run([*GIT, "commit", "--quiet", "-am", "edit a locked prompt"], cwd=repo)
    status, output = _act(repo, env, "ACT_WORKFLOWS=ci", "ACT_JOB=prompts")
    assert status != 0
    assert "Job failed" in output
    assert "prompts/triage/v1.yaml" in output


def test_a_label_removed_from_gated_labels_fails_prompts_job_under_act(
    committed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """CI passes the pull request's base to `prompts check`: a branch that stops gating
    production fails the prompts job, naming the label and the file."""
    source, env = committed
    repo = tmp_path / "repo"
    shutil.copytree(source, repo, ignore=shutil.ignore_patterns(".cache"))
    run([*GIT, "switch", "--quiet", "-c", "ungate-production"], cwd=repo)
    labels = repo / "prompts" / "labels.yaml"
    labels.write_text(
        labels.read_text().replace("gated_labels:\n- production\n", "gated_labels:\n")
    )
    run([*GIT, "commit", "--quiet", "-am", "stop gating production"], cwd=repo)
    status, output = _act(repo, env, "ACT_WORKFLOWS=ci", "ACT_JOB=prompts")
    assert status != 0
    assert "Job failed" in output
    assert "prompts/labels.yaml: gated_labels no longer lists 'production'" in output


def _make_worse(prompt: Path) -> None:
    """The worse triage version of the generated repo's own gate test (test_evals_gate).

    The system message pasted inside the ticket tags: a plausible "one message is simpler"
    edit after which the model reads its instructions as part of every ticket.
    """
    spec = yaml.safe_load(prompt.read_text(encoding="utf-8"))
    system, user = (message["content"] for message in spec["messages"])
    ticket = user.replace("<ticket>", "").replace("</ticket>", "").strip()
    spec["messages"] = [{"role": "user", "content": f"<ticket>\n{system}\n{ticket}\n</ticket>\n"}]
    prompt.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")


def _job_succeeded(output: str, job: str) -> bool:
    return re.search(rf"^\[evals/{re.escape(job)}\s*\] .*Job succeeded$", output, re.M) is not None


def test_prompt_version_below_the_gate_fails_eval_gate_job_under_act(
    committed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """The pull request a team should not merge: a worse version pointed at by the suite's
    target (`production`, forced past the missing evidence), its answers recorded with the
    offline models and committed, so CI replays them without a key and the gate says no.
    """
    source, env = committed
    repo = tmp_path / "repo"
    shutil.copytree(source, repo, ignore=shutil.ignore_patterns(".cache"))
    squad = ["uv", "run", "--quiet", "squad"]
    run([*squad, "prompts", "new", "triage"], cwd=repo, env=env)
    _make_worse(repo / "prompts" / "triage" / "v3.yaml")
    run([*squad, "prompts", "lock"], cwd=repo, env=env)
    promote = ["prompts", "promote", "triage", "3", "--label", "production", "--force"]
    run([*squad, *promote, "--reason", "one message is simpler"], cwd=repo, env=env)
    record = ["eval", "run", "triage", "--mode", "record", "--concurrency", "32"]
    run([*squad, *record, "--out", str(tmp_path / "recorded")], cwd=repo, env=env)
    commit_all(repo, "triage v3: one message")

    status, output = _act(repo, env, "ACT_WORKFLOWS=evals")

    assert status != 0, output[-8000:]
    # The shard replayed the committed recordings of v3 (no miss, no key needed) ...
    assert _job_succeeded(output, "run shard 1/1"), output[-8000:]
    assert "Prompt `triage@v3` (label `production`)" in output
    assert "mode `replay`" in output
    assert "no recording for" not in output
    # ... and the gate itself said no: `squad eval gate` exited 1 (a config or data error
    # would be 2) with its verdict, and that failed the job and act.
    assert "error: eval gate failed for suite 'triage' (triage@production)" in output
    assert "fails: the 90% interval of the change" in output
    assert re.search(r"make(\[\d+\])?: \*\*\* \[Makefile:\d+: gate\] Error 1$", output, re.M)
    assert "Job 'eval gate' failed" in output


def _pull_request_with_v3(
    source: Path, env: dict[str, str], tmp_path: Path, *, drop_body: bool
) -> Path:
    """A branch off the fresh render that adds triage v3 (a copy of v2, `{{ body }}` dropped
    when `drop_body`) and points `staging` at it, v3's answers recorded and committed: what
    the runbook's prompt-change path leaves in a pull request."""
    repo = tmp_path / "repo"
    shutil.copytree(source, repo, ignore=shutil.ignore_patterns(".cache"))
    git("checkout", "--quiet", "-b", "triage-v3", cwd=repo)
    squad = ["uv", "run", "--quiet", "squad"]
    run([*squad, "prompts", "new", "triage"], cwd=repo, env=env)
    v3 = repo / "prompts" / "triage" / "v3.yaml"
    if drop_body:
        text = v3.read_text(encoding="utf-8")
        assert "{{ body }}" in text
        v3.write_text(text.replace("{{ body }}", ""), encoding="utf-8")
    run([*squad, "prompts", "lock"], cwd=repo, env=env)
    promote = ["prompts", "promote", "triage", "3", "--label", "staging", "--force"]
    run([*squad, *promote, "--reason", "try v3 on staging"], cwd=repo, env=env)
    record = ["eval", "run", "triage", "--version", "3", "--mode", "record"]
    run([*squad, *record, "--out", str(tmp_path / "recorded")], cwd=repo, env=env)
    commit_all(repo, "triage v3 on staging")
    return repo


def _comment(output: str) -> str:
    """The PR comment the dry run printed (from its first line on)."""
    assert "[act] would post or update the PR comment" in output, output[-8000:]
    return output[output.index("[act] would post or update the PR comment") :]


def test_worse_version_a_pull_request_adds_fails_evals_and_shows_beside_today_under_act(
    committed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """v3 reaches no suite target (production stays on v1), only `staging`: the plan gates it
    because the pull request adds it and a gated label points to it, and the comment shows
    it beside v2, the version `staging` serves on the base."""
    source, env = committed
    repo = _pull_request_with_v3(source, env, tmp_path, drop_body=True)

    status, output = _act(repo, env, "ACT_WORKFLOWS=evals")

    assert status != 0, output[-8000:]
    assert "triage@v3 (added, label staging; beside staging at the base (v2))" in output
    assert _job_succeeded(output, "run shard 1/1"), output[-8000:]
    assert "no recording for" not in output
    assert "error: eval gate failed for suite 'triage' (triage@v3)" in output
    assert "Job 'eval gate' failed" in output
    comment = _comment(output)
    assert "| `triage@v3` | added, label staging | `staging`: v2 | FAIL |" in comment
    assert "| `triage@v1` | suite target, label production | `production`: v1 | PASS |" in comment
    assert "Beside v2, which `staging` serves today" in comment
    assert "| Scorer | v2 (staging today) | v3 | Delta | Gate |" in comment
    # act prefixes each line with the job's name: the row is matched from its first cell on.
    queue_row = r"\| queue \| [\d.]+ \([^)]*\) \| [\d.]+ \([^)]*\) \| -[\d.]+ \| FAIL \|$"
    assert re.search(queue_row, comment, re.M), comment[:6000]


def test_unchanged_copy_a_pull_request_adds_passes_evals_under_act(
    committed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    source, env = committed
    repo = _pull_request_with_v3(source, env, tmp_path, drop_body=False)

    status, output = _act(repo, env, "ACT_WORKFLOWS=evals")

    assert status == 0, output[-8000:]
    assert "Job failed" not in output
    comment = _comment(output)
    assert "| `triage@v3` | added, label staging | `staging`: v2 | PASS |" in comment
    assert "Beside v2, which `staging` serves today" in comment

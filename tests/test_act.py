"""The generated CI runs locally with real act (host mode, offline) and means what it says.

Each test commits a fresh render and runs `make act` in it, the command a team uses
before pushing: act copies the work tree, runs each job's `make` steps on this machine,
and stands in for remote actions with the stubs `scripts/act.py` writes. A fresh render
passes; a locked prompt edited in place fails the `prompts` job and act exits non-zero.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Rendered, run

pytestmark = [pytest.mark.slow, pytest.mark.act]

GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]


@pytest.fixture(scope="module")
def committed(
    render_once: Callable[..., Rendered],
    install: Callable[[Rendered], dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, str]]:
    """A committed copy of the default render and the env with its tools installed."""
    rendered = render_once()
    # Warm uv's cache through the shared installer, then give these runs their own venv:
    # `uv run` in a copy re-points the editable install at the copy.
    folder = tmp_path_factory.mktemp("act")
    env = {**install(rendered), "UV_PROJECT_ENVIRONMENT": str(folder / "venv")}
    repo = folder / "repo"
    shutil.copytree(rendered.path, repo)
    run([*GIT, "add", "--all"], cwd=repo)
    run([*GIT, "commit", "--quiet", "-m", "fresh render"], cwd=repo)
    return repo, env


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

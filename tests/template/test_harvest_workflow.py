"""`harvest.yml`, the scheduled harvest, run on demand under real act (host mode, offline).

A fresh render with the service, committed; its inference log a real SQLite file outside
the repo, named by `SQUAD_INFERENCE_LOG_URL` and handed to act as the `harvest`
environment's secret (`make act ACT_SECRETS=...`), as the docs say. An answer with
negative feedback becomes a candidate, and the pull request step (dry-run under act) would
force-add the candidates file, with a body counting them by reason. A log with nothing to
review opens nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.logkit import answer_with_feedback
from tests.template.conftest import Rendered, committed_copy, dispatch_under_act, run

pytestmark = [pytest.mark.slow, pytest.mark.act]


@pytest.fixture(scope="module")
def committed(
    render_once: Callable[..., Rendered],
    install: Callable[[Rendered], dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, str]]:
    """A committed copy of the default render (with the service) and its tools' env."""
    rendered = render_once()
    return committed_copy(rendered, install(rendered), tmp_path_factory.mktemp("harvest-act"))


def test_harvest_workflow_opens_a_pull_request_with_the_negative_feedback_under_act(
    committed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    repo, env = committed
    log_url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    answer_with_feedback(log_url, correct=False)

    status, output = dispatch_under_act(repo, env, "harvest", log_url, "ACT_INPUTS=suite=triage")

    assert status == 0, output[-8000:]
    assert "Job failed" not in output
    assert "harvest triage: 1 candidate(s) from 1 inference(s)" in output
    assert re.search(r"\[act\] would push branch 'harvest/\d{4}-\d{2}-\d{2}'", output), output
    # The candidates file is ignored by git: the PR step adds it anyway, and only it.
    assert re.search(r"\| A  evals/review/triage\.jsonl$", output, re.M), output[-8000:]
    assert "| `triage` | 1 | negative_feedback 1 |" in output
    assert "uv run squad review triage" in output


def test_harvest_workflow_opens_nothing_when_no_answer_needs_review_under_act(
    committed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    repo, env = committed
    log_url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    answer_with_feedback(log_url, correct=True)

    status, output = dispatch_under_act(repo, env, "harvest", log_url, "ACT_INPUTS=suite=triage")

    assert status == 0, output[-8000:]
    assert "Job failed" not in output
    assert "harvest triage: 0 candidate(s) from 1 inference(s)" in output
    assert "harvest: no candidate in triage: no pull request to open" in output
    assert "would push branch" not in output
    assert "open the harvest PR" not in output


def test_harvest_workflow_without_the_log_secret_says_so_and_opens_nothing_under_act(
    committed: tuple[Path, dict[str, str]],
) -> None:
    """A repo that has not set up the `harvest` environment gets a notice each week, not a
    failed run, and no pull request."""
    repo, env = committed
    environment = {key: value for key, value in env.items() if key != "SQUAD_INFERENCE_LOG_URL"}
    result = run(
        ["make", "act", "ACT_WORKFLOWS=harvest", "ACT_EVENT=workflow_dispatch"],
        cwd=repo, env=environment, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr

    assert result.returncode == 0, output[-8000:]
    assert "harvest: SQUAD_INFERENCE_LOG_URL is not set" in output
    assert "would push branch" not in output


def test_harvest_refuses_a_sample_size_that_is_not_a_number(
    committed: tuple[Path, dict[str, str]],
) -> None:
    repo, env = committed
    result = run(["make", "harvest", "SUITE=triage", "SAMPLE=ten"], cwd=repo, env=env, check=False)

    assert result.returncode == 2
    assert "error: sample 'ten': give a whole number (e.g. 20)" in result.stderr
    assert "Traceback" not in result.stderr

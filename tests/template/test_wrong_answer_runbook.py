"""`docs/runbooks/wrong-answer.md`, followed in a fresh render with the service: the page's
`squad inference-log show` command, run in the repo on the id of an answer in the repo's
inference log, prints what the page says it does; its harvest and review commands put that
answer into the dataset as the page says."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from squadkit.inferences import default_sqlite_url
from tests.logkit import answer_with_feedback
from tests.template.conftest import Rendered, render, run
from tests.template.walkthrough import steps

PAGE_ID = "0192f0c4-7d3e-7a41-9c55-3f0e6a1b2c3d"
"""The example id the page's commands use."""


def _answer_in_the_log(repo: Path, *, keep_content: bool = False) -> str:
    """One triage answer in the repo's default log (as `make serve` keeps it), content kept
    only if asked, with the feedback `correct: false` on it; its inference id."""
    return answer_with_feedback(
        default_sqlite_url(repo), keep_content=keep_content, fallback_used=True
    )


@pytest.mark.slow
def test_the_runbooks_lookup_shows_the_answer_its_version_and_feedback(
    install: Callable[[Rendered], dict[str, str]], tmp_path: Path
) -> None:
    rendered = render(tmp_path / "squad")
    repo, env = rendered.path, install(rendered)
    page = (repo / "docs" / "runbooks" / "wrong-answer.md").read_text()
    [lookup] = [
        command
        for step in steps(page, rendered.package)
        for command in step.commands
        if "inference-log show" in command
    ]
    inference_id = _answer_in_the_log(repo)

    shown = run(lookup.replace(PAGE_ID, inference_id).split(), cwd=repo, env=env).stdout

    lines = shown.splitlines()
    assert f"id: {inference_id}" in lines
    assert "prompt_version: 2" in lines  # what the page says to read first
    assert "prompt_label: production" in lines
    assert "fallback_used: True" in lines
    assert any(line.startswith("inputs: not kept (sha256 ") for line in lines)
    assert any(line.startswith("feedback: correct = false by helpdesk") for line in lines)


@pytest.mark.slow
def test_the_runbooks_harvest_and_review_put_the_answer_in_the_dataset(
    install: Callable[[Rendered], dict[str, str]], tmp_path: Path
) -> None:
    rendered = render(tmp_path / "squad")
    repo, env = rendered.path, install(rendered)
    page = (repo / "docs" / "runbooks" / "wrong-answer.md").read_text()
    commands = [
        command
        for step in steps(page, rendered.package)
        for command in step.commands
        if "squad harvest" in command or "squad review" in command
    ]
    inference_id = _answer_in_the_log(repo, keep_content=True)

    for command in commands:
        filled = command.replace("<inference id>", inference_id).replace("<your name>", "ana")
        run(shlex.split(filled), cwd=repo, env=env)

    dataset = (repo / "evals" / "datasets" / "triage.jsonl").read_text().splitlines()
    case = json.loads(dataset[-1])
    assert case["provenance"]["inference_id"] == inference_id
    assert case["expected"] == {"queue": "bugs", "priority": "high"}  # the page's edit
    assert case["human"] == {"judge": False}

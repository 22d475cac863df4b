"""`docs/adding-a-feature.md`, then `docs/adding-a-route.md` (a render with the service),
followed step by step in a fresh render, end green.

The test applies every block the page shows in order (`walkthrough.py`: a titled block is a
file, a bash block its commands), and checks that the new feature works end to end
(its eval gate writes evidence, its route is in the contract) while no template-owned file
was edited. So the page cannot drift from what the library accepts.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from tests.template.conftest import Rendered, commit_all
from tests.template.walkthrough import Step, apply_file_step, run_commands, steps

MAX_HAND_WRITTEN_LINES = 120
# What following the page may change besides the files it adds: the team's own settings,
# prompt lock and labels, and its seeded contract. Anything else would be an edit of a
# template-owned file.
TEAM_FILES_THE_PAGE_EDITS = {
    "config/models.yaml",
    "prompts/prompts.lock",
    "prompts/labels.yaml",
    "contracts/openapi.json",
}


def hand_written_lines(page_steps: list[Step]) -> int:
    """Non-blank lines of every file the page has a team write (commands not counted)."""
    return sum(
        1 for step in page_steps if step.path for line in step.body.splitlines() if line.strip()
    )


def add_summarise_by_the_docs(repo: Path, package: str, env: Mapping[str, str]) -> list[Step]:
    """Follow `docs/adding-a-feature.md` (then its route page) in `repo`; check the summariser
    works end to end (its skeleton, its evidence, its route in the contract). Returns the
    pages' steps."""
    docs = repo / "docs"
    page_steps = steps((docs / "adding-a-feature.md").read_text(), package)
    route_page = docs / "adding-a-route.md"  # with the service: the feature's route, next
    if route_page.is_file():
        page_steps += steps(route_page.read_text(), package)
    skeleton = repo / "prompts" / "summarise" / "v1.yaml"
    for step in page_steps:
        if step.path is not None:
            if step.path == "prompts/summarise/v1.yaml":
                # `squad prompts new summarise --model summarise`, run just before, wrote
                # the skeleton the page then fills in: a new prompt starts from the command.
                assert "model: summarise" in skeleton.read_text()
            apply_file_step(repo, step)
        else:
            run_commands(step, repo, env)
    evidence = json.loads((repo / "evals" / "evidence" / "summarise" / "v1.json").read_text())
    assert evidence["verdict"] == "pass"
    contract = json.loads((repo / "contracts" / "openapi.json").read_text())
    assert "/v1/summarise" in contract["paths"]
    return page_steps


@pytest.mark.slow
def test_second_feature_by_the_docs_passes_make_check(
    render_once: Callable[..., Rendered],
    install: Callable[[Rendered], dict[str, str]],
) -> None:
    rendered = render_once(project_name="Docs Walk", package_name="docs_walk")
    repo, env = rendered.path, install(rendered)
    commit_all(repo, "fresh render")

    page_steps = add_summarise_by_the_docs(repo, rendered.package, env)

    assert hand_written_lines(page_steps) <= MAX_HAND_WRITTEN_LINES
    changed = subprocess.run(
        ["git", "diff", "--name-only", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.split()
    assert set(changed) <= TEAM_FILES_THE_PAGE_EDITS

"""`docs/adding-a-feature.md`, followed step by step in a fresh render, ends green.

The test writes every file block the page shows (its `title` is the path; `mode="append"`
appends), runs its commands in order, and checks that the new feature works end to end
(its eval gate writes evidence, its route is in the contract) while no template-owned file
was edited. So the page cannot drift from what the library accepts.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.template.conftest import Rendered, commit_all, run

BLOCK = re.compile(
    r'^```(?P<lang>\w+)(?: title="(?P<title>[^"]+)")?(?: mode="(?P<mode>\w+)")?\n'
    r"(?P<body>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)
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


@dataclass(frozen=True)
class Step:
    language: str
    body: str
    path: str | None = None
    append: bool = False


def steps(page: str, package: str) -> list[Step]:
    """Every fenced block of the page, `<package>` replaced by the repo's package name."""
    found = []
    for match in BLOCK.finditer(page):
        body = match["body"].replace("<package>", package)
        title = match["title"].replace("<package>", package) if match["title"] else None
        found.append(Step(match["lang"], body, title, match["mode"] == "append"))
    return found


def hand_written_lines(page_steps: list[Step]) -> int:
    """Non-blank lines of every file the page has a team write (commands not counted)."""
    return sum(
        1 for step in page_steps if step.path for line in step.body.splitlines() if line.strip()
    )


@pytest.mark.slow
def test_second_feature_by_the_docs_passes_make_check(
    render_once: Callable[..., Rendered],
    install: Callable[[Rendered], dict[str, str]],
    tmp_path: Path,
) -> None:
    rendered = render_once(project_name="Docs Walk", package_name="docs_walk")
    repo, env = rendered.path, install(rendered)
    page_steps = steps((repo / "docs" / "adding-a-feature.md").read_text(), rendered.package)
    commit_all(repo, "fresh render")

    assert hand_written_lines(page_steps) <= MAX_HAND_WRITTEN_LINES
    for step in page_steps:
        if step.path is not None:
            target = repo / step.path
            target.parent.mkdir(parents=True, exist_ok=True)
            before = target.read_text() if step.append and target.exists() else ""
            target.write_text(before + step.body)
        elif step.language == "bash":
            for command in filter(
                None, (line.split("#")[0].strip() for line in step.body.splitlines())
            ):
                run(shlex.split(command), cwd=repo, env=env)

    evidence = json.loads((repo / "evals" / "evidence" / "summarise" / "v1.json").read_text())
    assert evidence["verdict"] == "pass"
    contract = json.loads((repo / "contracts" / "openapi.json").read_text())
    assert "/v1/summarise" in contract["paths"]
    changed = subprocess.run(
        ["git", "diff", "--name-only", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.split()
    assert set(changed) <= TEAM_FILES_THE_PAGE_EDITS

"""`docs/runbooks/ab-test.md`, followed step by step in a fresh render with the service.

The new version comes from `docs/runbooks/prompt-change.md` steps 1-4, as the page says
(its blocks and checks reused: v3 locked, recorded, with passing evidence). Then the page's
own blocks in order: the experiment declared (its YAML block in place of the shipped
`experiments: {}`), checked, its weights raised (the diff block); the service serves it on
the offline chain under the real uvicorn, callers send feedback through POST
/v1/feedback (v3's answers all correct, v1's half); the report's commands name v3 the
winner; the stop command ends the experiment and promotes v3. Each command of the page
must have a check here, so a step added to the page without one fails.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
import yaml

from tests.template.conftest import Rendered, commit_all, render, run
from tests.template.feedback_walk import serve_with_feedback
from tests.template.test_prompt_change_runbook import CHECKS as PROMPT_CHANGE_CHECKS
from tests.template.walkthrough import Step, apply_file_step, steps

Check = Callable[[Path, str], None]


def _experiment(repo: Path) -> dict[str, object]:
    text = (repo / "config" / "experiments.yaml").read_text(encoding="utf-8")
    experiment: dict[str, object] = yaml.safe_load(text)["experiments"]["triage-v3"]
    return experiment


def _checked(_repo: Path, _output: str) -> None:
    """`make prompts-check` exited 0 (the walk fails on any non-zero exit): every arm holds
    verified evidence."""


def _report_markdown(_repo: Path, output: str) -> None:
    assert "**WINNER: v3**" in output


def _report_json(_repo: Path, output: str) -> None:
    found = json.loads(output)
    assert (found["verdict"], found["verdict_arm"]) == ("winner", "v3"), found["decision"]


def _stopped_and_promoted(repo: Path, output: str) -> None:
    assert "experiment 'triage-v3': stopped (triage:production)" in output
    assert "triage:production -> v3 (was v1)" in output
    assert _experiment(repo)["status"] == "stopped"
    labels = yaml.safe_load((repo / "prompts" / "labels.yaml").read_text(encoding="utf-8"))
    assert labels["labels"]["triage"]["production"] == 3


CHECKS: dict[str, Check] = {
    "make prompts-check": _checked,
    "uv run squad experiments report triage-v3": _report_markdown,
    "uv run squad experiments report triage-v3 --format json": _report_json,
    'uv run squad experiments stop triage-v3 --reason "v3 wins on correct" --winner v3 '
    "--promote": _stopped_and_promoted,
}


def _new_version_by_the_prompt_change_runbook(
    repo: Path, package: str, env: Mapping[str, str]
) -> None:
    """Step 1 of the page: `prompt-change.md` steps 1-4 (up to its step 5), checked."""
    page = (repo / "docs" / "runbooks" / "prompt-change.md").read_text(encoding="utf-8")
    for step in steps(page[: page.index("## 5.")], package):
        if step.path is not None:
            apply_file_step(repo, step)
        for command in step.commands:
            PROMPT_CHANGE_CHECKS[command](repo, run(command.split(), cwd=repo, env=env).stdout)


def _declare(repo: Path, step: Step) -> None:
    """The page's experiment YAML block, in place of the shipped file's last line."""
    path = repo / "config" / "experiments.yaml"
    shipped = path.read_text(encoding="utf-8")
    assert shipped.endswith("experiments: {}\n")
    path.write_text(shipped.removesuffix("experiments: {}\n") + step.body, encoding="utf-8")


@pytest.mark.slow
def test_an_ab_test_by_the_runbook_ends_with_the_winner_promoted(
    install: Callable[[Rendered], dict[str, str]], tmp_path: Path
) -> None:
    rendered = render(tmp_path / "squad")
    repo, package = rendered.path, rendered.package
    log_url = f"sqlite:///{tmp_path / 'inferences.sqlite3'}"
    env = {
        **install(rendered),
        "SQUAD_INFERENCE_LOG_URL": log_url,
        "WALK_INFERENCE_LOG_URL": log_url,
    }
    commit_all(repo, "fresh render")
    _new_version_by_the_prompt_change_runbook(repo, package, env)

    page = (repo / "docs" / "runbooks" / "ab-test.md").read_text(encoding="utf-8")
    seen = []
    for step in steps(page, package):
        if step.language == "yaml" and step.path is None:
            _declare(repo, step)
            assert _experiment(repo)["status"] == "running"
        elif step.path is not None:
            apply_file_step(repo, step)
        for command in step.commands:
            assert command in CHECKS, f"the runbook runs `{command}`: add its check here"
            if command.startswith("uv run squad experiments report") and "served" not in seen:
                # The deploy of step 3, then callers: 300 episodes, feedback on every answer.
                serve_with_feedback(repo, env, walk=Path(__file__).name, winner="v3")
                seen.append("served")
            CHECKS[command](repo, run(shlex.split(command), cwd=repo, env=env).stdout)
            seen.append(command)
    assert set(seen) == {*CHECKS, "served"}
    stopped = (repo / "config" / "experiments.yaml").read_text(encoding="utf-8")
    assert re.search(r"# stopped \d{4}-\d{2}-\d{2} \(winner: v3\): v3 wins on correct", stopped)

"""A fresh render with the service runs an online experiment end to end (issue 26): the
experiment declared in its config/experiments.yaml passes its `squad prompts check`, its
own service (offline chain, real uvicorn) splits episodes between v1 and v2, feedback goes
through POST /v1/feedback, and `squad experiments report` names the better arm."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.template.conftest import Rendered, run
from tests.template.feedback_walk import serve_with_feedback

EXPERIMENTS = """\
experiments:
  triage-v2:
    prompt: triage
    label: production
    status: running
    arms:
      v1: {version: 1, weight: 50}
      v2: {version: 2, weight: 50}
    primary: {feedback: correct}
    guardrails:
      error_rate: {at_most: 0.05}
    stop: {max_n: 2000, alpha: 0.05}
"""

REPORT = """\
    report = subprocess.run(["squad", "experiments", "report", "triage-v2", "--format", "json"],
                            cwd=REPO, capture_output=True, text=True, check=False)
    assert report.returncode == 0, report.stderr
    found = json.loads(report.stdout)
    assert (found["verdict"], found["verdict_arm"]) == ("winner", "v2"), found["decision"]
"""
"""What the scratch test runs after the feedback: the report names v2 the winner."""


@pytest.mark.slow
def test_a_fresh_render_runs_an_experiment_end_to_end(
    render_once: Callable[..., Rendered],
    install: Callable[[Rendered], dict[str, str]],
) -> None:
    rendered = render_once()
    env = install(rendered)
    experiments = rendered.path / "config" / "experiments.yaml"
    shipped = experiments.read_text(encoding="utf-8")
    try:
        experiments.write_text(EXPERIMENTS, encoding="utf-8")
        run(["uv", "run", "squad", "prompts", "check"], cwd=rendered.path, env=env)
        serve_with_feedback(rendered.path, env, walk=Path(__file__).name, winner="v2", then=REPORT)
    finally:
        experiments.write_text(shipped, encoding="utf-8")


def test_the_shipped_experiments_file_runs_none(render_once: Callable[..., Rendered]) -> None:
    rendered = render_once()
    shipped = yaml.safe_load((rendered.path / "config" / "experiments.yaml").read_text())
    assert shipped == {"experiments": {}}


def test_no_experiments_file_without_the_service(render_once: Callable[..., Rendered]) -> None:
    rendered = render_once(include_service=False)
    assert not Path(rendered.path / "config" / "experiments.yaml").exists()

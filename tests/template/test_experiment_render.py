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

# Run inside the render, with its own squadkit and offline models (its tests' conftest).
WALK = '''\
"""Scratch test of tests/template/test_experiment_render.py (removed after the run)."""

import json
import os
import subprocess
import time
from pathlib import Path

import httpx
from squadkit.inferences import InferenceStore
from squadkit.service.callers import add_caller
from squadkit.settings import Settings
from squadkit.testing.service import running

REPO = Path(__file__).resolve().parents[1]
TICKET = {"subject": "Charged twice", "body": "Two charges on my invoice.",
          "customer_tier": "pro", "channel": "email"}


def test_experiment_end_to_end(tmp_path, monkeypatch):
    callers = tmp_path / "callers.yaml"
    token = add_caller(callers, "platform", ["triage", "feedback"], ["triage", "feedback"])
    monkeypatch.setenv("SQUAD_CALLERS_FILE", str(callers))
    auth = {"Authorization": f"Bearer {token}"}
    url = os.environ["SQUAD_INFERENCE_LOG_URL"]
    answers = []
    with running(Settings(root=REPO, environment="test")) as service, httpx.Client(
        base_url=service.base_url, timeout=30
    ) as http:
        for i in range(300):
            headers = {**auth, "X-Episode-Id": f"e{i}"}
            response = http.post("/v1/triage", json=TICKET, headers=headers)
            assert response.status_code == 200, response.text
            ids = response.headers
            answers.append((ids["X-Inference-Id"], ids["X-Prompt-Version"]))
        store = InferenceStore(url)
        deadline = time.monotonic() + 300  # a cap, not a measure
        while store.count() < len(answers):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        for index, (inference_id, version) in enumerate(answers):
            value = version.endswith("@v2") or index % 2 == 0
            sent = http.post("/v1/feedback", headers=auth, json={
                "inference_id": inference_id, "metric": "correct", "value": value})
            assert sent.status_code == 201, sent.text
    assert {version for _, version in answers} == {"triage@v1", "triage@v2"}
    report = subprocess.run(["squad", "experiments", "report", "triage-v2", "--format", "json"],
                            cwd=REPO, capture_output=True, text=True, check=False)
    assert report.returncode == 0, report.stderr
    found = json.loads(report.stdout)
    assert (found["verdict"], found["verdict_arm"]) == ("winner", "v2"), found["decision"]
'''


@pytest.mark.slow
def test_a_fresh_render_runs_an_experiment_end_to_end(
    render_once: Callable[..., Rendered],
    install: Callable[[Rendered], dict[str, str]],
) -> None:
    rendered = render_once()
    env = install(rendered)
    experiments = rendered.path / "config" / "experiments.yaml"
    shipped = experiments.read_text(encoding="utf-8")
    walk = rendered.path / "tests" / "test_experiment_walk.py"
    try:
        experiments.write_text(EXPERIMENTS, encoding="utf-8")
        run(["uv", "run", "squad", "prompts", "check"], cwd=rendered.path, env=env)
        walk.write_text(WALK, encoding="utf-8")
        result = run(
            ["uv", "run", "pytest", "-q", "-p", "no:randomly", "--no-cov", str(walk)],
            cwd=rendered.path,
            env=env,
        )
    finally:
        experiments.write_text(shipped, encoding="utf-8")
        walk.unlink(missing_ok=True)
    assert "1 passed" in result.stdout


def test_the_shipped_experiments_file_runs_none(render_once: Callable[..., Rendered]) -> None:
    rendered = render_once()
    shipped = yaml.safe_load((rendered.path / "config" / "experiments.yaml").read_text())
    assert shipped == {"experiments": {}}


def test_no_experiments_file_without_the_service(render_once: Callable[..., Rendered]) -> None:
    rendered = render_once(include_service=False)
    assert not Path(rendered.path / "config" / "experiments.yaml").exists()

"""A scratch test that serves a render's experiment to callers who send feedback: shared
by the experiment walks (test_ab_test_runbook, test_experiment_render).

Run inside the render, with its own squadkit and offline models (its tests' conftest): the
render's service under the real uvicorn, 300 episodes to its triage route, then `correct`
feedback through POST /v1/feedback on every answer (the winner's all correct, v1's half).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tests.template.conftest import run

_SCRIPT = '''\
"""Scratch test of tests/template/__WALK__ (removed after the run)."""

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
WINNER = "__WINNER__"


def test_serve_the_experiment_with_feedback(tmp_path, monkeypatch):
    # The walk's log when it names one (it outlives this test), else the conftest's.
    url = os.environ.get("WALK_INFERENCE_LOG_URL") or os.environ["SQUAD_INFERENCE_LOG_URL"]
    monkeypatch.setenv("SQUAD_INFERENCE_LOG_URL", url)
    callers = tmp_path / "callers.yaml"
    token = add_caller(callers, "platform", ["triage", "feedback"], ["triage", "feedback"])
    monkeypatch.setenv("SQUAD_CALLERS_FILE", str(callers))
    auth = {"Authorization": f"Bearer {token}"}
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
        store.dispose()
        for index, (inference_id, version) in enumerate(answers):
            value = version.endswith(f"@{WINNER}") or index % 2 == 0
            sent = http.post("/v1/feedback", headers=auth, json={
                "inference_id": inference_id, "metric": "correct", "value": value})
            assert sent.status_code == 201, sent.text
    assert {version for _, version in answers} == {"triage@v1", f"triage@{WINNER}"}
'''


def serve_with_feedback(
    repo: Path, env: Mapping[str, str], *, walk: str, winner: str, then: str = ""
) -> None:
    """Run the scratch test for `walk` (a file name of tests/template/) in `repo`, the arm
    `winner` doing better than v1; it must pass. `then`: lines the scratch test runs after
    the feedback (indented four spaces, as its body is)."""
    script = _SCRIPT.replace("__WALK__", walk).replace("__WINNER__", winner)
    scratch = repo / "tests" / "test_feedback_walk.py"
    scratch.write_text(script + then, encoding="utf-8")
    try:
        result = run(
            ["uv", "run", "pytest", "-q", "-p", "no:randomly", "--no-cov", str(scratch)],
            cwd=repo,
            env=env,
        )
    finally:
        scratch.unlink()
    assert "1 passed" in result.stdout

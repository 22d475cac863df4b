"""`experiments.yml`, the daily experiment decision, run on demand under real act (host
mode, offline).

A fresh render with the service, an experiment of triage v1 against v2 declared and
committed; its inference log a real SQLite file outside the repo, named by
`SQUAD_INFERENCE_LOG_URL` and handed to act as the `experiments` environment's secret
(`make act ACT_SECRETS=...`). A breached guardrail: the pull request step (dry-run under
act) would change config/experiments.yaml to stop the experiment, the label untouched,
with the report as its text. A winner: stopped and promoted (the label file changes too).
No decision yet, or no secret: no pull request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from squadkit.inferences import InferenceRecord, InferenceStore, store_feedback, uuid7
from tests.template.conftest import Rendered, committed_copy, dispatch_under_act, run

pytestmark = [pytest.mark.slow, pytest.mark.act]

EXPERIMENTS = """\
experiments:
  triage-v2:
    prompt: triage
    label: production
    status: running   # our comment stays
    arms:
      v1: {version: 1, weight: 50}
      v2: {version: 2, weight: 50}
    primary: {feedback: correct}
    guardrails:
      latency_p95_ms: {at_most: 1000}
    stop: {max_n: 20000, alpha: 0.05}
"""


@pytest.fixture(scope="module")
def committed(
    render_once: Callable[..., Rendered],
    install: Callable[[Rendered], dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, str]]:
    """A committed copy of the default render running the experiment, and its tools' env."""
    rendered = render_once()
    return committed_copy(
        rendered,
        install(rendered),
        tmp_path_factory.mktemp("experiments-act"),
        files={"config/experiments.yaml": EXPERIMENTS},
        message="fresh render, experiment triage-v2 running",
    )


def _log(path: Path, *, slow_v2: bool = False, feedback: bool = False) -> str:
    """A SQLite inference log with 150 answers per arm (v2's taking 4 s when `slow_v2`,
    beyond the latency guardrail; with `feedback`, v2's all correct and half of v1's);
    its URL."""
    url = f"sqlite:///{path}"
    store = InferenceStore(url)
    store.migrate()
    rows = [
        InferenceRecord(
            uuid7(),
            datetime.now(UTC),
            f"req-{arm}-{index}",
            "triage",
            caller="helpdesk",
            episode_id=f"{arm}-{index}",
            prompt="triage",
            prompt_version=int(arm[1:]),
            prompt_label="production",
            latency_ms=4000.0 if slow_v2 and arm == "v2" else 20.0,
            experiment="triage-v2",
            arm=arm,
        ).row()
        for arm in ("v1", "v2")
        for index in range(150)
    ]
    store.insert(rows)
    for index, row in enumerate(rows if feedback else []):
        store_feedback(
            store,
            caller="helpdesk",
            metric="correct",
            kind="boolean",
            value=row["arm"] == "v2" or index % 2 == 0,
            inference_id=row["id"],
            episode_id=None,
            prompt="triage",
            prompt_version=row["prompt_version"],
            idempotency_key=None,
        )
    store.dispose()
    return url


def test_a_breached_guardrail_opens_a_pull_request_that_stops_the_experiment_under_act(
    committed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    repo, env = committed

    status, output = dispatch_under_act(
        repo, env, "experiments", _log(tmp_path / "log.sqlite3", slow_v2=True)
    )

    assert status == 0, output[-8000:]
    assert "Job failed" not in output
    assert re.search(r"\[act\] would push branch 'experiments/\d{4}-\d{2}-\d{2}'", output)
    assert "End experiment(s) triage-v2 (stopped: guardrail breached)" in output
    # Only the experiment stops; the label stays where it was (the rollback).
    assert re.search(r"\|\s+M config/experiments\.yaml$", output, re.M), output[-8000:]
    assert not re.search(r"prompts/labels\.yaml$", output, re.M), output[-8000:]
    assert "**GUARDRAIL BREACHED: v2**" in output
    assert "experiment 'triage-v2': stopped (triage:production)" in output


def test_no_decision_opens_no_pull_request_under_act(
    committed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    repo, env = committed

    status, output = dispatch_under_act(
        repo, env, "experiments", _log(tmp_path / "log.sqlite3", slow_v2=False)
    )

    assert status == 0, output[-8000:]
    assert "Job failed" not in output
    assert "experiment triage-v2: no-difference-yet" in output
    assert "experiments: none decided (1 running): no pull request to open" in output
    assert "would push branch" not in output
    assert "open the experiments PR" not in output


def test_a_winner_opens_a_pull_request_that_stops_the_experiment_and_promotes_it_under_act(
    committed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    repo, env = committed

    status, output = dispatch_under_act(
        repo, env, "experiments", _log(tmp_path / "log.sqlite3", feedback=True)
    )

    assert status == 0, output[-8000:]
    assert "Job failed" not in output
    assert "End experiment(s) triage-v2 (stopped, winner v2 promoted)" in output
    assert "triage:production -> v2 (was v1)" in output
    assert re.search(r"\|\s+M config/experiments\.yaml$", output, re.M), output[-8000:]
    assert re.search(r"\|\s+M prompts/labels\.yaml$", output, re.M), output[-8000:]
    assert "**WINNER: v2**" in output


def test_without_the_log_secret_the_workflow_says_so_and_opens_nothing_under_act(
    committed: tuple[Path, dict[str, str]],
) -> None:
    """A repo that has not set up the `experiments` environment gets a notice each day,
    not a failed run, and no pull request."""
    repo, env = committed
    environment = {key: value for key, value in env.items() if key != "SQUAD_INFERENCE_LOG_URL"}
    result = run(
        ["make", "act", "ACT_WORKFLOWS=experiments", "ACT_EVENT=workflow_dispatch"],
        cwd=repo, env=environment, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr

    assert result.returncode == 0, output[-8000:]
    assert "experiments: SQUAD_INFERENCE_LOG_URL is not set" in output
    assert "would push branch" not in output

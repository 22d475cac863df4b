"""`squad experiments report NAME`: end to end on the fixture squad (real uvicorn, offline
chain, feedback through POST /v1/feedback) on SQLite and PostgreSQL, and the verdicts on logs
written directly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from squadkit.inferences import InferenceRecord, InferenceStore, store_feedback, uuid7
from squadkit.settings import Settings
from tests.library.experiments.experimentkit import experiment, squad, write_experiments
from tests.library.service.servicekit import AUTH, TICKET, running
from tests.library.squad import copy_data
from tests.library.waiting import eventually


@pytest.fixture(params=["sqlite", "postgresql"])
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'log.sqlite3'}"
        return
    from tests.library.postgres import postgres_schema  # noqa: PLC0415

    with postgres_schema() as url:
        yield url


def _wait_for_rows(url: str, count: int) -> None:
    store = InferenceStore(url)
    try:
        eventually(lambda: store.count() >= count, f"{count} inference rows")
    finally:
        store.dispose()


def _report(root: Path, url: str, *args: str) -> Any:
    return squad(root, "experiments", "report", *args, SQUAD_INFERENCE_LOG_URL=url)


def test_an_experiment_with_better_feedback_on_one_arm_reports_it_the_winner(
    tmp_path: Path, log_url: str
) -> None:
    root = copy_data(tmp_path / "squad")
    write_experiments(root, {"t": experiment(stop={"max_n": 1000, "alpha": 0.05})})
    settings = Settings(root=root, environment="test", inference_log_url=log_url)
    answers: list[tuple[str, str]] = []
    with running(settings) as service, httpx.Client(base_url=service.base_url, timeout=60) as http:
        for i in range(300):
            response = http.post(
                "/v1/triage", json=TICKET, headers={**AUTH, "X-Episode-Id": f"e2e-{i}"}
            )
            assert response.status_code == 200, response.text
            answers.append(
                (response.headers["X-Inference-Id"], response.headers["X-Prompt-Version"])
            )
        _wait_for_rows(log_url, len(answers))
        for index, (inference_id, version) in enumerate(answers):
            correct = version == "triage@v2" or index % 2 == 0  # v2 always right, v1 half
            sent = http.post(
                "/v1/feedback",
                json={"inference_id": inference_id, "metric": "correct", "value": correct},
                headers=AUTH,
            )
            assert sent.status_code == 201, sent.text

    result = _report(root, log_url, "t", "--format", "json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["verdict"], report["verdict_arm"]) == ("winner", "v2")
    assert "v2 wins on feedback:correct" in report["decision"]
    assert "squad prompts promote triage 2 --label production" in report["decision"]
    arms = {arm["arm"]: arm for arm in report["arms"]}
    assert arms["v1"]["answers"] + arms["v2"]["answers"] == 300
    assert arms["v2"]["primary"]["mean"] == 1.0
    assert arms["v2"]["change"]["interval"][0] > 0
    markdown = _report(root, log_url, "t")
    assert "**WINNER: v2**" in markdown.stdout


def _log(url: str, rows: list[dict[str, Any]], correct: dict[str, bool] | None = None) -> None:
    """Write inferences (and feedback `correct` per arm) straight into the log at `url`."""
    store = InferenceStore(url)
    store.migrate()
    records = [
        InferenceRecord(
            uuid7(), datetime.now(UTC), "r", "triage", prompt="triage", prompt_version=1, **row
        )
        for row in rows
    ]
    store.insert([record.row() for record in records])
    for record in records:
        if correct is not None and record.arm in correct and not record.forced:
            store_feedback(
                store,
                caller="platform",
                metric="correct",
                kind="boolean",
                value=correct[record.arm],
                inference_id=record.id,
                episode_id=None,
                prompt="triage",
                prompt_version=1,
                idempotency_key=None,
            )
    store.dispose()


def _arms(n: int, **row: Any) -> list[dict[str, Any]]:
    base = {"experiment": "t", "latency_ms": 20.0}
    return [{**base, "arm": arm, **row} for arm in ("v1", "v2") for _ in range(n)]


def test_a_guardrail_shown_beyond_its_bound_is_a_breach_and_exit_1(tmp_path: Path) -> None:
    root = copy_data(tmp_path / "squad")
    guardrails = {"latency_p95_ms": {"at_most": 1000}}
    write_experiments(root, {"t": experiment(guardrails=guardrails)})
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    _log(url, _arms(150, latency_ms=20.0)[:150] + _arms(150, latency_ms=4000.0)[150:])

    result = _report(root, url, "t")

    assert result.returncode == 1
    assert "**GUARDRAIL BREACHED: v2**" in result.stdout
    assert "v2 breaches latency_p95_ms" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_few_observations_show_no_difference_yet(tmp_path: Path) -> None:
    root = copy_data(tmp_path / "squad")
    write_experiments(root, {"t": experiment()})
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    _log(url, _arms(20), correct={"v1": False, "v2": True})

    result = _report(root, url, "t", "--format", "json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "no-difference-yet"
    assert "no verdict before 100 observations in every arm" in report["decision"]


def test_forced_answers_and_answers_without_a_subject_are_not_analysed(tmp_path: Path) -> None:
    root = copy_data(tmp_path / "squad")
    write_experiments(root, {"t": experiment()})
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    rows = [*_arms(5), *_arms(3, forced=True), {"experiment": "t", "arm": None}]
    _log(url, rows, correct={"v1": True, "v2": True})

    report = json.loads(_report(root, url, "t", "--format", "json").stdout)

    assert report["not_analysed"] == {"forced": 6, "without_subject": 1}
    assert [arm["answers"] for arm in report["arms"]] == [5, 5]
    assert [arm["primary"]["n"] for arm in report["arms"]] == [5, 5]


def test_an_unknown_experiment_is_one_line_and_exit_2(tmp_path: Path) -> None:
    root = copy_data(tmp_path / "squad")
    write_experiments(root, {"t": experiment()})

    result = _report(root, f"sqlite:///{tmp_path / 'log.sqlite3'}", "nope")

    assert result.returncode == 2
    assert result.stderr.strip().endswith("no experiment 'nope' (experiments: t)")
    assert "Traceback" not in result.stderr


def test_feedback_on_an_episode_counts_for_the_arm_that_served_it(tmp_path: Path) -> None:
    root = copy_data(tmp_path / "squad")
    write_experiments(root, {"t": experiment()})
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    _log(url, [{"experiment": "t", "arm": "v2", "episode_id": "case-7"}] * 2)
    store = InferenceStore(url)
    for value in (False, True):  # the latest feedback on the episode counts, once
        store_feedback(
            store,
            caller="platform",
            metric="correct",
            kind="boolean",
            value=value,
            inference_id=None,
            episode_id="case-7",
            prompt=None,
            prompt_version=None,
            idempotency_key=None,
        )
    store.dispose()

    report = json.loads(_report(root, url, "t", "--format", "json").stdout)

    v2 = next(arm for arm in report["arms"] if arm["arm"] == "v2")
    assert (v2["answers"], v2["primary"]["n"], v2["primary"]["mean"]) == (2, 1, 1.0)


def test_an_online_score_can_be_the_primary_metric(tmp_path: Path) -> None:
    root = copy_data(tmp_path / "squad")
    write_experiments(root, {"t": experiment(primary={"score": "grounding"})})
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    _log(url, [*_arms(3, scores={"grounding": 0.5}), {"experiment": "t", "arm": "v1"}])

    report = json.loads(_report(root, url, "t", "--format", "json").stdout)

    assert [arm["primary"]["n"] for arm in report["arms"]] == [3, 3]
    assert report["primary"] == "score:grounding"


def test_reaching_the_stop_rule_without_a_difference_says_so(tmp_path: Path) -> None:
    root = copy_data(tmp_path / "squad")
    write_experiments(root, {"t": experiment(stop={"max_n": 200, "alpha": 0.05})})
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    _log(url, _arms(110), correct={"v1": True, "v2": True})

    report = json.loads(_report(root, url, "t", "--format", "json").stdout)

    assert report["verdict"] == "no-difference"
    assert report["stop_reached"] == "max_n"
    assert "keep triage:production on v1" in report["decision"]


def test_a_log_without_the_experiment_columns_is_one_line_and_exit_2(tmp_path: Path) -> None:
    root = copy_data(tmp_path / "squad")
    write_experiments(root, {"t": experiment()})

    result = _report(root, f"sqlite:///{tmp_path / 'empty.sqlite3'}", "t")

    assert result.returncode == 2
    assert "cannot read the experiment's inferences" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

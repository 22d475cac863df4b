"""`POST /v1/feedback` through a real uvicorn: declared metrics only, values checked,
idempotent per caller key, stored beside the inference it judges (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from squadkit.inferences import FEEDBACK, InferenceStore, find_inference
from tests.library.service.servicekit import (
    AUTH,
    TICKET,
    TRIAGE_ONLY_TOKEN,
    RunningService,
    running,
    settings_with,
)
from tests.library.waiting import eventually

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def log_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('feedback') / 'log.sqlite3'}"


@pytest.fixture(scope="module")
def service(log_url: str) -> Iterator[RunningService]:
    with running(settings_with(inference_log_url=log_url)) as started:
        yield started


@pytest.fixture(scope="module")
def http(service: RunningService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.base_url, timeout=30) as client:
        yield client


def _answer(http: httpx.Client, url: str, episode: str | None = None) -> str:
    """Triage a ticket; the answer's inference id once its row is written."""
    headers = {**AUTH, **({"X-Episode-Id": episode} if episode else {})}
    inference_id = http.post("/v1/triage", json=TICKET, headers=headers).headers["X-Inference-Id"]
    store = InferenceStore(url)
    eventually(lambda: find_inference(store, inference_id) is not None, "the inference row")
    store.dispose()
    return inference_id


def _feedback_rows(url: str) -> list[Any]:
    store = InferenceStore(url)
    with store.engine.connect() as connection:
        rows = list(connection.execute(select(FEEDBACK)).all())
    store.dispose()
    return rows


def _problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    assert problem["type"] == f"urn:problem-type:squad:{slug}"
    return problem


def test_feedback_on_an_answer_is_stored_with_its_prompt_version(
    http: httpx.Client, log_url: str
) -> None:
    inference_id = _answer(http, log_url)

    response = http.post(
        "/v1/feedback",
        json={"inference_id": inference_id, "metric": "correct", "value": False},
        headers=AUTH,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["inference_id"] == inference_id
    assert body["value"] is False
    [row] = [r for r in _feedback_rows(log_url) if r.id == body["feedback_id"]]
    assert (row.metric, row.kind, row.value, row.caller) == (
        "correct",
        "boolean",
        False,
        "test-platform",
    )
    assert row.prompt == "triage"
    assert row.prompt_version == body["prompt_version"] is not None
    metrics = http.get("/metrics", headers=AUTH).text
    assert 'squad_feedback_total{metric="correct",prompt="triage"' in metrics


def _sample(http: httpx.Client, name: str, **labels: str) -> float:
    """The value of the /metrics sample `name` whose labels include `labels` (0 if none)."""
    text = http.get("/metrics", headers=AUTH).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def test_feedback_moves_the_per_version_feedback_metrics(http: httpx.Client, log_url: str) -> None:
    """What the dashboard's feedback rate and mean score per version read."""
    answers = _sample(http, "squad_inferences_total", feature="triage", prompt="triage")
    inference_id = _answer(http, log_url)
    store = InferenceStore(log_url)
    found = find_inference(store, inference_id)
    store.dispose()
    assert found is not None
    per_version = {"prompt": "triage", "prompt_version": str(found["prompt_version"])}
    wrong = _sample(http, "squad_feedback_total", metric="correct", value="false", **per_version)
    scored = _sample(http, "squad_feedback_score_count", metric="helpfulness", **per_version)
    score_sum = _sample(http, "squad_feedback_score_sum", metric="helpfulness", **per_version)

    for metric, value in (("correct", False), ("helpfulness", 4)):
        sent = {"inference_id": inference_id, "metric": metric, "value": value}
        assert http.post("/v1/feedback", json=sent, headers=AUTH).status_code == 201

    assert _sample(http, "squad_inferences_total", feature="triage", prompt="triage") == (
        answers + 1
    )
    assert _sample(
        http, "squad_feedback_total", metric="correct", value="false", **per_version
    ) == (wrong + 1)
    assert _sample(http, "squad_feedback_score_count", metric="helpfulness", **per_version) == (
        scored + 1
    )
    # 4 on a 1..5 scale is three quarters of the way up.
    assert _sample(
        http, "squad_feedback_score_sum", metric="helpfulness", **per_version
    ) == pytest.approx(score_sum + 0.75)


def test_the_same_idempotency_key_stores_the_feedback_once(
    http: httpx.Client, log_url: str
) -> None:
    inference_id = _answer(http, log_url)
    body = {"inference_id": inference_id, "metric": "helpfulness", "value": 4}
    headers = {**AUTH, "Idempotency-Key": f"retry-{inference_id}"}

    first = http.post("/v1/feedback", json=body, headers=headers)
    again = http.post("/v1/feedback", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    stored = [r for r in _feedback_rows(log_url) if r.inference_id == inference_id]
    assert len(stored) == 1


def test_feedback_on_an_episode_needs_a_known_episode(http: httpx.Client, log_url: str) -> None:
    _answer(http, log_url, episode="conversation-7")

    known = http.post(
        "/v1/feedback",
        json={"episode_id": "conversation-7", "metric": "reason", "value": "wrong-queue"},
        headers=AUTH,
    )
    unknown = http.post(
        "/v1/feedback",
        json={"episode_id": "never-seen", "metric": "reason", "value": "wrong-queue"},
        headers=AUTH,
    )

    assert known.status_code == 201, known.text
    _problem(unknown, 404, "unknown-inference")


def test_an_unknown_inference_is_404(http: httpx.Client) -> None:
    response = http.post(
        "/v1/feedback",
        json={
            "inference_id": "01900000-0000-7000-8000-000000000000",
            "metric": "correct",
            "value": True,
        },
        headers=AUTH,
    )

    _problem(response, 404, "unknown-inference")


@pytest.mark.parametrize(
    ("metric", "value", "slug"),
    [
        ("correct", "yes", "invalid-feedback-value"),
        ("correct", 1, "invalid-feedback-value"),
        ("helpfulness", 9, "invalid-feedback-value"),
        ("helpfulness", True, "invalid-feedback-value"),
        ("reason", "bad-vibes", "invalid-feedback-value"),
        ("corrected", 3, "invalid-feedback-value"),
        ("stars", 5, "unknown-feedback-metric"),
    ],
)
def test_a_value_outside_its_metric_is_422(
    http: httpx.Client, log_url: str, metric: str, value: Any, slug: str
) -> None:
    response = http.post(
        "/v1/feedback",
        json={
            "inference_id": "01900000-0000-7000-8000-000000000000",
            "metric": metric,
            "value": value,
        },
        headers=AUTH,
    )

    problem = _problem(response, 422, slug)
    assert metric in problem["detail"]


@pytest.mark.parametrize(
    "target",
    [{}, {"inference_id": "a", "episode_id": "b"}],
)
def test_exactly_one_target_is_required(http: httpx.Client, target: dict[str, str]) -> None:
    response = http.post(
        "/v1/feedback", json={**target, "metric": "correct", "value": True}, headers=AUTH
    )

    _problem(response, 422, "invalid-request")


def test_a_caller_without_the_feedback_scope_is_403(http: httpx.Client) -> None:
    response = http.post(
        "/v1/feedback",
        json={"episode_id": "x", "metric": "correct", "value": True},
        headers={"Authorization": f"Bearer {TRIAGE_ONLY_TOKEN}"},
    )

    problem = _problem(response, 403, "forbidden")
    assert "feedback" in problem["detail"]


def test_feedback_is_stored_in_postgresql_beside_the_inference(
    postgres_url: str, tmp_path: Path
) -> None:
    with (
        running(settings_with(inference_log_url=postgres_url)) as started,
        httpx.Client(base_url=started.base_url, timeout=30) as http,
    ):
        inference_id = _answer(http, postgres_url)
        response = http.post(
            "/v1/feedback",
            json={
                "inference_id": inference_id,
                "metric": "corrected",
                "value": {"queue": "technical", "priority": "low"},
            },
            headers=AUTH,
        )

    assert response.status_code == 201, response.text
    [row] = _feedback_rows(postgres_url)
    assert row.inference_id == inference_id
    assert row.value == {"queue": "technical", "priority": "low"}


def test_one_key_sent_at_once_by_many_is_stored_once_in_postgresql(postgres_url: str) -> None:
    with (
        running(settings_with(inference_log_url=postgres_url)) as started,
        httpx.Client(base_url=started.base_url, timeout=60) as http,
    ):
        inference_id = _answer(http, postgres_url)
        body = {"inference_id": inference_id, "metric": "helpfulness", "value": 3}
        headers = {**AUTH, "Idempotency-Key": "sent-by-eight"}
        with ThreadPoolExecutor(8) as senders:
            answers = list(
                senders.map(
                    lambda _: http.post("/v1/feedback", json=body, headers=headers), range(8)
                )
            )

    assert sorted(answer.status_code for answer in answers) == [200] * 7 + [201]
    assert len({answer.json()["feedback_id"] for answer in answers}) == 1
    assert len(_feedback_rows(postgres_url)) == 1

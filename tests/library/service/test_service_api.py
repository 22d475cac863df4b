"""The fixture squad's service through a real uvicorn on 127.0.0.1, with the offline provider."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.library.service.servicekit import AUTH, TICKET, RunningService, running, settings_with

PROBLEM = "application/problem+json"


@pytest.fixture
def http(offline_service: RunningService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=offline_service.base_url, headers=AUTH, timeout=30) as client:
        yield client


def test_triage_answers_decision_with_provenance(http: httpx.Client) -> None:
    response = http.post("/v1/triage", json=TICKET)

    assert response.status_code == 200
    body = response.json()
    assert body["queue"] == "billing"
    assert body["priority"] in {"low", "normal", "high", "urgent"}
    assert body["rationale"]
    metadata = body["metadata"]
    assert metadata["prompt"] == "triage"
    assert metadata["prompt_label"] == "production"
    assert metadata["deployment"] == "local/triage-rules-v1"
    assert metadata["fallback_used"] is False
    assert metadata["request_id"] == response.headers["X-Request-ID"]


def test_prompt_label_header_serves_that_label(http: httpx.Client) -> None:
    production = http.post("/v1/triage", json=TICKET).json()["metadata"]
    staging = http.post("/v1/triage", json=TICKET, headers={"X-Prompt-Label": "staging"})

    assert staging.status_code == 200
    assert staging.json()["metadata"]["prompt_label"] == "staging"
    assert staging.json()["metadata"]["prompt_version"] != production["prompt_version"]


def test_unknown_prompt_label_is_a_422_problem(http: httpx.Client) -> None:
    response = http.post("/v1/triage", json=TICKET, headers={"X-Prompt-Label": "no-such-label"})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith(":unknown-prompt-label")


def test_invalid_ticket_is_a_422_problem_naming_fields_without_echoing_them(
    http: httpx.Client,
) -> None:
    ticket = {**TICKET, "customer_tier": "platinum-secret-tier", "subject": "x" * 301}

    response = http.post("/v1/triage", json=ticket)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422
    assert problem["request_id"] == response.headers["X-Request-ID"]
    assert {tuple(e["loc"]) for e in problem["errors"]} == {
        ("body", "customer_tier"),
        ("body", "subject"),
    }
    assert "platinum-secret-tier" not in response.text


def test_body_that_is_not_json_is_a_422_problem(http: httpx.Client) -> None:
    headers = {"content-type": "application/json"}
    response = http.post("/v1/triage", content=b"{not json", headers=headers)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["type"] == "json_invalid"


def test_given_request_id_is_propagated(http: httpx.Client) -> None:
    response = http.post("/v1/triage", json=TICKET, headers={"X-Request-ID": "platform-42"})

    assert response.headers["X-Request-ID"] == "platform-42"
    assert response.json()["metadata"]["request_id"] == "platform-42"


def test_malformed_request_id_is_replaced_by_a_generated_one(http: httpx.Client) -> None:
    response = http.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})

    assert response.headers["X-Request-ID"] != "bad id\twith spaces"
    assert len(response.headers["X-Request-ID"]) == 32


def test_body_over_the_limit_is_413_before_the_app_reads_it(http: httpx.Client) -> None:
    response = http.post("/v1/triage", json={**TICKET, "body": "x" * 300_000})

    assert response.status_code == 413
    assert response.json()["type"].endswith(":body-too-large")


def test_chunked_body_over_the_limit_is_413(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the guard has to count what arrives
        yield b'{"subject": "s", "body": "'
        for _ in range(300):
            yield b"x" * 1024
        yield b'", "customer_tier": "pro", "channel": "web"}'

    response = http.post(
        "/v1/triage", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413


def test_a_100k_deep_json_body_is_a_422_problem_and_the_server_still_serves() -> None:
    depth = 100_000  # 200 kB: Python's JSON parser would recurse once per level
    body = b"[" * depth + b"]" * depth
    with running(settings_with(service_max_body_bytes=1_000_000)) as service:
        url = f"{service.base_url}/v1/triage"
        response = httpx.post(
            url, content=body, headers={**AUTH, "content-type": "application/json"}, timeout=30
        )
        after = httpx.post(url, json=TICKET, headers=AUTH, timeout=30)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:problem-type:squad:body-too-deeply-nested"
    assert "more than 32 levels deep" in problem["detail"]
    assert after.status_code == 200


def test_brackets_inside_strings_do_not_count_as_nesting(http: httpx.Client) -> None:
    ticket = {**TICKET, "body": 'Error "[[[[{{{{" ' * 20 + 'and a quote \\" [[[[ in logs'}
    response = http.post("/v1/triage", json=ticket)

    assert response.status_code == 200, response.text


def test_health_and_readiness_pass_with_the_offline_models(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["alias:triage"] == "ok"


def test_metrics_are_prometheus_text(http: httpx.Client) -> None:
    response = http.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE" in response.text


def test_unknown_path_is_a_404_problem(http: httpx.Client) -> None:
    response = http.get("/v1/nope")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM

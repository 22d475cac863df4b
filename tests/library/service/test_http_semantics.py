"""HTTP details the contract promises, through a real uvicorn: `Allow` on 405, the `/docs`
assets behind the `docs` scope, and a request at the contract's limits fitting the body cap."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.library.service.servicekit import AUTH, TICKET, TRIAGE_ONLY_TOKEN, RunningService

PROBLEM = "application/problem+json"
TRIAGE_ONLY = {"Authorization": f"Bearer {TRIAGE_ONLY_TOKEN}"}


@pytest.fixture
def http(offline_service: RunningService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=offline_service.base_url, timeout=30) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("TRACE", "/v1/triage", "POST"),
        ("GET", "/v1/triage", "POST"),
        ("DELETE", "/healthz", "GET"),
        ("PUT", "/v1/feedback", "POST"),
        ("POST", "/docs", "GET"),
    ],
)
def test_405_names_the_allowed_methods(
    http: httpx.Client, method: str, path: str, allow: str
) -> None:
    response = http.request(method, path, headers=AUTH)

    assert response.status_code == 405, response.text
    assert response.headers["Allow"] == allow


def test_405_is_problem_details_naming_the_allowed_method(http: httpx.Client) -> None:
    response = http.request("TRACE", "/v1/triage", headers=AUTH)

    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:problem-type:squad:method-not-allowed"
    assert problem["request_id"] == response.headers["X-Request-ID"]
    assert "use POST" in problem["detail"]


@pytest.mark.parametrize("asset", ["swagger-ui-bundle.js", "swagger-ui.css", "init.js"])
def test_docs_assets_are_served_to_a_docs_caller(http: httpx.Client, asset: str) -> None:
    response = http.get(f"/docs/assets/{asset}", headers=AUTH)

    assert response.status_code == 200
    assert len(response.content) > 100


def test_docs_assets_need_the_docs_scope(http: httpx.Client) -> None:
    anonymous = http.get("/docs/assets/swagger-ui-bundle.js")
    without_scope = http.get("/docs/assets/swagger-ui-bundle.js", headers=TRIAGE_ONLY)

    assert anonymous.status_code == 401
    assert without_scope.status_code == 403


@pytest.mark.parametrize("name", ["redoc.standalone.js", "core.py", "..%2Fcore.py", "nope.js"])
def test_only_the_listed_docs_assets_are_served(http: httpx.Client, name: str) -> None:
    response = http.get(f"/docs/assets/{name}", headers=AUTH)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_docs_page_embeds_the_contract_and_loads_no_outside_script(http: httpx.Client) -> None:
    response = http.get("/docs", headers=AUTH)
    page = response.text

    assert '<script id="openapi" type="application/json">' in page
    assert '"/v1/triage"' in page
    assert "https://" not in page.split('<script id="openapi"')[0]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_redoc_is_not_served(http: httpx.Client) -> None:
    assert http.get("/redoc", headers=AUTH).status_code == 404


def test_a_ticket_at_the_contract_limits_is_served_however_it_is_encoded(
    http: httpx.Client,
) -> None:
    ticket = http.get("/openapi.json", headers=AUTH).json()["components"]["schemas"]["Ticket"]
    limits = {name: ticket["properties"][name]["maxLength"] for name in ("subject", "body")}
    # An emoji is one character and, \u-escaped as a surrogate pair, 12 bytes of JSON.
    largest = {**TICKET, **{name: "\U0001f600" * size for name, size in limits.items()}}
    content = json.dumps(largest, ensure_ascii=True).encode()

    response = http.post(
        "/v1/triage", content=content, headers={**AUTH, "content-type": "application/json"}
    )

    assert len(content) > 200_000
    assert response.status_code == 200, response.text[:300]


def test_a_ticket_one_character_over_the_contract_limit_is_invalid(http: httpx.Client) -> None:
    ticket = http.get("/openapi.json", headers=AUTH).json()["components"]["schemas"]["Ticket"]
    too_long = "x" * (ticket["properties"]["body"]["maxLength"] + 1)

    response = http.post("/v1/triage", json={**TICKET, "body": too_long}, headers=AUTH)

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "body"]

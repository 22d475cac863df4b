"""contracts/openapi.json is what the app serves, and breaking changes need a new version."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from squadkit.service import openapi_document
from squadkit.service.contract import breaking_changes, render

from tests.library.service.servicekit import REPO, RunningService

CONTRACT = REPO / "contracts" / "openapi.json"


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(CONTRACT.read_text(encoding="utf-8"))
    return document


def test_committed_contract_matches_the_app(contract: dict[str, Any]) -> None:
    assert render(openapi_document()) == render(contract), (
        "the app's API changed: run `make contract` and commit contracts/openapi.json"
    )


def test_running_server_serves_the_committed_contract(
    offline_service: RunningService, contract: dict[str, Any]
) -> None:
    served = httpx.get(f"{offline_service.base_url}/openapi.json").json()

    assert served == contract


def test_contract_has_no_breaking_change_against_itself(contract: dict[str, Any]) -> None:
    assert breaking_changes(contract, contract) == []


def test_removing_a_response_field_is_breaking(contract: dict[str, Any]) -> None:
    changed = copy.deepcopy(contract)
    del changed["components"]["schemas"]["TriageResponse"]["properties"]["rationale"]

    assert breaking_changes(contract, changed) == [
        "POST /v1/triage response 200: field 'rationale' removed"
    ]


def test_new_required_request_field_is_breaking(contract: dict[str, Any]) -> None:
    changed = copy.deepcopy(contract)
    changed["components"]["schemas"]["Ticket"]["required"].append("locale")
    changed["components"]["schemas"]["Ticket"]["properties"]["locale"] = {"type": "string"}

    assert breaking_changes(contract, changed) == [
        "POST /v1/triage request: new required field 'locale'"
    ]


def test_moving_an_operation_to_a_new_path_version_is_breaking_unless_old_one_stays(
    contract: dict[str, Any],
) -> None:
    moved = copy.deepcopy(contract)
    moved["paths"]["/v2/triage"] = moved["paths"].pop("/v1/triage")
    kept = copy.deepcopy(contract)
    kept["paths"]["/v2/triage"] = copy.deepcopy(kept["paths"]["/v1/triage"])

    assert breaking_changes(contract, moved) == ["POST /v1/triage: operation removed"]
    assert breaking_changes(contract, kept) == []

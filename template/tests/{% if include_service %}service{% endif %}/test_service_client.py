"""contracts/client.py, the platform's typed client, against the running server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from types import ModuleType
from typing import Any

import pytest

from service.servicekit import REPO, TICKET, RunningService


def test_client_triages_a_ticket(
    offline_service: RunningService, contract_client: ModuleType
) -> None:
    with contract_client.SquadClient(offline_service.base_url) as squad:
        result = squad.triage(contract_client.Ticket(**TICKET), request_id="client-1")

    assert result.queue == "billing"
    assert result.metadata.request_id == "client-1"
    assert result.metadata.prompt == "triage"
    assert result.metadata.prompt_label == "production"


def test_client_raises_problem_error_with_request_id(
    offline_service: RunningService, contract_client: ModuleType
) -> None:
    with (
        contract_client.SquadClient(offline_service.base_url) as squad,
        pytest.raises(contract_client.ProblemError) as caught,
    ):
        squad.triage(contract_client.Ticket(**TICKET), prompt_label="no-such-label")

    assert caught.value.status == 422
    assert caught.value.type.endswith(":unknown-prompt-label")
    assert caught.value.request_id


def test_async_client_triages_and_reports_readiness(
    offline_service: RunningService, contract_client: ModuleType
) -> None:
    async def run() -> tuple[Any, bool]:
        async with contract_client.AsyncSquadClient(offline_service.base_url) as squad:
            ticket = contract_client.Ticket(**TICKET)
            return await squad.triage(ticket, prompt_label="staging"), await squad.ready()

    result, ready = asyncio.run(run())

    assert result.metadata.prompt_label == "staging"
    assert ready is True


def test_client_types_match_the_contract(contract_client: ModuleType) -> None:
    schemas = json.loads((REPO / "contracts" / "openapi.json").read_text())["components"]["schemas"]

    def fields(cls: type) -> set[str]:
        return {f.name for f in dataclasses.fields(cls)}

    assert fields(contract_client.Ticket) == set(schemas["Ticket"]["properties"])
    assert fields(contract_client.TriageMetadata) == set(
        schemas["TriageResponseMetadata"]["properties"]
    )
    assert fields(contract_client.TriageResult) == set(schemas["TriageResponse"]["properties"])
    queue = schemas["TriageResponse"]["properties"]["queue"]["enum"]
    assert set(queue) == set(contract_client.Queue.__args__)

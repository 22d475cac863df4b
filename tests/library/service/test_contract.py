"""The contract module on the fixture squad's app: the committed file matches what the app
serves, `check`/`write` keep it so, and a breaking change needs a new path version."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from squadkit.service import openapi_document
from squadkit.service.contract import breaking_changes, main, render
from tests.library.service.servicekit import AUTH, SQUAD, RunningService

CONTRACT = SQUAD / "contracts" / "openapi.json"


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(CONTRACT.read_text(encoding="utf-8"))
    return document


@pytest.fixture
def squad_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory: `contracts/openapi.json` is relative to it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_committed_contract_matches_the_app(contract: dict[str, Any]) -> None:
    assert render(openapi_document()) == render(contract), (
        "the fixture squad's API changed: regenerate tests/library/squad/contracts/openapi.json "
        "(see tests/library/squad/__init__.py)"
    )


def test_contract_holds_the_squad_route_and_the_operations(contract: dict[str, Any]) -> None:
    assert sorted(contract["paths"]) == [
        "/healthz",
        "/metrics",
        "/readyz",
        "/v1/feedback",
        "/v1/triage",
    ]
    assert contract["info"]["version"] == "1.0.0"  # the squad's routes.API_VERSION
    errors = contract["paths"]["/v1/triage"]["post"]["responses"]["503"]["content"]
    assert list(errors) == ["application/problem+json"]


def test_running_server_serves_the_committed_contract(
    offline_service: RunningService, contract: dict[str, Any]
) -> None:
    served = httpx.get(f"{offline_service.base_url}/openapi.json", headers=AUTH).json()

    assert served == contract


def test_render_is_stable_whatever_the_key_order() -> None:
    assert render({"b": 1, "a": {"d": 2, "c": 3}}) == render({"a": {"c": 3, "d": 2}, "b": 1})
    assert render({"a": "é"}) == '{\n  "a": "é"\n}\n'


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


def test_request_value_no_longer_accepted_is_breaking(contract: dict[str, Any]) -> None:
    changed = copy.deepcopy(contract)
    channel = changed["components"]["schemas"]["Ticket"]["properties"]["channel"]
    channel["enum"].remove("phone")

    assert breaking_changes(contract, changed) == [
        "POST /v1/triage request.channel: no longer accepts ['phone']"
    ]


def test_new_response_value_is_breaking_a_new_request_value_is_not(
    contract: dict[str, Any],
) -> None:
    changed = copy.deepcopy(contract)
    changed["components"]["schemas"]["TriageResponse"]["properties"]["queue"]["enum"].append(
        "legal"
    )
    changed["components"]["schemas"]["Ticket"]["properties"]["channel"]["enum"].append("fax")

    assert breaking_changes(contract, changed) == [
        "POST /v1/triage response 200.queue: may now return ['legal']"
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


def test_write_then_check_passes(squad_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 1
    assert "contracts/openapi.json is missing" in capsys.readouterr().err

    assert main(["write"]) == 0
    assert (squad_dir / "contracts" / "openapi.json").read_text(encoding="utf-8") == render(
        openapi_document()
    )
    assert main(["check"]) == 0
    assert "matches the app" in capsys.readouterr().out


def test_check_fails_when_the_file_and_the_app_differ(
    squad_dir: Path, contract: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    stale = copy.deepcopy(contract)
    stale["paths"]["/v1/triage"]["post"]["summary"] = "an older summary"
    (squad_dir / "contracts").mkdir()
    (squad_dir / "contracts" / "openapi.json").write_text(render(stale), encoding="utf-8")

    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert "differs from the app's schema" in err
    assert "breaking" not in err  # a summary is not part of what a client relies on


def test_write_refuses_a_breaking_change_and_keeps_the_file(
    squad_dir: Path, contract: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # The committed file promises a response field the app no longer returns.
    richer = copy.deepcopy(contract)
    richer["components"]["schemas"]["TriageResponse"]["properties"]["team"] = {"type": "string"}
    path = squad_dir / "contracts" / "openapi.json"
    path.parent.mkdir()
    path.write_text(render(richer), encoding="utf-8")

    assert main(["write"]) == 1
    err = capsys.readouterr().err
    assert "POST /v1/triage response 200: field 'team' removed" in err
    assert "new path version" in err
    assert path.read_text(encoding="utf-8") == render(richer)


def test_contract_command_without_a_verb_is_a_usage_error(
    squad_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().err

"""`X-Prompt-Label`: the server refuses a value as invalid exactly when the contract's
pattern does, and the pattern is the one rule labels follow everywhere (`labels.yaml`,
`squad prompts promote`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from squadkit.prompts.errors import PromptFileError
from squadkit.prompts.labels import LABEL_PATTERN, is_label, parse_labels
from tests.library.service.servicekit import AUTH, TICKET, RunningService

HEADER_VALUES = [
    "a",
    "production",
    "staging",
    "canary-2_b",
    "a" * 64,
    "a" * 65,
    "",
    "A",
    "Staging",
    "1a",
    "-a",
    "_a",
    "a b",
    "a.b",
    "a/b",
    "staging!",
]
"""Values a client can send in the header: well-shaped labels (known or not), and junk."""


@pytest.fixture(scope="module")
def http(offline_service: RunningService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=offline_service.base_url, timeout=30, headers=AUTH) as client:
        yield client


@pytest.fixture(scope="module")
def header_schema(http: httpx.Client) -> dict[str, Any]:
    """The header's schema in the contract the service serves."""
    operation = http.get("/openapi.json").json()["paths"]["/v1/triage"]["post"]
    (parameter,) = [p for p in operation["parameters"] if p["name"].lower() == "x-prompt-label"]
    schema: dict[str, Any] = parameter["schema"]
    return schema


@pytest.mark.parametrize("value", HEADER_VALUES)
def test_the_server_refuses_a_label_header_exactly_when_the_contract_does(
    http: httpx.Client, header_schema: dict[str, Any], value: str
) -> None:
    contract_accepts = jsonschema.Draft202012Validator(header_schema).is_valid(value)

    response = http.post("/v1/triage", json=TICKET, headers={"X-Prompt-Label": value})

    if contract_accepts:
        # A well-shaped label is served, or refused only for naming no label of the prompt.
        assert response.status_code == 200 or response.json()["type"].endswith(
            ":unknown-prompt-label"
        ), response.text
    else:
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["type"].endswith(":invalid-request")
        assert problem["errors"][0]["loc"] == ["header", "x-prompt-label"]


def test_a_well_shaped_label_the_prompt_lacks_is_unknown_not_invalid(http: httpx.Client) -> None:
    response = http.post("/v1/triage", json=TICKET, headers={"X-Prompt-Label": "a"})

    assert response.status_code == 422
    assert response.json()["type"] == "urn:problem-type:squad:unknown-prompt-label"


def test_an_unknown_label_problem_names_the_labels_the_prompt_has(http: httpx.Client) -> None:
    response = http.post("/v1/triage", json=TICKET, headers={"X-Prompt-Label": "a"})

    assert "(it has: production, staging)" in response.json()["detail"]


def test_the_contract_pattern_is_the_label_rule(header_schema: dict[str, Any]) -> None:
    patterns = [branch.get("pattern") for branch in header_schema["anyOf"]]

    assert LABEL_PATTERN in patterns


@pytest.mark.parametrize("value", HEADER_VALUES)
def test_labels_yaml_accepts_a_label_exactly_when_the_header_does(
    header_schema: dict[str, Any], value: str
) -> None:
    text = f"labels:\n  triage:\n    '{value}': 1\n"
    try:
        parse_labels(text, Path("prompts/labels.yaml"))
        accepted = True
    except PromptFileError:
        accepted = False

    assert accepted == jsonschema.Draft202012Validator(header_schema).is_valid(value)
    assert accepted == is_label(value)

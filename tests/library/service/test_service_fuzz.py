"""Property-based fuzzing of the fixture squad's contracts/openapi.json against its server.

Schemathesis generates requests from the committed contract (valid and invalid ones) and
sends them as the caller with every scope (the auth matrix is test_service_auth.py). It
checks every answer: no 5xx from the service itself, every status, content type, header and
body as the contract declares (the contract tests prove the file is what the app serves).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.library.service.servicekit import AUTH, SQUAD, RunningService

schema = schemathesis.openapi.from_path(SQUAD / "contracts" / "openapi.json")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schema.parametrize()  # type: ignore[untyped-decorator]  # schemathesis is Any to mypy
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_response_matches_the_contract(
    case: schemathesis.Case[Any],  # any API operation: the schema parametrizes over all of them
    offline_service: RunningService,
) -> None:
    case.call_and_validate(
        base_url=offline_service.base_url, checks=CHECKS, headers=AUTH, timeout=30
    )

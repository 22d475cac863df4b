"""Request and response bodies of API v1: what `contracts/openapi.json` is generated from.

Changing a field here changes the contract: run `make contract` and review the diff. A
breaking change (a removed or renamed field, a narrower type) belongs under a new path
version (`/v2/...`) next to the old one, never in place.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..features import Priority, Queue, TriageMetadata


class TriageResponseMetadata(TriageMetadata):
    """Provenance of the decision, plus the request id to quote when reporting it."""

    request_id: str


class TriageResponse(BaseModel):
    """Where a ticket goes, how urgent it is, and why."""

    model_config = ConfigDict(frozen=True)

    queue: Queue
    priority: Priority
    rationale: str
    metadata: TriageResponseMetadata


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, str] = Field(description="Each check's name -> 'ok'.")

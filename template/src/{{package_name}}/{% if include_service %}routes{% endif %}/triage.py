"""`POST /v1/triage`: a support ticket in, a queue, a priority and a rationale out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from squadkit.gateway import Provenance
from squadkit.service import FEATURE_PROBLEMS, PromptLabel, request_id, serve_feature

from ..features import Priority, Queue, Ticket
from ..features.triage import FEATURE

router = APIRouter(prefix="/v1", tags=["features"])


class TriageResponseMetadata(Provenance):
    """Provenance of the decision, plus the request id to quote when reporting it."""

    request_id: str


class TriageResponse(BaseModel):
    """Where a ticket goes, how urgent it is, and why."""

    model_config = ConfigDict(frozen=True)

    queue: Queue
    priority: Priority
    rationale: str
    metadata: TriageResponseMetadata


@router.post(
    "/triage",
    operation_id="triageTicket",
    summary="Route a support ticket to a queue with a priority",
    responses=FEATURE_PROBLEMS,
)
async def triage(ticket: Ticket, request: Request, label: PromptLabel = None) -> TriageResponse:
    result = await serve_feature(FEATURE, request, ticket, label=label)
    return TriageResponse(
        queue=result.decision.queue,
        priority=result.decision.priority,
        rationale=result.decision.rationale,
        metadata=TriageResponseMetadata(
            **result.metadata.model_dump(), request_id=request_id(request)
        ),
    )

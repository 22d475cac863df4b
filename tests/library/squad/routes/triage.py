"""`POST /v1/triage`, written as a squad writes a route: with squadkit.service's helpers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from squadkit.gateway import Provenance
from squadkit.service import FEATURE_PROBLEMS, Context, PromptLabel, request_id, serve_feature

from ..features.triage import FEATURE, Priority, Queue, Ticket

router = APIRouter(prefix="/v1", tags=["features"])


class TriageResponseMetadata(Provenance):
    """Provenance of the decision, plus the request id to quote when reporting it."""

    request_id: str


class TriageResponse(BaseModel):
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
async def triage(
    ticket: Ticket, request: Request, context: Context, label: PromptLabel = None
) -> TriageResponse:
    decision = await serve_feature(FEATURE, context, ticket, label=label)
    return TriageResponse(
        queue=decision.answer.queue,
        priority=decision.answer.priority,
        rationale=decision.answer.rationale,
        metadata=TriageResponseMetadata(
            **decision.provenance.model_dump(), request_id=request_id(request)
        ),
    )

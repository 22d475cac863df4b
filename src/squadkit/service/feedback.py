"""`POST /v1/feedback`: a calling system says what an answer was worth (issue 25, item 2).

The body names an inference (`inference_id`, from `X-Inference-Id`) or an episode
(`episode_id`, the caller's `X-Episode-Id`), a metric the squad declared in
`config/feedback.yaml` and a value of that metric's kind. It needs the `feedback` scope
(checked by the guard before the body is read). An `Idempotency-Key` makes a retry safe:
the same caller sending the same key again gets the first feedback back (200), nothing new
is stored. Unknown inference or episode: 404; unknown metric, wrong kind, out of range:
422; the database unreachable or the log off: 503. Every problem is RFC 9457.

The database is reached on the feedback writer's thread (`FeedbackWriter`), never on the
event loop: a feedback is a write the caller waits for, unlike an inference's row, so the
answer comes once it is committed; feedback arriving together shares one commit. Each new
feedback moves the per-version feedback metrics (`metrics.count_feedback`).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import SquadError
from ..inferences import FeedbackRow, InvalidFeedbackValue, PendingFeedback
from ..inferences.store import InferenceLogUnavailable
from .auth import require_scope
from .callers import FEEDBACK
from .metrics import count_feedback
from .problems import (
    FEEDBACK_UNAVAILABLE,
    FORBIDDEN,
    INVALID_FEEDBACK_VALUE,
    INVALID_REQUEST,
    TOO_MANY_REQUESTS,
    UNAUTHENTICATED,
    UNKNOWN_FEEDBACK_METRIC,
    UNKNOWN_INFERENCE,
    ProblemKind,
)
from .routing import Context, problem_responses

router = APIRouter(tags=["feedback"])

ID_PATTERN = r"^[A-Za-z0-9._:\-]{1,128}$"


class FeedbackRefused(SquadError):
    """A feedback request the service answers with the problem `kind`."""

    def __init__(self, kind: ProblemKind, detail: str | None = None) -> None:
        super().__init__(detail or kind.detail)
        self.kind = kind
        self.detail = detail


class FeedbackRequest(BaseModel):
    """One judgement of one inference (or of every inference of an episode)."""

    model_config = ConfigDict(extra="forbid")

    inference_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="The answer's X-Inference-Id."
    )
    episode_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="The X-Episode-Id the caller sent."
    )
    metric: str = Field(
        min_length=1, max_length=64, description="A metric of config/feedback.yaml."
    )
    value: bool | float | str | dict[str, Any] = Field(
        description="Of the metric's kind: a boolean, a number, a category or a corrected "
        "output (an object or a string)."
    )

    @model_validator(mode="after")
    def _one_target(self) -> FeedbackRequest:
        if (self.inference_id is None) == (self.episode_id is None):
            raise ValueError("send exactly one of inference_id and episode_id")
        return self


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        pattern=ID_PATTERN,
        description="Makes a retry safe: the same caller sending the same key again gets "
        "the first feedback back (200) and nothing new is stored.",
    ),
]


@router.post(
    "/v1/feedback",
    operation_id="sendFeedback",
    summary="Say what an answer was worth (a metric of config/feedback.yaml)",
    description="Needs a caller with the `feedback` scope. 201 with the stored feedback; "
    "200 with the first one when the Idempotency-Key was used before.",
    status_code=201,
    responses={
        200: {"model": FeedbackRow, "description": "Replayed: this key's earlier feedback."},
        **problem_responses(
            UNAUTHENTICATED,
            FORBIDDEN,
            UNKNOWN_INFERENCE,
            INVALID_REQUEST,
            TOO_MANY_REQUESTS,
            FEEDBACK_UNAVAILABLE,
        ),
    },
)
async def send_feedback(
    body: FeedbackRequest,
    response: Response,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> FeedbackRow:
    caller = require_scope(FEEDBACK)
    metric = context.feedback.metrics.get(body.metric)
    if metric is None:
        known = ", ".join(sorted(context.feedback.metrics)) or "(none declared)"
        raise FeedbackRefused(
            UNKNOWN_FEEDBACK_METRIC,
            f"No metric '{body.metric}' in config/feedback.yaml; known: {known}.",
        )
    try:
        value = metric.check(body.metric, body.value)
    except InvalidFeedbackValue as error:
        raise FeedbackRefused(INVALID_FEEDBACK_VALUE, f"{error}.") from None
    log = context.inference_log
    if log is None:
        raise FeedbackRefused(FEEDBACK_UNAVAILABLE, "The inference log is off on this service.")
    store = log.writer.store
    pending = PendingFeedback(
        caller=caller.name,
        metric=body.metric,
        kind=metric.kind,
        value=value,
        inference_id=body.inference_id,
        episode_id=body.episode_id,
        idempotency_key=idempotency_key,
    )
    try:
        with store.reaching("store feedback"):
            stored = await asyncio.wrap_future(log.feedback.submit(pending))
    except InferenceLogUnavailable:
        raise FeedbackRefused(FEEDBACK_UNAVAILABLE) from None
    if stored is None:
        raise FeedbackRefused(UNKNOWN_INFERENCE)
    row, created = stored
    if created:
        count_feedback(row, metric)
    else:
        response.status_code = 200
    return row

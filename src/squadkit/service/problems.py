"""RFC 9457 problem details: the one shape every error response of the service has.

Each expected failure maps to a fixed `type`, `title` and `detail` written here, never to
the exception's own text: a provider's raw error can carry a request body, an internal URL
or a key fragment, so it goes to the log (with the request id) and never to the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One invalid field of a request (422 only); the offending value is not echoed."""

    loc: list[str | int] = Field(description="Where: ['body', 'subject'], ['header', ...].")
    msg: str
    type: str


class Problem(BaseModel):
    """An error response (RFC 9457) plus the request id to quote when reporting it."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="URI naming the kind of problem; switch on this.")
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What happened and what to do, for this occurrence.")
    instance: str = Field(description="The request path.")
    request_id: str = Field(description="Also in the X-Request-ID header and the logs.")
    inference_id: str | None = Field(
        default=None,
        description="The failed feature call's id in the inference log (UUIDv7), also in "
        "the X-Inference-Id header; absent when no feature ran.",
    )
    errors: list[FieldError] | None = Field(default=None, description="Invalid fields (422).")
    checks: dict[str, str] | None = Field(default=None, description="Failed checks (/readyz).")


@dataclass(frozen=True)
class ProblemKind:
    slug: str
    status: int
    title: str
    detail: str

    @property
    def type(self) -> str:
        return f"urn:problem-type:squad:{self.slug}"


INVALID_REQUEST = ProblemKind(
    "invalid-request",
    422,
    "Invalid request or unknown prompt label",
    "The request does not match the API contract; see `errors` for each field.",
)
UNKNOWN_LABEL = ProblemKind(
    "unknown-prompt-label",
    422,
    "Unknown prompt label",
    "The X-Prompt-Label header names a label this prompt does not have; omit it to use production.",
)
INVALID_MODEL_OUTPUT = ProblemKind(
    "invalid-model-output",
    502,
    "Invalid model output",
    "The model's answer did not match the expected schema, even after one repair attempt. "
    "Retrying may help; report the request id if it persists.",
)
PROVIDERS_UNAVAILABLE = ProblemKind(
    "providers-unavailable",
    503,
    "Model providers unavailable",
    "Every model deployment for this feature is failing or cooling down. Retry after the "
    "number of seconds in the Retry-After header.",
)
DEADLINE_EXCEEDED = ProblemKind(
    "deadline-exceeded",
    504,
    "Deadline exceeded",
    "The model did not answer within the service's deadline. Retrying may help.",
)
BODY_TOO_LARGE = ProblemKind(
    "body-too-large",
    413,
    "Request body too large",
    "The request body is larger than this service accepts; shorten the ticket.",
)
BODY_TOO_DEEP = ProblemKind(
    "body-too-deeply-nested",
    422,
    "Request body nested too deeply",
    "The request body's JSON nests arrays or objects deeper than this service accepts.",
)
TOO_MANY_REQUESTS = ProblemKind(
    "too-many-concurrent-requests",
    429,
    "Too many concurrent requests",
    "This client already has the maximum number of requests in flight; wait for one to "
    "finish, then retry.",
)
NOT_READY = ProblemKind(
    "not-ready",
    503,
    "Not ready",
    "The service cannot serve requests yet; `checks` names what failed (details in the log).",
)
UNAUTHENTICATED = ProblemKind(
    "unauthenticated",
    401,
    "Unauthenticated",
    "Send `Authorization: Bearer <token>` with a token of a declared, unrevoked caller "
    "(`squad callers add`).",
)
FORBIDDEN = ProblemKind(
    "forbidden",
    403,
    "Forbidden",
    "This caller's token does not grant the scope this request needs; ask the squad to add "
    "it to config/callers.yaml.",
)
DEGRADED_NOT_READY = ProblemKind(
    "degraded",
    503,
    "Degraded",
    "An alias's first deployment is skipped (no key) or cooled down: requests would be "
    "answered by a later link of its chain. `checks` names the alias and deployment.",
)
INVALID_EPISODE_ID = ProblemKind(
    "invalid-episode-id",
    422,
    "Invalid episode id",
    "The X-Episode-Id header must be 1 to 128 letters, digits or . _ : - characters.",
)
UNKNOWN_INFERENCE = ProblemKind(
    "unknown-inference",
    404,
    "Unknown inference or episode",
    "No logged inference has this id (or episode id). Rows are written within "
    "SQUAD_INFERENCE_LOG_FLUSH_INTERVAL_S of the answer; quote the X-Inference-Id you got.",
)
UNKNOWN_FEEDBACK_METRIC = ProblemKind(
    "unknown-feedback-metric",
    422,
    "Unknown feedback metric",
    "The metric is not declared in the squad's config/feedback.yaml.",
)
INVALID_FEEDBACK_VALUE = ProblemKind(
    "invalid-feedback-value",
    422,
    "Invalid feedback value",
    "The value is not of the metric's kind or outside its range.",
)
FEEDBACK_UNAVAILABLE = ProblemKind(
    "feedback-unavailable",
    503,
    "Feedback store unavailable",
    "The inference log's database cannot be reached or the log is off; retry later.",
)
NOT_FOUND = ProblemKind("not-found", 404, "Not found", "No such endpoint; see /openapi.json.")
METHOD_NOT_ALLOWED = ProblemKind(
    "method-not-allowed", 405, "Method not allowed", "See /openapi.json for allowed methods."
)
INTERNAL_ERROR = ProblemKind(
    "internal-error",
    500,
    "Internal error",
    "The service failed unexpectedly; report the request id.",
)


def problem_response(
    kind: ProblemKind,
    *,
    request_id: str,
    instance: str,
    headers: Mapping[str, str] | None = None,
    errors: list[FieldError] | None = None,
    checks: dict[str, str] | None = None,
    detail: str | None = None,
    inference_id: str | None = None,
) -> JSONResponse:
    """The JSON response for `kind`, with `X-Request-ID` set (and `X-Inference-Id` when a
    feature ran: the guard adds it)."""
    problem = Problem(
        type=kind.type,
        title=kind.title,
        status=kind.status,
        detail=detail or kind.detail,
        instance=instance,
        request_id=request_id,
        errors=errors,
        checks=checks,
        inference_id=inference_id,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=kind.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={"X-Request-ID": request_id, **(headers or {})},
    )

"""Bad requests to the service: each a problem document (RFC 9457) naming its field."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tests.library.service.servicekit import REVOKED_TOKEN, TICKET, TRIAGE_ONLY_TOKEN


@dataclass(frozen=True)
class BadRequest:
    name: str
    body: object = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    path: str = "/v1/triage"
    method: str = "POST"
    status: int = 422
    says: str = ""


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


API_REQUESTS = [
    BadRequest(
        "subject-missing", {k: v for k, v in TICKET.items() if k != "subject"}, says="subject"
    ),
    BadRequest("subject-empty", {**TICKET, "subject": ""}, says="subject"),
    BadRequest("subject-too-long", {**TICKET, "subject": "x" * 10_000}, says="subject"),
    BadRequest("body-not-a-string", {**TICKET, "body": 42}, says="body"),
    BadRequest("tier-unknown", {**TICKET, "customer_tier": "platinum"}, says="customer_tier"),
    BadRequest("channel-unknown", {**TICKET, "channel": "pigeon"}, says="channel"),
    BadRequest("unknown-field", {**TICKET, "urgency": "now"}, says="urgency"),
    BadRequest("a-list", [TICKET], says="body"),
    BadRequest(
        "not-json", content=b"{not json", headers={"content-type": "application/json"}, says="json"
    ),
    BadRequest(
        "empty-body", content=b"", headers={"content-type": "application/json"}, says="body"
    ),
    BadRequest("deeply-nested", {**TICKET, "body": json.loads("[" * 50 + "]" * 50)}, says="body"),
    BadRequest(
        "label-unknown",
        TICKET,
        headers={"X-Prompt-Label": "no-such-label"},
        says="unknown-prompt-label",
    ),
    BadRequest(
        "body-over-the-limit",
        content=b"x" * 2_000_000,
        headers={"content-type": "application/json"},
        status=413,
        says="",
    ),
    BadRequest("unknown-path", TICKET, path="/v1/nowhere", status=404, says=""),
    BadRequest("wrong-method", None, method="GET", status=405, says=""),
    BadRequest(
        "no-token",
        TICKET,
        headers={"Authorization": ""},
        status=401,
        says="Authorization",
    ),
    BadRequest("wrong-token", TICKET, headers=_bearer("sqd_not-a-caller"), status=401),
    BadRequest("revoked-token", TICKET, headers=_bearer(REVOKED_TOKEN), status=401),
    BadRequest("basic-auth", TICKET, headers={"Authorization": "Basic dXNlcjpwdw=="}, status=401),
    BadRequest(
        "label-override-without-the-scope",
        TICKET,
        headers={**_bearer(TRIAGE_ONLY_TOKEN), "X-Prompt-Label": "staging"},
        status=403,
        says="label-override",
    ),
    BadRequest(
        "metrics-without-the-scope",
        path="/metrics",
        method="GET",
        headers=_bearer(TRIAGE_ONLY_TOKEN),
        status=403,
        says="metrics",
    ),
    BadRequest(
        "docs-without-the-scope",
        path="/openapi.json",
        method="GET",
        headers=_bearer(TRIAGE_ONLY_TOKEN),
        status=403,
        says="docs",
    ),
    BadRequest(
        "feedback-without-the-scope",
        {"inference_id": "x", "metric": "correct", "value": True},
        path="/v1/feedback",
        headers=_bearer(TRIAGE_ONLY_TOKEN),
        status=403,
        says="feedback",
    ),
    BadRequest(
        "feedback-unknown-metric",
        {"inference_id": "x", "metric": "vibes", "value": True},
        path="/v1/feedback",
        says="vibes",
    ),
    BadRequest(
        "feedback-two-targets",
        {"inference_id": "x", "episode_id": "y", "metric": "correct", "value": True},
        path="/v1/feedback",
        says="exactly one of inference_id and episode_id",
    ),
    BadRequest("channel-null", {**TICKET, "channel": None}, says="channel"),
    BadRequest("tier-a-number", {**TICKET, "customer_tier": 3}, says="customer_tier"),
    BadRequest(
        "metrics-without-a-token",
        path="/metrics",
        method="GET",
        headers={"Authorization": ""},
        status=401,
    ),
    BadRequest(
        "docs-without-a-token",
        path="/docs",
        method="GET",
        headers={"Authorization": ""},
        status=401,
    ),
    BadRequest(
        "contract-without-a-token",
        path="/openapi.json",
        method="GET",
        headers={"Authorization": ""},
        status=401,
    ),
    BadRequest("trace", None, method="TRACE", status=405, says="use POST"),
    BadRequest(
        "label-not-a-label", TICKET, headers={"X-Prompt-Label": "Staging!"}, says="x-prompt-label"
    ),
    BadRequest("body-over-the-prompt-limit", {**TICKET, "body": "x" * 20_001}, says="body"),
]

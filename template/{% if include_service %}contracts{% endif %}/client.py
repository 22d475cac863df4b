"""Typed Python client for the squad service, for the core platform to vendor.

It sits next to the contract it implements (`contracts/openapi.json`) and needs only
`httpx` and the standard library: the platform copies these two files (or installs them
from this repo) without pulling in the squad's own dependencies (litellm, FastAPI...).
The contract tests run it against the real server, so client and contract cannot drift.

    with SquadClient("http://triage.internal:8000", token=os.environ["SQUAD_TOKEN"]) as squad:
        result = squad.triage(Ticket(subject="...", body="...", customer_tier="pro",
                                     channel="email"))
        result.queue, result.priority, result.metadata.prompt_version

`token` is the caller's bearer token from `squad callers add` (the squad runs it and hands
the token over once): it is sent as `Authorization: Bearer <token>` on every call but
`ready()`. Keep it in the platform's secret store, never in code.

Every error response is raised as `ProblemError` (RFC 9457 fields plus `request_id` and,
for 429/503, `retry_after_s`): switch on `.type` or `.status`, quote `.request_id`.
Every answer, and every failure after the feature ran, carries `inference_id`: the
answer's id in the squad's inference log, to quote when reporting on it. `episode_id=`
groups related requests (a conversation, a case) in that log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import httpx

__all__ = [
    "AsyncSquadClient",
    "ProblemError",
    "SquadClient",
    "Ticket",
    "TriageMetadata",
    "TriageResult",
]

API_VERSION = "1.0.0"

Queue = Literal["billing", "technical", "account", "shipping", "sales", "security"]
Priority = Literal["low", "normal", "high", "urgent"]
CustomerTier = Literal["free", "pro", "enterprise"]
Channel = Literal["email", "chat", "web", "phone"]


@dataclass(frozen=True)
class Ticket:
    """A support ticket (subject <= 300 chars, body <= 20,000 chars)."""

    subject: str
    body: str
    customer_tier: CustomerTier
    channel: Channel


@dataclass(frozen=True)
class TriageMetadata:
    """Which prompt version and model deployment produced the decision."""

    prompt: str
    prompt_version: int
    prompt_label: str | None
    prompt_hash: str
    model_alias: str
    deployment: str
    fallback_used: bool
    attempts: int
    latency_ms: float
    request_id: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None


@dataclass(frozen=True)
class TriageResult:
    queue: Queue
    priority: Priority
    rationale: str
    metadata: TriageMetadata
    inference_id: str | None = None  # X-Inference-Id: None when the log is off


@dataclass
class ProblemError(Exception):
    """An RFC 9457 problem returned by the service."""

    status: int
    type: str
    title: str
    detail: str
    request_id: str | None = None
    inference_id: str | None = None
    retry_after_s: float | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail} (request id {self.request_id})"


class SquadClient:
    """Blocking client; pass `http=` to reuse your own configured `httpx.Client`."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        timeout_s: float = 35.0,
        http: httpx.Client | None = None,
    ) -> None:
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout_s)
        self._token = token

    def __enter__(self) -> SquadClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def triage(
        self,
        ticket: Ticket,
        *,
        prompt_label: str | None = None,
        request_id: str | None = None,
        episode_id: str | None = None,
    ) -> TriageResult:
        """The decision for `ticket`; `prompt_label` needs the caller's `label-override`."""
        response = self._http.post(
            "/v1/triage",
            json=asdict(ticket),
            headers=_headers(self._token, prompt_label, request_id, episode_id),
        )
        return _triage_result(response)

    def ready(self) -> bool:
        """True when /readyz says the service can serve; a `ProblemError` never escapes."""
        return self._http.get("/readyz").status_code == 200


class AsyncSquadClient:
    """The same client for asyncio callers."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        timeout_s: float = 35.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout_s)
        self._token = token

    async def __aenter__(self) -> AsyncSquadClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def triage(
        self,
        ticket: Ticket,
        *,
        prompt_label: str | None = None,
        request_id: str | None = None,
        episode_id: str | None = None,
    ) -> TriageResult:
        response = await self._http.post(
            "/v1/triage",
            json=asdict(ticket),
            headers=_headers(self._token, prompt_label, request_id, episode_id),
        )
        return _triage_result(response)

    async def ready(self) -> bool:
        return (await self._http.get("/readyz")).status_code == 200


def _headers(
    token: str, prompt_label: str | None, request_id: str | None, episode_id: str | None = None
) -> dict[str, str]:
    headers = {
        "Accept": "application/json, application/problem+json",
        "Authorization": f"Bearer {token}",
    }
    if prompt_label is not None:
        headers["X-Prompt-Label"] = prompt_label
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    if episode_id is not None:
        headers["X-Episode-Id"] = episode_id
    return headers


def _checked(response: httpx.Response) -> dict[str, Any]:
    if response.is_success:
        data: dict[str, Any] = response.json()
        return data
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {}
    retry_after = response.headers.get("Retry-After")
    raise ProblemError(
        status=response.status_code,
        type=str(body.get("type", "about:blank")),
        title=str(body.get("title", response.reason_phrase)),
        detail=str(body.get("detail", "")),
        request_id=body.get("request_id") or response.headers.get("X-Request-ID"),
        inference_id=body.get("inference_id") or response.headers.get("X-Inference-Id"),
        retry_after_s=float(retry_after) if retry_after and retry_after.isdigit() else None,
        errors=list(body.get("errors", [])),
    )


def _triage_result(response: httpx.Response) -> TriageResult:
    data = _checked(response)
    known = set(TriageMetadata.__dataclass_fields__)
    metadata = {k: v for k, v in data["metadata"].items() if k in known}  # tolerate additions
    return TriageResult(
        queue=data["queue"],
        priority=data["priority"],
        rationale=data["rationale"],
        metadata=TriageMetadata(**metadata),
        inference_id=response.headers.get("X-Inference-Id"),
    )

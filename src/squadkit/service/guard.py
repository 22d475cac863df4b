"""The service's checks of every request: request ids, callers, body size, concurrency.

A plain ASGI middleware (not `BaseHTTPMiddleware`) so it adds no task per request and sees
every response, including the ones it sends itself. Only `HttpServerSeries` (the
`http.server.*` series, `http_series.py`) wraps it:

- `X-Request-ID` is taken from the request when it looks like an id, generated otherwise,
  stored in `scope["state"]["request_id"]` and echoed on every response.
- Every path but /healthz and /readyz needs a caller's bearer token (`auth.py`): 401
  without a valid one, 403 without the scope a fixed path needs, before the body is read.
  The caller is stored in `scope["state"]["caller"]` and `auth.current_caller`.
- Bodies larger than `max_body_bytes` get 413 before the app runs: the declared
  Content-Length is checked first, then the bytes actually received (chunked uploads).
- JSON bodies nesting arrays or objects deeper than `max_json_depth` get 422 before anything
  parses them: Python's parser would recurse once per level (a 100,000-deep `[[[...]]]`
  fits in 200 kB and raises RecursionError), and no request of the contract nests deeply.
  422, not 413: the body is within the size limit; its content is what cannot be processed.
- Each caller may have `max_concurrency` feature requests in flight; one more gets 429 with
  Retry-After. Keyed on the caller, not the address: callers behind one proxy or NAT do not
  share a limit, and one caller cannot multiply it by spreading over addresses.
  Operational endpoints (probes, metrics) are never limited.
- `X-Episode-Id` (optional, a caller's id grouping several requests) must look like an
  id, else 422 before the body is read; it is stored in `scope["state"]["episode_id"]`.
- A feature call puts its inference id in `scope["state"]["inference_id"]`
  (`serve_feature`); the guard sends it as `X-Inference-Id`, and the prompt version that
  answered (`name@vN`, the experiment's arm's when one runs) as `X-Prompt-Version`.
  `current_state` hands the state to `serve_feature`, which has no `Request`.
- An unexpected exception becomes a 500 problem with the request id, never a traceback.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import OPEN_PATHS, Authenticator, Forbidden, Unauthenticated, current_caller
from .problems import (
    BODY_TOO_DEEP,
    BODY_TOO_LARGE,
    FORBIDDEN,
    INTERNAL_ERROR,
    INVALID_EPISODE_ID,
    TOO_MANY_REQUESTS,
    UNAUTHENTICATED,
    problem_response,
)

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
EPISODE_ID_HEADER = "x-episode-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
current_state: ContextVar[dict[str, Any] | None] = ContextVar("squad_state", default=None)
"""The state of the request being served (request id, caller, episode and inference ids)."""
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def new_request_id() -> str:
    """A random UUID version 4 as 32 hex digits: `uuid.uuid4().hex`, without building the
    `uuid.UUID` (the same bits: 122 random, the version and the variant set)."""
    value = int.from_bytes(os.urandom(16), "big")
    value = (value & ~(0xC000 << 48)) | (0x8000 << 48)  # variant RFC 4122
    value = (value & ~(0xF000 << 64)) | (4 << 76)  # version 4
    return f"{value:032x}"


def request_id_of(scope: Scope) -> str:
    """The request id the guard assigned to this request."""
    state: dict[str, Any] = scope.get("state") or {}
    return str(state.get("request_id", "-"))


def inference_id_of(scope: Scope) -> str | None:
    """The id of the feature call this request made, if it made one."""
    state: dict[str, Any] = scope.get("state") or {}
    value = state.get("inference_id")
    return None if value is None else str(value)


class RequestGuard:
    """See the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_concurrency: int,
        authenticator: Authenticator,
        max_json_depth: int = 32,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth
        self.max_concurrency = max_concurrency
        self.in_flight: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        given = headers.get(REQUEST_ID_HEADER, "")
        request_id = given if _VALID_REQUEST_ID.match(given) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope["path"]
        client = scope["client"][0] if scope.get("client") else "-"
        caller = None
        if path not in OPEN_PATHS:
            try:
                caller = self.authenticator.authenticate(headers.get("authorization"), path)
            except (Unauthenticated, Forbidden) as error:
                await self._refuse(scope, receive, send, error)
                return
            scope["state"]["caller"] = caller.name
            client = f"caller:{caller.name}"

        checked = await self._checked_body(scope, receive, send, headers)
        if checked is None:
            return
        receive = checked
        limited = path not in UNLIMITED_PATHS
        if limited and self.in_flight[client] >= self.max_concurrency:
            await self._problem(scope, receive, send, "busy")
            return
        if limited:
            self.in_flight[client] += 1
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = _with_ids(message, scope["state"])
            await send(message)

        caller_set = current_caller.set(caller)
        state_set = current_state.set(scope["state"])
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception(
                "unhandled error in %s %s (request_id=%s)", scope["method"], path, request_id
            )
            if not started:
                response = problem_response(
                    INTERNAL_ERROR,
                    request_id=request_id,
                    instance=path,
                    inference_id=inference_id_of(scope),
                )
                await response(scope, receive, send_with_id)
        finally:
            current_state.reset(state_set)
            current_caller.reset(caller_set)
            if limited:
                self.in_flight[client] -= 1
                if self.in_flight[client] <= 0:
                    del self.in_flight[client]

    async def _checked_body(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> Receive | None:
        """`receive` replaying the body once it and X-Episode-Id passed their checks, or
        None after answering 413/422."""
        episode = headers.get(EPISODE_ID_HEADER)
        if episode is not None:
            if not _VALID_REQUEST_ID.match(episode):
                await self._problem(scope, receive, send, "episode")
                return None
            scope["state"]["episode_id"] = episode
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._problem(scope, receive, send, "body")
            return None
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return receive
        body = await self._read_body(receive)
        if body is None:
            await self._problem(scope, receive, send, "body")
            return None
        if _is_json(headers) and json_depth_exceeds(body, self.max_json_depth):
            await self._problem(scope, receive, send, "depth")
            return None
        return _replay(body, receive)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; the app sees an empty body and a disconnect
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, error: Unauthenticated | Forbidden
    ) -> None:
        request_id = request_id_of(scope)
        if isinstance(error, Forbidden):
            log.warning("forbidden (request_id=%s): %s", request_id, error)
            response = problem_response(
                FORBIDDEN,
                request_id=request_id,
                instance=scope["path"],
                detail=f"Caller '{error.caller}' lacks the scope '{error.scope}' this request "
                "needs; ask the squad to add it to config/callers.yaml.",
            )
        else:
            response = problem_response(
                UNAUTHENTICATED,
                request_id=request_id,
                instance=scope["path"],
                headers={"WWW-Authenticate": 'Bearer realm="squad"'},
            )
        await response(scope, receive, send)

    async def _problem(self, scope: Scope, receive: Receive, send: Send, why: str) -> None:
        request_id = request_id_of(scope)
        if why == "episode":
            response = problem_response(
                INVALID_EPISODE_ID, request_id=request_id, instance=scope["path"]
            )
        elif why == "depth":
            response = problem_response(
                BODY_TOO_DEEP,
                request_id=request_id,
                instance=scope["path"],
                detail=f"The request body nests arrays or objects more than "
                f"{self.max_json_depth} levels deep; send the fields of /openapi.json.",
            )
        elif why == "body":
            response = problem_response(
                BODY_TOO_LARGE,
                request_id=request_id,
                instance=scope["path"],
                headers={"Connection": "close"},
                detail=f"The request body is larger than {self.max_body_bytes} bytes; "
                "shorten the ticket.",
            )
        else:
            response = problem_response(
                TOO_MANY_REQUESTS,
                request_id=request_id,
                instance=scope["path"],
                headers={"Retry-After": "1"},
            )
        await response(scope, receive, send)


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether the JSON `body` nests arrays/objects more than `limit` deep (no parsing).

    Brackets inside strings do not count. Linear in the body's size, and the common case
    (fewer brackets than the limit in all) costs two `bytes.count` calls.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub(b'""', body)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _is_json(headers: dict[str, str]) -> bool:
    """A body the app may parse as JSON: no content type, or a JSON one."""
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return not media or media == "application/json" or media.endswith("+json")


def _with_ids(start: Message, state: dict[str, Any]) -> Message:
    """The response start `start` with X-Request-ID (unless set), and X-Inference-Id and
    X-Prompt-Version (`name@vN`, the version that answered) when a feature ran."""
    raw = list(start.get("headers", []))
    if not any(name.lower() == b"x-request-id" for name, _ in raw):
        raw.append((b"x-request-id", str(state["request_id"]).encode()))
    inference_id = state.get("inference_id")
    if inference_id is not None:
        raw.append((b"x-inference-id", str(inference_id).encode()))
    prompt_version = state.get("prompt_version")
    if prompt_version is not None:
        raw.append((b"x-prompt-version", str(prompt_version).encode()))
    return {**start, "headers": raw}


def _headers(scope: Scope) -> dict[str, str]:
    return {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
    }


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields the buffered body once, then waits for the real disconnect."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay

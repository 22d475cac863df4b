"""The FastAPI app factory: routes, error mapping and start-up wiring.

Settings, the models config, the prompt registry and the gateway are built once in the
lifespan (a bad config stops the start-up with a one-line error); every request reuses
them. Features stay plain async functions: a route only validates input, calls one, and
maps the result or the typed error to the contract.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..features import Ticket, triage_ticket
from ..gateway import DeadlineExceeded, InvalidOutput, ProviderUnavailable
from ..prompts import PromptNotFound
from ..prompts.labels import LABEL_PATTERN
from ..settings import Settings
from .context import ServiceContext
from .guard import RequestGuard, request_id_of
from .metrics import metrics_exposition
from .problems import (
    BODY_TOO_LARGE,
    DEADLINE_EXCEEDED,
    INVALID_MODEL_OUTPUT,
    INVALID_REQUEST,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    NOT_READY,
    PROBLEM_MEDIA_TYPE,
    PROVIDERS_UNAVAILABLE,
    TOO_MANY_REQUESTS,
    UNKNOWN_LABEL,
    FieldError,
    Problem,
    ProblemKind,
    problem_response,
)
from .schemas import Health, Readiness, TriageResponse, TriageResponseMetadata

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"
"""Version of the contract in contracts/openapi.json; bump it with every change to it."""

DEADLINE_GRACE_S = 1.0
"""The route's own timeout backs up the gateway's deadline by this much."""


class UnknownLabel(Exception):
    """The X-Prompt-Label header names a label the prompt does not have."""


def _problems(*kinds: ProblemKind) -> dict[int | str, dict[str, Any]]:
    return {kind.status: {"model": Problem, "description": kind.title} for kind in kinds}


def get_context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


Context = Annotated[ServiceContext, Depends(get_context)]

v1 = APIRouter(prefix="/v1", tags=["features"])
ops = APIRouter(tags=["operations"])


@v1.post(
    "/triage",
    operation_id="triageTicket",
    summary="Route a support ticket to a queue with a priority",
    responses=_problems(
        BODY_TOO_LARGE,
        INVALID_REQUEST,
        TOO_MANY_REQUESTS,
        INVALID_MODEL_OUTPUT,
        PROVIDERS_UNAVAILABLE,
        DEADLINE_EXCEEDED,
    ),
)
async def triage(
    ticket: Ticket,
    request: Request,
    context: Context,
    x_prompt_label: Annotated[
        str | None,
        Header(
            pattern=LABEL_PATTERN,
            max_length=64,
            description="Serve this prompt label instead of production (canaries).",
        ),
    ] = None,
) -> TriageResponse:
    deadline = context.settings.service_deadline_s
    try:
        async with asyncio.timeout(deadline + DEADLINE_GRACE_S):
            result = await triage_ticket(
                ticket,
                registry=context.registry,
                gateway=context.gateway,
                label=x_prompt_label,
                deadline_s=deadline,
            )
    except TimeoutError:
        raise DeadlineExceeded("triage", deadline) from None
    except PromptNotFound:
        if x_prompt_label is None:
            raise  # the production label is missing: a deployment problem, logged as 500
        raise UnknownLabel(x_prompt_label) from None
    decision = result.decision
    return TriageResponse(
        queue=decision.queue,
        priority=decision.priority,
        rationale=decision.rationale,
        metadata=TriageResponseMetadata(
            **result.metadata.model_dump(), request_id=request_id_of(request.scope)
        ),
    )


@ops.get("/healthz", operation_id="health", summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health()


@ops.get(
    "/readyz",
    operation_id="readiness",
    summary="Readiness: config, prompts and lock valid; every alias has a usable deployment",
    response_model=Readiness,
    responses=_problems(NOT_READY),
)
async def readyz(request: Request, context: Context) -> Response | Readiness:
    checks = await context.readiness()
    failed = {name: status for name, status in checks.items() if status != "ok"}
    if failed:
        return problem_response(
            NOT_READY, request_id=request_id_of(request.scope), instance="/readyz", checks=failed
        )
    return Readiness(checks=checks)


@ops.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics() -> Response:
    body, media_type = metrics_exposition()
    return Response(body, media_type=media_type)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service app; `settings` default to the environment (`SQUAD_*`, `.env`)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.context = ServiceContext.start(settings)
        log.info(
            "service ready: prompts from %s, models from %s",
            settings.prompts_dir,
            settings.models_file,
        )
        yield
        app.state.context.close()
        log.info("service stopped")

    app = FastAPI(
        title=f"{_package()} service",
        version=API_VERSION,
        description="The squad's AI features for the core platform. Errors are RFC 9457 "
        "problem details (application/problem+json) carrying the request id.",
        lifespan=lifespan,
        redoc_url=None,
    )
    app.include_router(v1)
    app.include_router(ops)
    _add_error_handlers(app)
    app.openapi = _openapi_builder(app)  # type: ignore[method-assign]
    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.service_max_body_bytes,
        max_concurrency=settings.service_max_concurrency_per_client,
    )
    return app


def openapi_document(app: FastAPI | None = None) -> dict[str, Any]:
    """The contract as served at /openapi.json (no start-up needed)."""
    return (app or create_app(Settings())).openapi()


def _add_error_handlers(app: FastAPI) -> None:
    def handler(kind: ProblemKind, **extra: Any) -> Callable[[Request, Exception], Response]:
        def handle(request: Request, error: Exception) -> Response:
            log.warning("%s (request_id=%s): %s", kind.slug, request_id_of(request.scope), error)
            return problem_response(
                kind, request_id=request_id_of(request.scope), instance=request.url.path, **extra
            )

        return handle

    def invalid_request(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for it
        errors = [
            FieldError(loc=list(item["loc"]), msg=item["msg"], type=item["type"])
            for item in error.errors()
        ]
        return problem_response(
            INVALID_REQUEST,
            request_id=request_id_of(request.scope),
            instance=request.url.path,
            errors=errors,
        )

    def unavailable(request: Request, error: Exception) -> Response:
        log.warning(
            "providers-unavailable (request_id=%s): %s", request_id_of(request.scope), error
        )
        context = get_context(request)
        return problem_response(
            PROVIDERS_UNAVAILABLE,
            request_id=request_id_of(request.scope),
            instance=request.url.path,
            headers={"Retry-After": str(context.retry_after_s)},
        )

    def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)  # noqa: S101 - registered for it
        if error.status_code == 400:  # FastAPI's "error parsing the body": bad input, 422
            return problem_response(
                INVALID_REQUEST,
                request_id=request_id_of(request.scope),
                instance=request.url.path,
                errors=[FieldError(loc=["body"], msg="not valid JSON", type="json_invalid")],
            )
        kind = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED}.get(error.status_code)
        if kind is None:
            kind = ProblemKind("http-error", error.status_code, "HTTP error", str(error.detail))
        return problem_response(
            kind, request_id=request_id_of(request.scope), instance=request.url.path
        )

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(UnknownLabel, handler(UNKNOWN_LABEL))
    app.add_exception_handler(InvalidOutput, handler(INVALID_MODEL_OUTPUT))
    app.add_exception_handler(ProviderUnavailable, unavailable)
    app.add_exception_handler(DeadlineExceeded, handler(DEADLINE_EXCEEDED))
    app.add_exception_handler(StarletteHTTPException, http_error)


def _openapi_builder(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI documents every error as application/json; ours are problem+json."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status.isdigit() and int(status) >= 400 and "application/json" in content:
                        content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
                headers = {
                    "X-Request-ID": {
                        "description": "The request id (echoed or generated).",
                        "schema": {"type": "string"},
                    }
                }
                for response in operation.get("responses", {}).values():
                    response.setdefault("headers", {}).update(headers)
        app.openapi_schema = schema
        return schema

    return build


def _package() -> str:
    return (__package__ or "squad").split(".")[0]

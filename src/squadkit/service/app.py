"""The FastAPI app factory: operational routes, start-up wiring and the contract's shape.

Settings, the models config, the prompt registry and the gateway are built once in the
lifespan (a bad config stops the start-up with a one-line error); every request reuses
them. Features stay plain async functions: a route only validates input, calls one, and
maps the result or the typed error to the contract.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response

from ..errors import ConfigError
from ..plugins import squad_modules, squad_package
from ..settings import Settings
from .auth import OPEN_PATHS, Authenticator
from .context import DEGRADED, ServiceContext
from .docs import router as docs_router
from .feedback import router as feedback_router
from .guard import RequestGuard, request_id_of
from .guardrails import HALTED
from .handlers import add_error_handlers
from .http_series import NATIVE_TELEMETRY, HttpServerSeries
from .metrics import metrics_exposition
from .problems import (
    DEGRADED_NOT_READY,
    FORBIDDEN,
    NOT_READY,
    PROBLEM_MEDIA_TYPE,
    UNAUTHENTICATED,
    problem_response,
)
from .routing import Context, problem_responses
from .schemas import Health, Readiness

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"
"""The contract's version unless the squad's `<package>.routes` sets `API_VERSION` (bump it
with every change to contracts/openapi.json)."""

ops = APIRouter(tags=["operations"])

BEARER_SCHEME = "bearer"
"""The contract's security scheme: `Authorization: Bearer <token>` (see auth.py)."""


_NATIVE_METRICS_OFF: dict[str, Any] = {"telemetry": {"metrics": False}} if NATIVE_TELEMETRY else {}
"""FastAPI's own `http.server.*` series off: `HttpServerSeries` records them (see there)."""


class _Shutdown:
    """Whether this process began shutting down (a plain attribute: signal-handler safe)."""

    started = False


_shutdown = _Shutdown()


def begin_shutdown() -> None:
    """Mark the process as going away: `/readyz` answers 503 from now on (`squad serve`
    calls it from its SIGTERM handler, before uvicorn stops listening)."""
    _shutdown.started = True


@ops.get("/healthz", operation_id="health", summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health()


@ops.get(
    "/readyz",
    operation_id="readiness",
    summary="Readiness: config, prompts, lock and callers valid; every alias served by its "
    "first deployment",
    description="503 `not-ready` when a check fails; 503 `degraded` when an alias's first "
    "deployment is skipped (no key) or cooled down, so a later link would answer (200, the "
    "check reading `degraded: ...`, when SQUAD_SERVICE_READY_WHEN_DEGRADED=true). An "
    "experiment's arm halted by a guardrail is a check `experiment:NAME:ARM` reading "
    "`halted: ...` (still 200: its subjects get the control). Makes no call to any provider.",
    response_model=Readiness,
    responses=problem_responses(NOT_READY),
)
async def readyz(request: Request, context: Context) -> Response | Readiness:
    if _shutdown.started:
        return problem_response(
            NOT_READY,
            request_id=request_id_of(request.scope),
            instance="/readyz",
            checks={"shutdown": "shutting down: in-flight requests are finishing"},
        )
    checks = await context.readiness()
    callers_problem = request.app.state.authenticator.problem()
    checks["callers"] = "ok" if callers_problem is None else "invalid"
    failed = {
        name: status
        for name, status in checks.items()
        if status != "ok" and not status.startswith((DEGRADED, HALTED))
    }
    if failed:
        return problem_response(
            NOT_READY, request_id=request_id_of(request.scope), instance="/readyz", checks=failed
        )
    degraded = {name: status for name, status in checks.items() if status.startswith(DEGRADED)}
    if degraded and not context.settings.service_ready_when_degraded:
        return problem_response(
            DEGRADED_NOT_READY,
            request_id=request_id_of(request.scope),
            instance="/readyz",
            checks=degraded,
        )
    return Readiness(checks=checks)


@ops.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **problem_responses(UNAUTHENTICATED, FORBIDDEN),
    },
    description="Needs a caller with the `metrics` scope.",
)
async def metrics(request: Request, context: Context) -> Response:
    await context.cooled_down()  # sets the degraded gauge from the cooldowns of this moment
    body, media_type = metrics_exposition(request.headers.get("accept"))
    return Response(body, media_type=media_type)


def _freeze_start_up_heap() -> None:
    """Leave what start-up built (litellm's modules, the registry, the gateway: hundreds of
    thousands of objects that live as long as the process) out of the garbage collector's
    full collections, which otherwise walk all of it: each took 30-70 ms on the 2-core
    benchmark machine, every request waiting meanwhile, and set `POST /v1/feedback`'s
    p99 (issue 25). `gc.freeze` moves them to a permanent generation; what requests
    allocate is collected as before. Start-up's own garbage is collected first, so it is
    not kept for the life of the process."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service app; `settings` default to the environment (`SQUAD_*`, `.env`)."""
    settings = settings or Settings()
    authenticator = Authenticator(settings.callers_file)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.context = ServiceContext.start(settings)
        if app.state.context.guardrails is not None:
            app.state.context.guardrails.start()
        if not authenticator.callers():
            log.warning(
                "no callers declared in %s: every request but /healthz and /readyz gets 401; "
                "add one with `squad callers add NAME --scope FEATURE`",
                settings.callers_file,
            )
        log.info(
            "service ready: prompts from %s, models from %s",
            settings.prompts_dir,
            settings.models_file,
        )
        _freeze_start_up_heap()
        yield
        gc.unfreeze()  # what the app held can be collected once it is gone
        if app.state.context.guardrails is not None:
            await app.state.context.guardrails.stop()
        app.state.context.close()
        log.info("service stopped")

    app = FastAPI(
        title=f"{_package()} service",
        version=api_version(),
        description="The squad's AI features for the core platform. Every operation but "
        "/healthz and /readyz needs `Authorization: Bearer <token>` of a caller declared in "
        "config/callers.yaml, with the scope the operation needs. Errors are RFC 9457 "
        "problem details (application/problem+json) carrying the request id.",
        lifespan=lifespan,
        docs_url=None,  # served by docs.py from a packaged Swagger UI, not from a CDN
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        **_NATIVE_METRICS_OFF,
    )
    routers = [*squad_routers(), feedback_router, ops, docs_router]
    for router in routers:
        app.include_router(router)
    add_error_handlers(app)
    app.openapi = _openapi_builder(app)  # type: ignore[method-assign]
    app.state.authenticator = authenticator
    app.add_middleware(
        RequestGuard,
        authenticator=authenticator,
        max_body_bytes=settings.service_max_body_bytes,
        max_json_depth=settings.service_max_json_depth,
        max_concurrency=settings.service_max_concurrency_per_client,
    )
    if NATIVE_TELEMETRY:
        routes = [route for route in app.routes if hasattr(route, "path_format")]
        routes += [route for router in routers for route in router.routes]
        app.add_middleware(HttpServerSeries, routes=routes)  # outermost: sees every answer
    return app


def openapi_document(app: FastAPI | None = None) -> dict[str, Any]:
    """The contract as served at /openapi.json (no start-up needed)."""
    return (app or create_app(Settings())).openapi()


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
        for route, path in schema.get("paths", {}).items():
            if route not in OPS_PATHS:
                for operation in path.values():
                    _document_inference_headers(operation)
        for route, path in schema.get("paths", {}).items():
            if route in OPEN_PATHS:
                for operation in path.values():
                    operation["security"] = []  # probes answer anyone
        schema.setdefault("components", {})["securitySchemes"] = {
            BEARER_SCHEME: {
                "type": "http",
                "scheme": "bearer",
                "description": "A caller's token from `squad callers add` (one per calling "
                "system); its scopes decide which operations it may call.",
            }
        }
        schema["security"] = [{BEARER_SCHEME: []}]
        app.openapi_schema = schema
        return schema

    return build


OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/v1/feedback"})
"""The operational paths and feedback; every other operation is a feature's, logged in the
inference log."""


def _document_inference_headers(operation: dict[str, Any]) -> None:
    """A feature operation's `X-Episode-Id` header, `X-Inference-Id` and `X-Prompt-Version`
    response headers."""
    parameters = operation.setdefault("parameters", [])
    if not any(parameter.get("name", "").lower() == "x-episode-id" for parameter in parameters):
        parameters.append(
            {
                "name": "X-Episode-Id",
                "in": "header",
                "required": False,
                "description": "The caller's id for a group of related requests (a "
                "conversation, a case), stored with each inference; 1 to 128 letters, "
                "digits or . _ : - (else 422 invalid-episode-id).",
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:\\-]{1,128}$"},
            }
        )
    for status, response in operation.get("responses", {}).items():
        if status in ("401", "403", "413", "429"):
            continue  # refused before the feature ran: no inference
        response.setdefault("headers", {})["X-Inference-Id"] = {
            "description": "This answer's id in the inference log (UUIDv7), also in a "
            "failure's problem details; absent when the request was refused before the "
            "feature ran. Quote it to report on the answer.",
            "schema": {"type": "string"},
        }
        response["headers"]["X-Prompt-Version"] = {
            "description": "The prompt version that answered, as `name@vN` (an online "
            "experiment's arm's when one runs on the prompt's label, config/experiments.yaml).",
            "schema": {"type": "string"},
        }


def squad_routers() -> list[APIRouter]:
    """The `router` of every module in the squad's `<package>.routes` (see plugins)."""
    routers = []
    for module in squad_modules("routes"):
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            routers.append(router)
        elif router is not None or not hasattr(module, "__path__"):
            raise ConfigError(
                f"{module.__name__}: a route module must define `router = APIRouter(...)`"
            )
    return routers


def api_version() -> str:
    """The squad's `<package>.routes.API_VERSION`, else squadkit's default."""
    for module in squad_modules("routes")[:1]:
        return str(getattr(module, "API_VERSION", API_VERSION))
    return API_VERSION


def _package() -> str:
    return squad_package() or "squad"

"""The service's error handlers: every failure a route can raise, as RFC 9457 problem details.

Typed errors of the library (`ProviderUnavailable`, `InvalidOutput`, ...) and of FastAPI
and Starlette (validation, 404, 405) each map to one `ProblemKind` of `problems.py`; the
exception's own text goes to the log only. A 405 carries `Allow` with every method the
path answers (RFC 9110), so a client can correct itself without reading the contract.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from ..gateway import DeadlineExceeded, InvalidOutput, ProviderUnavailable
from .auth import Forbidden, Unauthenticated
from .feedback import FeedbackRefused
from .guard import inference_id_of, request_id_of
from .problems import (
    DEADLINE_EXCEEDED,
    FORBIDDEN,
    INVALID_MODEL_OUTPUT,
    INVALID_REQUEST,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PROVIDERS_UNAVAILABLE,
    UNAUTHENTICATED,
    UNKNOWN_LABEL,
    FieldError,
    ProblemKind,
    problem_response,
)
from .routing import UnknownLabel, get_context

__all__ = ["add_error_handlers", "allowed_methods"]

log = logging.getLogger(__name__)

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
"""The methods a route may answer, in the order `Allow` lists them."""


def add_error_handlers(app: FastAPI) -> None:
    """Map every typed failure, and FastAPI's and Starlette's own errors, to problem details."""

    def handler(kind: ProblemKind, **extra: Any) -> Callable[[Request, Exception], Response]:
        def handle(request: Request, error: Exception) -> Response:
            log.warning("%s (request_id=%s): %s", kind.slug, request_id_of(request.scope), error)
            return problem_response(
                kind,
                request_id=request_id_of(request.scope),
                instance=request.url.path,
                inference_id=inference_id_of(request.scope),
                **extra,
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
            inference_id=inference_id_of(request.scope),
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
        headers = None
        if kind is METHOD_NOT_ALLOWED:
            allowed = allowed_methods(request.app, request.scope)
            headers = {"Allow": ", ".join(allowed)}
            if allowed:
                detail = (
                    f"{request.method} is not allowed on {request.url.path}; use "
                    f"{' or '.join(allowed)} (listed in the Allow header)."
                )
                kind = ProblemKind(kind.slug, kind.status, kind.title, detail)
        if kind is None:
            kind = ProblemKind("http-error", error.status_code, "HTTP error", str(error.detail))
        return problem_response(
            kind,
            request_id=request_id_of(request.scope),
            instance=request.url.path,
            headers=headers,
        )

    def refused(request: Request, error: Exception) -> Response:
        request_id = request_id_of(request.scope)
        if isinstance(error, Forbidden):
            log.warning("forbidden (request_id=%s): %s", request_id, error)
            return problem_response(
                FORBIDDEN,
                request_id=request_id,
                instance=request.url.path,
                detail=f"Caller '{error.caller}' lacks the scope '{error.scope}' this request "
                "needs; ask the squad to add it to config/callers.yaml.",
            )
        return problem_response(
            UNAUTHENTICATED,
            request_id=request_id,
            instance=request.url.path,
            headers={"WWW-Authenticate": 'Bearer realm="squad"'},
        )

    def unknown_label(request: Request, error: Exception) -> Response:
        assert isinstance(error, UnknownLabel)  # noqa: S101 - registered for it
        log.warning("unknown-prompt-label (request_id=%s): %s", request_id_of(request.scope), error)
        has = f" (it has: {', '.join(error.known)})" if error.known else ""
        return problem_response(
            UNKNOWN_LABEL,
            request_id=request_id_of(request.scope),
            instance=request.url.path,
            inference_id=inference_id_of(request.scope),
            detail=f"The X-Prompt-Label header names a label this prompt does not have{has}; "
            "omit it to use production.",
        )

    def feedback_refused(request: Request, error: Exception) -> Response:
        assert isinstance(error, FeedbackRefused)  # noqa: S101 - registered for it
        return problem_response(
            error.kind,
            request_id=request_id_of(request.scope),
            instance=request.url.path,
            detail=error.detail,
        )

    app.add_exception_handler(FeedbackRefused, feedback_refused)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Forbidden, refused)
    app.add_exception_handler(Unauthenticated, refused)
    app.add_exception_handler(UnknownLabel, unknown_label)
    app.add_exception_handler(InvalidOutput, handler(INVALID_MODEL_OUTPUT))
    app.add_exception_handler(ProviderUnavailable, unavailable)
    app.add_exception_handler(DeadlineExceeded, handler(DEADLINE_EXCEEDED))
    app.add_exception_handler(StarletteHTTPException, http_error)


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route of `app` answers on the path of `scope` (RFC 9110's `Allow`
    of a 405). Starlette's own names only the first route matching the path, and FastAPI
    nests included routers, so each method is tried against the app's routing as it is."""
    return [
        method
        for method in HTTP_METHODS
        if any(
            route.matches({**scope, "method": method})[0] is Match.FULL
            for route in app.router.routes
        )
    ]

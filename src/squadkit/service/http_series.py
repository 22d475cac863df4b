"""The service's `http.server.*` series, recorded as FastAPI's native telemetry records them.

FastAPI 0.165 records `http.server.request.duration` and `http.server.active_requests`
whenever a global meter provider is set (the service's, for /metrics), and `/metrics` has
served them since. Its native telemetry wraps every request to do so (request-scoped
objects, two OpenTelemetry context switches, a walk of the middleware stack): about 6% of
a served request's instructions, for two measurements. The app turns FastAPI's metrics off
(`telemetry={"metrics": False}`; its spans and logs, when configured, are unchanged) and
this middleware, the outermost of ours, records the same two series: the same meter
(`fastapi`, its version and schema URL), instruments, attribute names, values and order,
measured at the same moments (before the app runs; when the response's last body part is
sent, or the request fails). `tests/library/service/test_http_series.py` holds the
exported points to FastAPI's own for the same requests.

`http.route` is the route FastAPI selected, including the one a slash redirect points to
(FastAPI answers `/v1/triage/` with a 307 to `/v1/triage` and labels it with that route).
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi import __version__ as fastapi_version
from opentelemetry import metrics
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["NATIVE_TELEMETRY", "HttpServerSeries"]

NATIVE_TELEMETRY = "telemetry" in inspect.signature(FastAPI).parameters
"""Whether this FastAPI records the `http.server.*` series itself (0.165 and later): only
then does the app hand them to `HttpServerSeries` (an older FastAPI records none)."""

_SCHEMA_URL = "https://opentelemetry.io/schemas/1.44.0"
_DURATION_BUCKETS = (
    *(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75),
    *(1.0, 2.5, 5.0, 7.5, 10.0),
)
_HTTP_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE"}
)
_PROXY_PROVIDER = ("opentelemetry.metrics._internal", "_ProxyMeterProvider")
"""The API's stand-in until a meter provider is set: FastAPI records nothing then."""


class HttpServerSeries:
    """See the module docstring. `routes` are the app's routes, in the order FastAPI tries
    them, to label a slash redirect."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self._routes = routes
        known = os.getenv("OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", "").strip()
        self._known_methods = (
            frozenset(method.strip() for method in known.split(",") if method.strip())
            if known
            else _HTTP_METHODS
        )
        self._provider: object = None
        self._instruments: tuple[Any, Any] | None = None

    def instruments(self) -> tuple[Any, Any] | None:
        """The duration histogram and the active-requests counter of the global meter
        provider (created once per provider, as FastAPI does), or None when none is set."""
        provider = metrics.get_meter_provider()
        if provider is not self._provider:
            kind = type(provider)
            self._instruments = None
            unset = (kind.__module__, kind.__name__) == _PROXY_PROVIDER
            if not unset and not isinstance(provider, metrics.NoOpMeterProvider):
                meter = provider.get_meter("fastapi", fastapi_version, schema_url=_SCHEMA_URL)
                self._instruments = (
                    meter.create_histogram(
                        "http.server.request.duration",
                        unit="s",
                        description="Duration of HTTP server requests.",
                        explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
                    ),
                    meter.create_up_down_counter(
                        "http.server.active_requests",
                        unit="{request}",
                        description="Number of active HTTP server requests.",
                    ),
                )
            self._provider = provider
        return self._instruments

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        instruments = self.instruments() if scope["type"] == "http" else None
        if instruments is None:
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(self, scope, receive, send, instruments)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except BaseException as error:
            exchange.finish(error, escaped=True)
            raise
        finally:
            if not exchange.finished:
                exchange.finish(
                    ConnectionError("Client disconnected")
                    if exchange.disconnected
                    else RuntimeError("Incomplete ASGI response")
                )

    def route_of(self, scope: Scope) -> str | None:
        """The path format of the route FastAPI selected for this request, if any."""
        route = scope.get("route")
        if route is not None:
            return getattr(route, "path_format", None)
        return None

    def redirect_route(self, scope: Scope) -> str | None:
        """The route a slash redirect of this request points to (as FastAPI's router finds
        it: the first route the path with its trailing slash added or removed matches)."""
        path: str = scope["path"]
        flipped = dict(scope, path=path.rstrip("/") if path.endswith("/") else path + "/")
        for route in self._routes:
            match, _ = route.matches(flipped)
            if match != Match.NONE:
                return getattr(route, "path_format", None)
        return None


class _Exchange:
    """One request's measurements (FastAPI's `NativeTelemetry.__call__`, metrics only)."""

    __slots__ = (
        "_active",
        "_active_attributes",
        "_attributes",
        "_duration",
        "_inner_receive",
        "_inner_send",
        "_series",
        "_started",
        "_status",
        "_trailers",
        "disconnected",
        "finished",
        "scope",
    )

    def __init__(
        self,
        series: HttpServerSeries,
        scope: Scope,
        receive: Receive,
        send: Send,
        instruments: tuple[Any, Any],
    ) -> None:
        self._series = series
        self.scope = scope
        self._inner_receive = receive
        self._inner_send = send
        self._duration, self._active = instruments
        method = scope.get("method", "")
        self._active_attributes: dict[str, Any] = {
            "url.scheme": scope.get("scheme", "http"),
            "http.request.method": method if method in series._known_methods else "_OTHER",
        }
        self._attributes = dict(self._active_attributes)
        if scope.get("http_version"):
            self._attributes["network.protocol.version"] = scope["http_version"]
        self._status: int | None = None
        self._trailers = False
        self.disconnected = False
        self.finished = False
        self._active.add(1, self._active_attributes)
        self._started = time.perf_counter()

    async def receive(self) -> Message:
        message = await self._inner_receive()
        if message["type"] == "http.disconnect":
            self.disconnected = True
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._status = message["status"]
            self._trailers = message.get("trailers", False)
        await self._inner_send(message)
        if _ends_response(message, trailers=self._trailers):
            self.finish()

    def finish(self, error: BaseException | None = None, *, escaped: bool = False) -> None:
        """Record the request's duration and its end (once). An exception that `escaped`
        the guard before a response started gets Starlette's 500, sent outside this
        middleware (FastAPI's telemetry, outermost, saw it)."""
        if self.finished:
            return
        self.finished = True
        attributes, status = self._attributes, self._status
        if escaped and status is None and isinstance(error, Exception):
            status = 500  # ServerErrorMiddleware's answer (no handler for 500 is added)
        route = self._series.route_of(self.scope)
        if route is None and status == 307:
            route = self._series.redirect_route(self.scope)
        if route is not None:
            attributes["http.route"] = route
        if status is not None:
            attributes["http.response.status_code"] = status
        if error is not None:
            attributes["error.type"] = _exception_type(error)
        elif status is None or status >= 500:
            attributes["error.type"] = str(status or "incomplete_response")
        self._duration.record(max(0, time.perf_counter() - self._started), attributes)
        self._active.add(-1, self._active_attributes)


def _ends_response(message: Message, *, trailers: bool) -> bool:
    """Whether `message` is a response's last (its last body part unless trailers follow,
    its last trailers, or a path send)."""
    kind = message["type"]
    if kind == "http.response.body":
        return not trailers and not message.get("more_body", False)
    if kind == "http.response.trailers":
        return not message.get("more_trailers", False)
    return bool(kind == "http.response.pathsend")


def _exception_type(error: BaseException) -> str:
    """`error.type` of an exception, as FastAPI spells it (`module.Qualname`, no module for
    builtins)."""
    kind = type(error)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"

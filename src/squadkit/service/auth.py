"""Caller authentication: `Authorization: Bearer <token>` on every route but the probes.

The guard (`guard.py`) authenticates each request before reading its body: a missing,
unknown or revoked token is 401, a caller without the scope a fixed path needs (`docs` for
/docs, its assets and /openapi.json, `metrics` for /metrics) is 403. Feature routes check
the feature's own scope, and `label-override` for `X-Prompt-Label`, in `serve_feature`,
which reads the caller from `current_caller`.

The callers file is read at start-up and again whenever its modification time changes,
so adding or revoking a caller needs no restart. A file that stops being valid locks
every caller out (and fails /readyz) until it is fixed: failing open would keep a
revoked caller in.
"""

from __future__ import annotations

import logging
import os
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from ..errors import SquadError
from .callers import DOCS, FEEDBACK, LABEL_OVERRIDE, METRICS, Caller, find_caller, load_callers

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/healthz", "/readyz"})
"""Probes answer anyone: a load balancer or orchestrator holds no token."""

PATH_SCOPES = {
    "/docs": DOCS,
    "/openapi.json": DOCS,
    "/metrics": METRICS,
    "/v1/feedback": FEEDBACK,
}
"""Fixed paths and the scope each needs; feature routes check theirs in `serve_feature`."""

PREFIX_SCOPES = (("/docs/", DOCS),)
"""Path prefixes and the scope each needs (Swagger UI's assets under /docs/assets/)."""

current_caller: ContextVar[Caller | None] = ContextVar("squad_caller", default=None)
"""The authenticated caller of the request being served (set by the guard)."""


class Unauthenticated(SquadError):
    """No valid bearer token: missing, malformed, unknown or revoked (401)."""


class Forbidden(SquadError):
    """An authenticated caller lacks the scope this request needs (403)."""

    def __init__(self, caller: str, scope: str) -> None:
        super().__init__(f"caller '{caller}' lacks scope '{scope}'")
        self.caller = caller
        self.scope = scope


@dataclass
class _Loaded:
    stamp: tuple[int, int] | None
    callers: list[Caller]
    problem: str | None = None


class Authenticator:
    """The callers of `path`, reloaded when the file changes; see the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._loaded = _Loaded(stamp=(-1, -1), callers=[])

    def callers(self) -> list[Caller]:
        """The callers now declared (none while the file is invalid)."""
        return self._current().callers

    def problem(self) -> str | None:
        """Why the callers file is unusable now, or None (for /readyz)."""
        return self._current().problem

    def authenticate(self, authorization: str | None, path: str) -> Caller:
        """The caller presenting `authorization`, allowed on `path` (its fixed scope).

        Raises `Unauthenticated` (401) or `Forbidden` (403).
        """
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("send `Authorization: Bearer <token>`")
        caller = find_caller(self.callers(), token)
        if caller is None or caller.revoked:
            raise Unauthenticated("the bearer token is unknown or revoked")
        scope = PATH_SCOPES.get(path) or next(
            (scope for prefix, scope in PREFIX_SCOPES if path.startswith(prefix)), None
        )
        if scope is not None and not caller.may(scope):
            raise Forbidden(caller.name, scope)
        return caller

    def _current(self) -> _Loaded:
        try:
            stat = os.stat(self.path)
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        if stamp == self._loaded.stamp:
            return self._loaded
        with self._lock:
            if stamp != self._loaded.stamp:
                try:
                    self._loaded = _Loaded(stamp, load_callers(self.path))
                    log.info("callers: %d declared in %s", len(self._loaded.callers), self.path)
                except SquadError as error:
                    log.error("callers file invalid, every caller refused: %s", error)
                    self._loaded = _Loaded(stamp, [], problem=str(error))
        return self._loaded


def require_scope(scope: str) -> Caller:
    """The current caller if it has `scope`; `Forbidden` otherwise (or `Unauthenticated`
    outside an authenticated request)."""
    caller = current_caller.get()
    if caller is None:
        raise Unauthenticated("no authenticated caller for this request")
    if not caller.may(scope):
        raise Forbidden(caller.name, scope)
    return caller


def require_label_override() -> Caller:
    """The current caller if it may choose a prompt label (`X-Prompt-Label`)."""
    return require_scope(LABEL_OVERRIDE)

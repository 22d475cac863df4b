"""The telemetry seam: what the observer needs of a traces and metrics backend.

`Telemetry` and `SpanHandle` are the protocols the OpenTelemetry backend (`otel`)
implements; `NoTelemetry` is the backend when there is none (observability=none,
`OTEL_SDK_DISABLED`), so the observer still logs. Kept apart so a backend depends on these
few types, not on the observer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

AttributeValue = str | bool | int | float | Sequence[str]
Attributes = dict[str, AttributeValue]


class SpanHandle(Protocol):
    """The part of a span the observer uses."""

    def add_event(self, name: str, attributes: Attributes) -> None: ...

    def set_attributes(self, attributes: Attributes) -> None: ...

    def end(self, error_type: str | None) -> None: ...

    def trace_ids(self) -> tuple[str, str] | None: ...


class Telemetry(Protocol):
    """A traces+metrics backend; metrics are named by the constants in `semconv`."""

    def start_span(self, name: str, attributes: Attributes) -> SpanHandle: ...

    def record(self, metric: str, value: float, attributes: Attributes) -> None: ...

    # Optional: `bind(metric, attributes) -> Callable[[float], None]`, `record` with a set of
    # attributes the caller reuses unchanged (the observer's per-deployment series); the
    # observer calls `record` on a backend without it.

    def shutdown(self) -> None: ...


class _NoSpan:
    def add_event(self, name: str, attributes: Attributes) -> None:
        return None

    def set_attributes(self, attributes: Attributes) -> None:
        return None

    def end(self, error_type: str | None) -> None:
        return None

    def trace_ids(self) -> tuple[str, str] | None:
        return None


NO_SPAN = _NoSpan()
"""The span of a call no backend records: every method does nothing."""


class NoTelemetry:
    """No traces, no metrics: the observer still logs (observability=none, OTEL_SDK_DISABLED)."""

    def start_span(self, name: str, attributes: Attributes) -> SpanHandle:
        return NO_SPAN

    def record(self, metric: str, value: float, attributes: Attributes) -> None:
        return None

    def bind(self, metric: str, attributes: Attributes) -> Callable[[float], None]:
        return discard

    def shutdown(self) -> None:
        return None


def discard(value: float) -> None:
    """A bound series that records nothing (a backend without the metric, or without any)."""

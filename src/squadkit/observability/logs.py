"""Structured logs: one JSON object per line in production, readable lines in development.

Every record carries the current trace and span ids when tracing is on, plus whatever the
caller passed in `extra=` (the observer passes prompt name/version, alias, deployment,
latency, tokens, cost and outcome). The final line goes through the `Redactor`, so a key
or an email that reaches a message (a provider's error text, say) is scrubbed.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any, Literal, TextIO

from .redaction import Redactor

TraceIds = Callable[[], tuple[str, str] | None]

# Attributes every LogRecord has; anything else came from `extra=` and is a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_NOISY = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm", "httpx", "httpcore")


def _no_trace() -> tuple[str, str] | None:
    return None


_trace_ids: TraceIds = _no_trace


def set_trace_ids_provider(provider: TraceIds) -> None:
    """Tracing installs a function returning the current (trace_id, span_id) in hex."""
    global _trace_ids  # noqa: PLW0603 - one process-wide hook, set once at start-up
    _trace_ids = provider


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = {key: value for key, value in record.__dict__.items() if key not in _STANDARD}
    if "trace_id" not in fields and (ids := _trace_ids()) is not None:
        fields["trace_id"], fields["span_id"] = ids
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, then the event's fields."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self._redact = redactor or Redactor(())

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return self._redact(json.dumps(line, default=str, ensure_ascii=False))


class ConsoleFormatter(logging.Formatter):
    """`12:00:01 INFO  logger: message key=value ...` for people reading a terminal."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self._redact = redactor or Redactor(())

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        fields = _fields(record)
        fields.pop("span_id", None)
        extras = " ".join(f"{key}={value}" for key, value in fields.items() if value is not None)
        text = f"{stamp} {record.levelname:<5} {record.name}: {record.getMessage()}"
        if extras:
            text += f"  {extras}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return self._redact(text)


class _SquadHandler(logging.StreamHandler[TextIO]):
    """Marker type so `configure_logging` replaces its own handler and nobody else's."""


def configure_logging(
    *,
    level: str = "INFO",
    fmt: Literal["console", "json"] = "console",
    redactor: Redactor | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Install one handler on the root logger (idempotent) and quiet chatty libraries."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _SquadHandler)]:
        root.removeHandler(handler)
    handler = _SquadHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(redactor) if fmt == "json" else ConsoleFormatter(redactor))
    root.addHandler(handler)
    root.setLevel(level)
    for name in _NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler

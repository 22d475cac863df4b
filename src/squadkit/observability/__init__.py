"""Observability: structured logs, GenAI traces and metrics, online quality signals.

`setup_observability(settings)` once per process (CLI, service); the gateway reports every
call to `get_observer()`. OpenTelemetry is used when the repo was generated with
observability=otlp; otherwise the observer writes structured logs only. Nothing here
imports the OpenTelemetry SDK until `setup_observability` runs.
"""

from .config import capture_content, load_observability_config
from .logs import configure_logging
from .observer import GenAIObserver
from .quality import DriftMonitor, QualitySampler, QualityScore, build_scorers, score_sink
from .redaction import Redactor
from .runtime import (
    get_observer,
    otel_available,
    persistence_redactor,
    setup_observability,
    shutdown_observability,
)

__all__ = [
    "DriftMonitor",
    "GenAIObserver",
    "QualitySampler",
    "QualityScore",
    "Redactor",
    "build_scorers",
    "capture_content",
    "configure_logging",
    "get_observer",
    "load_observability_config",
    "otel_available",
    "persistence_redactor",
    "score_sink",
    "setup_observability",
    "shutdown_observability",
]

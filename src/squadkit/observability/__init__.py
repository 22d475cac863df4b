"""Observability: structured logs, GenAI traces and metrics, online quality signals.

`setup_observability(settings)` once per process (CLI, service); the gateway reports every
call to `get_observer()`. OpenTelemetry is used when the repo was generated with
observability=otlp; otherwise the observer writes structured logs only. Nothing here
imports the OpenTelemetry SDK until `setup_observability` runs.
"""

from .config import ObservabilityConfig, capture_content, load_observability_config
from .logs import configure_logging
from .observer import CallRecord, GenAIObserver
from .quality import DriftMonitor, DriftStatus, QualitySampler, QualityScore, build_scorers
from .redaction import Redactor
from .runtime import (
    get_observer,
    otel_available,
    persistence_redactor,
    setup_observability,
    shutdown_observability,
)
from .semconv import SEMCONV_VERSION
from .telemetry import NoTelemetry, Telemetry

__all__ = [
    "SEMCONV_VERSION",
    "CallRecord",
    "DriftMonitor",
    "DriftStatus",
    "GenAIObserver",
    "NoTelemetry",
    "ObservabilityConfig",
    "QualitySampler",
    "QualityScore",
    "Redactor",
    "Telemetry",
    "build_scorers",
    "capture_content",
    "configure_logging",
    "get_observer",
    "load_observability_config",
    "otel_available",
    "persistence_redactor",
    "setup_observability",
    "shutdown_observability",
]

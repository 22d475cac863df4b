"""`/metrics`: Prometheus text exposition of the process's metrics.

The GenAI metrics come from observability (OpenTelemetry's Prometheus reader, set up with
`prometheus=True` at start-up). When the repo was generated without OpenTelemetry that is
empty, so the process metrics of prometheus_client's default registry are served instead.
"""

from __future__ import annotations

from ..observability import metrics_exposition as genai_metrics


def metrics_exposition() -> tuple[bytes, str]:
    """(body, media type) for a Prometheus scrape."""
    body, media_type = genai_metrics()
    if body:
        return body, media_type
    from prometheus_client import (  # noqa: PLC0415 - only the service needs it
        CONTENT_TYPE_LATEST,
        REGISTRY,
        generate_latest,
    )

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

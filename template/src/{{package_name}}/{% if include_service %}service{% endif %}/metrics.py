"""`/metrics`: the process's Prometheus registry in the text exposition format."""

from __future__ import annotations


def metrics_exposition() -> tuple[bytes, str]:
    """(body, media type) of everything registered with prometheus_client's default registry."""
    from prometheus_client import (  # noqa: PLC0415 - only the service needs it
        CONTENT_TYPE_LATEST,
        REGISTRY,
        generate_latest,
    )

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

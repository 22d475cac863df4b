"""`/metrics`: prometheus_client's process-wide registry, in the format the scraper asks for.

Observability puts the GenAI metrics there (OpenTelemetry's Prometheus reader, set up with
`prometheus=True` at start-up), beside prometheus_client's own process and GC metrics. When
the repo was generated without OpenTelemetry only those are served. The format follows the
scrape's `Accept` header (Prometheus text, or OpenMetrics), as prometheus_client's own
handlers do.
"""

from __future__ import annotations


def metrics_exposition(accept: str | None = None) -> tuple[bytes, str]:
    """(body, media type) for a Prometheus scrape sending `accept`."""
    from prometheus_client import REGISTRY  # noqa: PLC0415 - only the service needs it
    from prometheus_client.exposition import choose_encoder  # noqa: PLC0415

    encoder, media_type = choose_encoder(accept or "")
    return encoder(REGISTRY), media_type

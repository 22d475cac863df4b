"""`/metrics`: prometheus_client's process-wide registry, in the format the scraper asks for,
and the service's own counters of what callers say about its answers.

Observability puts the GenAI metrics there (OpenTelemetry's Prometheus reader, set up with
`prometheus=True` at start-up), beside prometheus_client's own process and GC metrics. When
the repo was generated without OpenTelemetry only those are served. The format follows the
scrape's `Accept` header (Prometheus text, or OpenMetrics), as prometheus_client's own
handlers do.

Feedback is seen where the on-call engineer looks (the Grafana dashboard), per prompt
version, from three series that need no OpenTelemetry:

- `squad_inferences_total{feature, prompt, prompt_version, outcome}`: answers logged;
- `squad_feedback_total{metric, prompt, prompt_version, value}`: feedback stored (`value`
  for booleans and categories, `-` for numbers and corrections), so the feedback rate of a
  version is `squad_feedback_total / squad_inferences_total`;
- `squad_feedback_score{metric, prompt, prompt_version}`: a histogram of the score a
  feedback amounts to, in [0, 1] (true 1, false 0, a number scaled over its declared
  `min`..`max`), whose buckets are the value buckets and `_sum / _count` the mean score.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..inferences import FeedbackMetric, FeedbackRow

__all__ = ["count_feedback", "count_inference", "feedback_score", "metrics_exposition"]

SCORE_BUCKETS = (0.0, 0.25, 0.5, 0.75, 1.0)
_METRICS: dict[str, Any] = {}  # made on first use: prometheus_client is the service's own
_MAKING = threading.Lock()
_INFERENCE_COUNTERS: dict[tuple[str, str | None, int | None, str], Any] = {}


def metrics_exposition(accept: str | None = None) -> tuple[bytes, str]:
    """(body, media type) for a Prometheus scrape sending `accept`."""
    from prometheus_client import REGISTRY  # noqa: PLC0415 - only the service needs it
    from prometheus_client.exposition import choose_encoder  # noqa: PLC0415

    encoder, media_type = choose_encoder(accept or "")
    return encoder(REGISTRY), media_type


def count_inference(
    feature: str, prompt: str | None, prompt_version: int | None, outcome: str
) -> None:
    """One answer logged (the denominator of the feedback rate). Each label set's child is
    kept: `labels()` per answer cost more than the rest of logging it."""
    key = (feature, prompt, prompt_version, outcome)
    child = _INFERENCE_COUNTERS.get(key)
    if child is None:
        child = _metric("inferences").labels(
            feature, prompt or "-", "-" if prompt_version is None else str(prompt_version), outcome
        )
        _INFERENCE_COUNTERS[key] = child
    child.inc()


def count_feedback(row: FeedbackRow, metric: FeedbackMetric) -> None:
    """One feedback stored: its count by value and, where it has one, its score."""
    version = "-" if row.prompt_version is None else str(row.prompt_version)
    shown = str(row.value).lower() if metric.kind in ("boolean", "category") else "-"
    _metric("feedback").labels(row.metric, row.prompt or "-", version, shown).inc()
    score = feedback_score(metric, row.value)
    if score is not None:
        _metric("score").labels(row.metric, row.prompt or "-", version).observe(score)


def feedback_score(metric: FeedbackMetric, value: Any) -> float | None:
    """What a feedback says of an answer in [0, 1]: true 1, false 0, a number scaled over
    its declared range (as is without one); None for categories and corrections, which
    have no order the service could know."""
    if metric.kind == "boolean":
        return 1.0 if value is True else 0.0
    if metric.kind != "number":
        return None
    number = float(value)
    if metric.min is not None and metric.max is not None and metric.max > metric.min:
        return (number - metric.min) / (metric.max - metric.min)
    return number


def _metric(name: str) -> Any:
    found = _METRICS.get(name)
    if found is not None:
        return found
    with _MAKING:  # a second registration of one name would raise
        return _METRICS.get(name) or _make(name)


def _make(name: str) -> Any:
    from prometheus_client import Counter, Histogram  # noqa: PLC0415

    made: Any
    if name == "inferences":
        made = Counter(
            "squad_inferences",
            "Answers logged, by feature, prompt version and outcome.",
            ["feature", "prompt", "prompt_version", "outcome"],
        )
    elif name == "feedback":
        made = Counter(
            "squad_feedback",
            "Feedback received, by metric, prompt version and (boolean, category) value.",
            ["metric", "prompt", "prompt_version", "value"],
        )
    else:
        made = Histogram(
            "squad_feedback_score",
            "The score a feedback gives an answer, in [0, 1], by metric and prompt version.",
            ["metric", "prompt", "prompt_version"],
            buckets=SCORE_BUCKETS,
        )
    _METRICS[name] = made
    return made

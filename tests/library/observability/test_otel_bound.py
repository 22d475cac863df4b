"""`OTelTelemetry.bind`: a reused attribute set's series exports what `record` exports.

The bound series skips the SDK's per-measurement cleaning and hashing of the attributes
(`otel._BoundSeries`), so it is held here to the same points, read by OpenTelemetry's
in-memory readers (cumulative and delta) and by a Prometheus registry, as the public path.
"""

from typing import Any

import pytest
from opentelemetry.sdk.metrics import Counter, Histogram
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from prometheus_client import CollectorRegistry, generate_latest

from squadkit.observability import otel
from squadkit.observability import semconv as sc
from squadkit.observability.otel import OTelTelemetry, for_tests

ATTRIBUTES: dict[str, Any] = {
    sc.OPERATION_NAME: "chat",
    sc.REQUEST_MODEL: "triage-rubric-v1",
    sc.ALIAS: "triage",
    sc.PROMPT_VERSION: "2",
}
DELTA: dict[type, AggregationTemporality] = {
    Counter: AggregationTemporality.DELTA,
    Histogram: AggregationTemporality.DELTA,
}
# What one call records, twice collected in between; -1 and nan are refused with a warning.
STEPS: list[tuple[str, float]] = [
    (sc.METRIC_DURATION, 0.012),
    (sc.METRIC_TOKENS, 254),
    (sc.METRIC_COST, 0.25),
    ("collect", 0),
    (sc.METRIC_DURATION, 3.5),
    (sc.METRIC_TOKENS, 26),
    (sc.METRIC_DURATION, -1),
    (sc.METRIC_COST, float("nan")),
    ("collect", 0),
    (sc.METRIC_DURATION, 0.0),
    (sc.METRIC_COST, 1),
]


class Backend:
    def __init__(self) -> None:
        self.cumulative = InMemoryMetricReader()
        self.delta = InMemoryMetricReader(preferred_temporality=DELTA)
        self.prometheus = CollectorRegistry()
        self.telemetry: OTelTelemetry = for_tests(
            None, [self.cumulative, self.delta], prometheus_registry=self.prometheus
        )
        self.collected: list[Any] = []

    def collect(self) -> None:
        for reader in (self.cumulative, self.delta):
            self.collected.append(_points(reader))
        self.collected.append(generate_latest(self.prometheus).decode())


def _points(reader: InMemoryMetricReader) -> list[tuple[Any, ...]]:
    """Every exported point without its timestamps."""
    data = reader.get_metrics_data()
    points = []
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    fields = {
                        k: v
                        for k, v in vars(point).items()
                        if k not in ("start_time_unix_nano", "time_unix_nano", "exemplars")
                    }
                    points.append((metric.name, metric.unit, repr(sorted(fields.items()))))
    return sorted(points)


def _run(bound: bool) -> Backend:
    backend = Backend()
    series = {
        metric: backend.telemetry.bind(metric, ATTRIBUTES)
        for metric in (sc.METRIC_DURATION, sc.METRIC_TOKENS, sc.METRIC_COST)
    }
    for step, value in STEPS:
        if step == "collect":
            backend.collect()
        elif bound:
            series[step](value)
        else:
            backend.telemetry.record(step, value, ATTRIBUTES)
    backend.collect()
    return backend


def test_bound_series_export_what_record_exports() -> None:
    recorded, bound = _run(bound=False), _run(bound=True)
    assert bound.collected == recorded.collected
    assert "gen_ai_client_operation_duration_seconds_count" in bound.collected[-1]


def test_the_bound_series_is_the_fast_one_on_the_checked_sdk() -> None:
    telemetry = for_tests(None, [InMemoryMetricReader()])
    bound = telemetry.bind(sc.METRIC_DURATION, ATTRIBUTES)
    assert getattr(bound, "__self__", None).__class__ is otel._BoundSeries


def test_on_another_sdk_release_bind_records_through_the_public_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(otel, "_CHECKED_SDK", "0.0.")
    recorded = _run(bound=False)
    bound = _run(bound=True)
    assert bound.collected == recorded.collected
    fallback = bound.telemetry.bind(sc.METRIC_DURATION, ATTRIBUTES)
    assert getattr(fallback, "__self__", None).__class__ is not otel._BoundSeries

"""`OTelTelemetry.bind`: a reused attribute set's series exports what `record` exports.

The bound series skips the SDK's per-measurement cleaning and hashing of the attributes
(`bound_module.BoundSeries`), so it is held here to the same points, read by OpenTelemetry's
in-memory readers (cumulative and delta) and by a Prometheus registry, as the public path.
"""

from typing import Any

import pytest
from opentelemetry.sdk.metrics import Counter, Histogram
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from prometheus_client import CollectorRegistry, generate_latest

from squadkit.observability import bound as bound_module
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


def _points(reader: InMemoryMetricReader, drop: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    """Every exported point without its timestamps (nor the fields in `drop`)."""
    data = reader.get_metrics_data()
    points = []
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    fields = {
                        k: v
                        for k, v in vars(point).items()
                        if k not in ("start_time_unix_nano", "time_unix_nano", "exemplars", *drop)
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
    assert getattr(bound, "__self__", None).__class__ is bound_module.BoundSeries


def test_on_another_sdk_release_bind_records_through_the_public_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bound_module, "CHECKED_SDK", "0.0.")
    recorded = _run(bound=False)
    bound = _run(bound=True)
    assert bound.collected == recorded.collected
    fallback = bound.telemetry.bind(sc.METRIC_DURATION, ATTRIBUTES)
    assert getattr(fallback, "__self__", None).__class__ is not bound_module.BoundSeries


def _fastapi_points(provider_of: Any) -> list[Any]:
    """What FastAPI's native telemetry exports for the same requests (200s, 401, 404, 422,
    500), its meter provider `provider_of(the SDK's)`, read cumulative and delta after each
    of two rounds (the durations' sums, extremes and buckets left out: two runs take
    different times; counts, series and active requests kept)."""
    from fastapi import FastAPI, HTTPException  # noqa: PLC0415
    from fastapi.testclient import TestClient  # noqa: PLC0415
    from opentelemetry.sdk.metrics import MeterProvider  # noqa: PLC0415

    readers = [InMemoryMetricReader(), InMemoryMetricReader(preferred_temporality=DELTA)]
    sdk = MeterProvider(metric_readers=readers)
    app = FastAPI(telemetry={"meter_provider": provider_of(sdk), "tracing": False})

    @app.post("/items/{item}")
    async def item(item: int, body: dict[str, int]) -> dict[str, int]:
        if item == 401:
            raise HTTPException(401)
        if item == 500:
            raise RuntimeError("boom")
        return body

    collected = []
    with TestClient(app, raise_server_exceptions=False) as client:
        for _ in range(2):
            for path in (
                "/items/1",
                "/items/2",
                "/items/401",
                "/nowhere",
                "/items/x",
                "/items/500",
            ):
                client.post(path, json={"a": 1})
            collected += [_points(reader, drop=TIMED) for reader in readers]
    sdk.shutdown()
    return collected


TIMED = ("sum", "min", "max", "bucket_counts")
PATHS = ("/items/1", "/items/2", "/items/401", "/nowhere", "/items/x", "/items/500")


def test_fastapi_native_series_through_the_binding_provider_export_what_the_sdk_exports() -> None:
    plain = _fastapi_points(lambda sdk: sdk)
    binding = _fastapi_points(bound_module.BindingMeterProvider)

    assert binding == plain
    names = {name for points in binding for name, _, _ in points}
    assert names == {"http.server.request.duration", "http.server.active_requests"}


def test_a_binding_instrument_refuses_and_falls_back_as_the_sdk_does() -> None:
    """Negative histogram values (refused), an unhashable attribute and a context go the
    SDK's own way; an up-down counter's negative is a measurement."""
    from opentelemetry.context import get_current  # noqa: PLC0415
    from opentelemetry.sdk.metrics import MeterProvider  # noqa: PLC0415

    def run(provider_of: Any) -> list[Any]:
        reader = InMemoryMetricReader()
        meter = provider_of(MeterProvider(metric_readers=[reader])).get_meter("test")
        histogram = meter.create_histogram("h")
        counter = meter.create_up_down_counter("u")
        histogram.record(1.5, {"a": "x"})
        histogram.record(-1, {"a": "x"})
        histogram.record(2.0, {"a": "x"}, get_current())
        histogram.record(3.0, {"list": ["not", "hashable"]})
        counter.add(2, {"a": "x"})
        counter.add(-3, {"a": "x"})
        return _points(reader)

    assert run(bound_module.BindingMeterProvider) == run(lambda sdk: sdk)

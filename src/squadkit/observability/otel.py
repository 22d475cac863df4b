"""The OpenTelemetry backend of `GenAIObserver` (present when observability=otlp).

`OTelTelemetry` wraps a tracer and a meter. `from_environment` builds them the standard way:

- traces: a `TracerProvider` with a batching OTLP/HTTP exporter, only when
  `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT` is set. Without one, no span is created at all (the
  observer's spans are free no-ops), and nothing touches the network.
- metrics: a `MeterProvider` with a periodic OTLP/HTTP reader when an endpoint is set, and
  OpenTelemetry's `PrometheusMetricReader` when `prometheus=True` (the service's `/metrics`).

The Prometheus reader (opentelemetry-exporter-prometheus) registers a collector on
prometheus_client's process-wide registry, beside its process and GC metrics; each scrape of
that registry reads the instruments, so `/metrics` and OTLP carry the same ones. Shutting the
provider down unregisters it, so a second set-up does not serve every metric twice. Names
follow OpenTelemetry's Prometheus compatibility rules, applied by the exporter: dots become
underscores, the unit is appended (`_seconds`, `_usd`; annotations like `{token}` and the
unit `1` add nothing) and counters end in `_total`: `gen_ai.client.operation.duration` is
`gen_ai_client_operation_duration_seconds`. Scope labels (`otel_scope_*`) are left off: all
of squadkit's instruments share one scope, so they would only lengthen every series.

The SDK reads the rest itself: `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_TRACES_SAMPLER(_ARG)`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_METRIC_EXPORT_INTERVAL`.
Tests pass their own providers with in-memory exporters.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.metrics import Meter, MeterProvider
from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, TracerProvider

from . import semconv as sc
from .bound import BindingMeterProvider, BoundSeries
from .config import otlp_endpoints
from .logs import set_trace_ids_provider
from .telemetry import NO_SPAN, Attributes, SpanHandle, discard

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

_INSTRUMENTATION = __name__.rsplit(".", 1)[0]


@dataclass(frozen=True)
class Instrument:
    kind: str  # "histogram" | "counter" | "gauge"
    unit: str
    description: str
    buckets: Sequence[float] = ()


INSTRUMENTS: dict[str, Instrument] = {
    sc.METRIC_DURATION: Instrument(
        "histogram", "s", "GenAI operation duration.", sc.DURATION_BUCKETS
    ),
    sc.METRIC_TOKENS: Instrument(
        "histogram", "{token}", "Number of input and output tokens used.", sc.TOKEN_BUCKETS
    ),
    # Lower-case: a unit becomes the Prometheus name's suffix as it is (`_usd`, not `_USD`).
    sc.METRIC_COST: Instrument("counter", "usd", "Cost of model calls in US dollars."),
    sc.METRIC_FALLBACKS: Instrument(
        "counter", "{call}", "Calls answered by a fallback deployment."
    ),
    sc.METRIC_PROVIDER_ERRORS: Instrument(
        "counter", "{error}", "Failed attempts against a provider, by error type."
    ),
    sc.METRIC_INVALID_OUTPUTS: Instrument(
        "counter", "{call}", "Calls whose structured output stayed invalid after repair."
    ),
    sc.METRIC_QUALITY: Instrument(
        "histogram",
        "1",
        "Online quality score per prompt version and scorer.",
        sc.QUALITY_BUCKETS,
    ),
    sc.METRIC_QUALITY_SAMPLES: Instrument(
        "counter", "{call}", "Answers sampled for online quality scoring."
    ),
    sc.METRIC_GROUNDING_FAILURES: Instrument(
        "counter", "{call}", "Sampled answers quoting text absent from the inputs."
    ),
    sc.METRIC_DRIFT: Instrument(
        "gauge", "1", "Rolling online mean minus the eval baseline mean, per scorer."
    ),
    sc.METRIC_DEGRADED: Instrument(
        "gauge",
        "1",
        "1 while the alias's first deployment is cooled down (calls go to its fallbacks), else 0.",
    ),
}


def metric_views() -> list[View]:
    """Explicit buckets for the histograms (the conventions' advice for the GenAI ones)."""
    return [
        View(
            instrument_name=name,
            aggregation=ExplicitBucketHistogramAggregation(boundaries=list(spec.buckets)),
        )
        for name, spec in INSTRUMENTS.items()
        if spec.kind == "histogram"
    ]


class _OTelSpan:
    __slots__ = ("_span",)

    def __init__(self, span: Span) -> None:
        self._span = span

    def add_event(self, name: str, attributes: Attributes) -> None:
        self._span.add_event(name, attributes)

    def set_attributes(self, attributes: Attributes) -> None:
        self._span.set_attributes(attributes)

    def end(self, error_type: str | None) -> None:
        if error_type is not None:
            self._span.set_status(Status(StatusCode.ERROR, error_type))
        self._span.end()

    def trace_ids(self) -> tuple[str, str] | None:
        context = self._span.get_span_context()
        if not context.is_valid:
            return None
        return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def _current_trace_ids() -> tuple[str, str] | None:
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


class OTelTelemetry:
    """Spans and metrics through OpenTelemetry; `tracer_provider=None` means no spans."""

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._tracer: Tracer | None = (
            tracer_provider.get_tracer(_INSTRUMENTATION, schema_url=sc.SCHEMA_URL)
            if tracer_provider is not None
            else None
        )
        self._instruments: dict[str, Any] = {}
        if meter_provider is not None:
            meter = meter_provider.get_meter(_INSTRUMENTATION, schema_url=sc.SCHEMA_URL)
            self._instruments = {
                name: _create(meter, name, spec) for name, spec in INSTRUMENTS.items()
            }

    def start_span(self, name: str, attributes: Attributes) -> SpanHandle:
        if self._tracer is None:
            return NO_SPAN
        return _OTelSpan(self._tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes))

    def record(self, metric: str, value: float, attributes: Attributes) -> None:
        instrument = self._instruments.get(metric)
        if instrument is None:
            return
        spec = INSTRUMENTS[metric]
        if spec.kind == "counter":
            instrument.add(value, attributes)
        elif spec.kind == "histogram":
            instrument.record(value, attributes)
        else:
            instrument.set(value, attributes)

    def bind(self, metric: str, attributes: Attributes) -> Callable[[float], None]:
        """`record(metric, value, attributes)` as a function of the value alone, for a caller
        that records the same attribute set again and again and never changes the dict.

        A counter or histogram of the SDK this was checked against (`BoundSeries`) skips
        what the SDK redoes on every measurement of the same set: cleaning the attributes
        (about a third of a measurement) and hashing them into the series key (another
        third); anything else is `record`."""
        instrument = self._instruments.get(metric)
        if instrument is None:
            return discard
        if INSTRUMENTS[metric].kind in ("counter", "histogram"):
            bound = BoundSeries.of(instrument, attributes)
            if bound is not None:
                return bound.record
        return lambda value: self.record(metric, value, attributes)

    def shutdown(self) -> None:
        for provider in (self._tracer_provider, self._meter_provider):
            shutdown = getattr(provider, "shutdown", None)
            if shutdown is not None:
                shutdown()


def _create(meter: Meter, name: str, spec: Instrument) -> Any:
    if spec.kind == "counter":
        return meter.create_counter(name, unit=spec.unit, description=spec.description)
    if spec.kind == "histogram":
        return meter.create_histogram(name, unit=spec.unit, description=spec.description)
    return meter.create_gauge(name, unit=spec.unit, description=spec.description)


def prometheus_reader(registry: CollectorRegistry | None = None) -> MetricReader:
    """OpenTelemetry's Prometheus reader, collected by `registry` (prometheus_client's
    process-wide one by default, which the service's `/metrics` serves)."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader  # noqa: PLC0415
    from prometheus_client import REGISTRY  # noqa: PLC0415

    return PrometheusMetricReader(
        scope_info_enabled=False, registry=REGISTRY if registry is None else registry
    )


def _resource(default_service_name: str) -> Resource:
    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    return Resource.create({} if named else {"service.name": default_service_name})


def from_environment(
    *, service_name: str, prometheus: bool = False, set_global: bool = True
) -> OTelTelemetry:
    """Providers configured from the standard OTel variables (see the module docstring)."""
    traces_endpoint, metrics_endpoint = otlp_endpoints()
    resource = _resource(service_name)

    tracer_provider: SdkTracerProvider | None = None
    if traces_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

        tracer_provider = SdkTracerProvider(resource=resource)
        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))

    readers: list[MetricReader] = []
    if metrics_endpoint:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (  # noqa: PLC0415
            OTLPMetricExporter,
        )
        from opentelemetry.sdk.metrics.export import (  # noqa: PLC0415
            PeriodicExportingMetricReader,
        )

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    if prometheus:
        readers.append(prometheus_reader())
    meter_provider = (
        SdkMeterProvider(metric_readers=readers, resource=resource, views=metric_views())
        if readers
        else None
    )

    if set_global and tracer_provider is not None:
        trace.set_tracer_provider(tracer_provider)
        set_trace_ids_provider(_current_trace_ids)
    if set_global and meter_provider is not None:
        from opentelemetry import metrics  # noqa: PLC0415

        metrics.set_meter_provider(BindingMeterProvider(meter_provider))
    return OTelTelemetry(tracer_provider, meter_provider)


def for_tests(
    tracer_provider: TracerProvider | None,
    metric_readers: Sequence[MetricReader] = (),
    *,
    prometheus_registry: CollectorRegistry | None = None,
) -> OTelTelemetry:
    """Telemetry over caller-made providers (in-memory exporters), never global; with
    `prometheus_registry`, a Prometheus reader collected by that registry (a test's own)."""
    readers = [*metric_readers]
    if prometheus_registry is not None:
        readers.append(prometheus_reader(prometheus_registry))
    meter_provider = (
        SdkMeterProvider(metric_readers=readers, views=metric_views()) if readers else None
    )
    return OTelTelemetry(tracer_provider, meter_provider)

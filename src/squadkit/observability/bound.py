"""Measurements of a repeated attribute set without the SDK's per-measurement work.

The OpenTelemetry SDK cleans a measurement's attributes and hashes them into its series key
on every measurement: about two thirds of the cost of one, and a served request makes
several (the observer's duration and token counts, FastAPI's `http.server.*` series).
`BoundSeries` does that once per attribute set; `BindingMeterProvider` gives FastAPI's
native telemetry (which records through the global meter provider, with a new attribute
dict per request) instruments that keep a `BoundSeries` per attribute set they meet.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from time import time_ns
from typing import Any, cast

from opentelemetry.attributes import _clean_attribute_value
from opentelemetry.context import get_current
from opentelemetry.metrics import Meter, MeterProvider
from opentelemetry.sdk.metrics._internal._view_instrument_match import _hash_attributes
from opentelemetry.sdk.metrics._internal.instrument import (
    _Counter,
    _Histogram,
    _UpDownCounter,
)
from opentelemetry.sdk.metrics._internal.measurement import Measurement
from opentelemetry.sdk.metrics._internal.measurement_consumer import (
    SynchronousMeasurementConsumer,
)
from opentelemetry.sdk.version import __version__ as sdk_version
from opentelemetry.util.types import Attributes as OTelAttributes

from .telemetry import Attributes

__all__ = ["CHECKED_SDK", "BindingMeterProvider", "BoundSeries"]

CHECKED_SDK = "1.45."
"""The opentelemetry-sdk releases whose internals `BoundSeries` follows (its measurement
path: `Histogram.record`/`Counter.add`/`UpDownCounter.add`, `SynchronousMeasurementConsumer`,
`MetricReaderStorage`, `_ViewInstrumentMatch.consume_measurement`); on any other, `bind`
records through the public API."""


class BoundSeries:
    """One SDK counter, up-down counter or histogram and one attribute set, recorded as the
    SDK records it.

    `record(value)` is `instrument.add/record(value, attributes)` step by step (the same
    checks, `Measurement`, exemplar filter, readers, views and aggregations) with the
    attributes cleaned once and each view's series key hashed once, not per measurement.
    A value the SDK would refuse or warn about, or a disabled meter, goes through the
    public method. `tests/library/observability/test_otel_bound.py` holds it to the same
    exported points as the public path."""

    __slots__ = ("_attributes", "_consumer", "_floor", "_instrument", "_keys", "_plain")

    def __init__(self, instrument: Any, attributes: Attributes) -> None:
        self._instrument = instrument
        self._attributes = _clean_attribute_value(attributes, None)  # as `Measurement` keeps
        self._consumer = instrument._measurement_consumer
        self._plain = _public_method(instrument)
        self._keys: dict[int, tuple[Any, Any, dict[str, Any]]] = {}  # id(view match) -> key
        self._floor = -math.inf if type(instrument) is _UpDownCounter else 0.0
        """Values below it are the SDK's to refuse (a counter's or a histogram's negative)."""

    @classmethod
    def of(cls, instrument: Any, attributes: Attributes) -> BoundSeries | None:
        """The bound series, or None when the SDK is not one `BoundSeries` follows."""
        return cls(instrument, attributes) if cls.follows(instrument) else None

    @staticmethod
    def follows(instrument: Any) -> bool:
        """Whether `instrument` is one of the SDK release `BoundSeries` follows."""
        return (
            sdk_version.startswith(CHECKED_SDK)
            and type(instrument) in (_Counter, _UpDownCounter, _Histogram)  # an SDK meter's
            and type(getattr(instrument, "_measurement_consumer", None))
            is SynchronousMeasurementConsumer
        )

    def _series(self, match: Any) -> tuple[Any, dict[str, Any]]:
        """`match`'s series key of these attributes and the attributes it keeps (as its
        `consume_measurement` computes them)."""
        kept = self._keys.get(id(match))
        if kept is None or kept[0] is not match:
            attributes = dict(self._attributes)
            keys = match._view._attribute_keys
            if keys is not None:
                attributes = {k: v for k, v in attributes.items() if k in keys}
            kept = self._keys[id(match)] = (match, _hash_attributes(attributes), attributes)
        return kept[1], kept[2]

    def record(self, value: float) -> None:
        instrument = self._instrument
        if not instrument._is_enabled() or not math.isfinite(value) or value < self._floor:
            self._plain(value, self._attributes)  # the SDK's own warning, or its no-op
            return
        measurement = _Cleaned(value, time_ns(), instrument, get_current(), self._attributes)
        consumer = self._consumer
        sample = consumer._sdk_config.exemplar_filter.should_sample(
            value, measurement.time_unix_nano, measurement.attributes, measurement.context
        )
        for storage in consumer._reader_storages.values():
            for match in storage._get_or_init_view_instrument_match(instrument):
                key, attributes = self._series(match)
                if match._reset_on_collect:
                    with match._lock:
                        aggregation = match._get_or_create_aggregation(key, dict(attributes))
                        aggregation.aggregate(measurement, sample)
                    continue
                aggregation = match._attributes_aggregation.get(key)
                if aggregation is None:
                    with match._lock:
                        aggregation = match._get_or_create_aggregation(key, dict(attributes))
                aggregation.aggregate(measurement, sample)


def _public_method(instrument: Any) -> Callable[..., None]:
    """`instrument`'s own `add` (counters) or `record` (histograms)."""
    method: Callable[..., None] = (
        instrument.add if hasattr(instrument, "add") else instrument.record
    )
    return method


class _Cleaned(Measurement):
    """A `Measurement` whose attributes were cleaned when its series was bound."""

    def __post_init__(self) -> None:
        return None


MAX_SERIES = 1_000
"""Attribute sets a `BindingMeterProvider` instrument keeps a `BoundSeries` for; past it,
a new set is recorded through the SDK's public method (memory stays bounded whatever
attribute values a caller invents)."""


class BindingMeterProvider(MeterProvider):
    """`provider` (the SDK's), whose meters' counters, up-down counters and histograms
    keep a `BoundSeries` per attribute set they record (`_BindingInstrument`); everything
    else is the provider's and its meters' own. Set as the global meter provider, it makes
    FastAPI's native `http.server.*` series (three measurements a request, each with a new
    attribute dict of four or five strings) cost a dict lookup each instead of the SDK's
    cleaning and hashing, with the same exported points."""

    def __init__(self, provider: Any) -> None:
        self._provider = provider

    def get_meter(
        self,
        name: str,
        version: str | None = None,
        schema_url: str | None = None,
        attributes: OTelAttributes = None,
    ) -> Meter:
        meter = self._provider.get_meter(name, version, schema_url, attributes)
        return cast("Meter", _BindingMeter(meter))  # a Meter by delegation

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider, name)


class _BindingMeter:
    def __init__(self, meter: Any) -> None:
        self._meter = meter

    def create_counter(self, *args: Any, **kwargs: Any) -> Any:
        return _BindingInstrument.around(self._meter.create_counter(*args, **kwargs))

    def create_up_down_counter(self, *args: Any, **kwargs: Any) -> Any:
        return _BindingInstrument.around(self._meter.create_up_down_counter(*args, **kwargs))

    def create_histogram(self, *args: Any, **kwargs: Any) -> Any:
        return _BindingInstrument.around(self._meter.create_histogram(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._meter, name)


class _BindingInstrument:
    """An SDK instrument recorded through a `BoundSeries` per attribute set (keyed by the
    attributes' items, in order: the same set in another order is another key and bound
    series, whose points still land in the same SDK series)."""

    def __init__(self, instrument: Any) -> None:
        self._instrument = instrument
        self._public = _public_method(instrument)
        self._series: dict[tuple[tuple[str, Any], ...], Callable[[float], None]] = {}

    @classmethod
    def around(cls, instrument: Any) -> Any:
        """`instrument` wrapped, or itself when `BoundSeries` cannot follow it."""
        return cls(instrument) if BoundSeries.follows(instrument) else instrument

    def measure(
        self, value: float, attributes: Attributes | None = None, context: Any = None
    ) -> None:
        if context is not None or not attributes:
            self._public(value, attributes, context)
            return
        try:
            key = tuple(attributes.items())
            record = self._series.get(key)
        except TypeError:  # an unhashable value (a list): the SDK's own path
            self._public(value, attributes)
            return
        if record is None:
            if len(self._series) >= MAX_SERIES:
                self._public(value, attributes)
                return
            bound = BoundSeries(self._instrument, dict(attributes))  # `around` checked it
            record = self._series[key] = bound.record
        record(value)

    add = measure
    record = measure

    def __getattr__(self, name: str) -> Any:
        return getattr(self._instrument, name)

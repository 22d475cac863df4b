"""OpenTelemetry metrics -> the Prometheus text exposition format (version 0.0.4).

The service's `/metrics` serves the same instruments that go out over OTLP, read from an
in-process pull reader, so there is one set of metrics and one naming scheme. Names follow
the OTel-to-Prometheus convention: dots become underscores, the unit is appended
(`_seconds`, `_usd`; annotations like `{token}` are dropped) and counters end in `_total`.
So `gen_ai.client.operation.duration` is `gen_ai_client_operation_duration_seconds`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.sdk.metrics.export import (
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    NumberDataPoint,
    Sum,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_INVALID = re.compile(r"[^a-zA-Z0-9_]")
_UNIT_SUFFIX = {"s": "seconds", "ms": "milliseconds", "By": "bytes", "USD": "usd"}


def prometheus_name(name: str, unit: str, *, counter: bool) -> str:
    """`gen_ai.client.operation.duration`, `s` -> `gen_ai_client_operation_duration_seconds`."""
    base = _INVALID.sub("_", name)
    suffix = _UNIT_SUFFIX.get(unit, "")
    if suffix and not base.endswith(f"_{suffix}"):
        base = f"{base}_{suffix}"
    return f"{base}_total" if counter and not base.endswith("_total") else base


def _value(number: float) -> str:
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    if math.isnan(number):
        return "NaN"
    return repr(float(number)) if isinstance(number, float) else str(number)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(attributes: Mapping[str, Any] | None, extra: Mapping[str, str] | None = None) -> str:
    pairs: dict[str, str] = {}
    for key, value in (attributes or {}).items():
        text = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        pairs[_INVALID.sub("_", key)] = text
    pairs.update(extra or {})
    if not pairs:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in pairs.items()) + "}"


def _metrics(data: MetricsData) -> Iterable[Metric]:
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            yield from scope_metrics.metrics


def render_prometheus(data: MetricsData | None) -> bytes:
    """The metrics in `data` as Prometheus text; points of one name are grouped."""
    families: dict[str, tuple[str, str, list[str]]] = {}
    for metric in _metrics(data) if data is not None else ():
        points = metric.data
        if isinstance(points, Sum):
            kind = "counter" if points.is_monotonic else "gauge"
            name = prometheus_name(metric.name, metric.unit or "", counter=points.is_monotonic)
            lines = [
                f"{name}{_labels(p.attributes)} {_value(p.value)}"
                for p in points.data_points
                if isinstance(p, NumberDataPoint)
            ]
        elif isinstance(points, Gauge):
            kind = "gauge"
            name = prometheus_name(metric.name, metric.unit or "", counter=False)
            lines = [
                f"{name}{_labels(p.attributes)} {_value(p.value)}"
                for p in points.data_points
                if isinstance(p, NumberDataPoint)
            ]
        elif isinstance(points, Histogram):
            kind = "histogram"
            name = prometheus_name(metric.name, metric.unit or "", counter=False)
            lines = []
            for point in points.data_points:
                if isinstance(point, HistogramDataPoint):
                    lines.extend(_histogram_lines(name, point))
        else:  # exponential histograms are not configured by `metric_views`
            continue
        family = families.setdefault(name, (kind, metric.description or metric.name, []))
        family[2].extend(lines)
    out: list[str] = []
    for name, (kind, description, lines) in families.items():
        out.append(f"# HELP {name} {_escape(description)}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(lines)
    return ("\n".join(out) + "\n").encode() if out else b""


def _histogram_lines(name: str, point: HistogramDataPoint) -> list[str]:
    lines = []
    cumulative = 0
    bounds = [*point.explicit_bounds, math.inf]
    for bound, count in zip(bounds, point.bucket_counts, strict=True):
        cumulative += count
        labels = _labels(point.attributes, {"le": _value(float(bound))})
        lines.append(f"{name}_bucket{labels} {cumulative}")
    lines.append(f"{name}_sum{_labels(point.attributes)} {_value(point.sum)}")
    lines.append(f"{name}_count{_labels(point.attributes)} {point.count}")
    return lines

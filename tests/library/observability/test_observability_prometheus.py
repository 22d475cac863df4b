"""The Prometheus names of every instrument, through OpenTelemetry's Prometheus reader.

Alert rules, the Grafana dashboard and runbooks of a squad repo name these series
(`tests/template/test_deploy.py` holds the same list), so a renamed instrument or a changed
unit must show up here. Each test gives the reader its own registry; the service's real
`/metrics` is scraped in `tests/library/service/test_service_metrics.py`.
"""

from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from squadkit.observability import semconv as sc
from squadkit.observability.otel import INSTRUMENTS, for_tests
from squadkit.observability.telemetry import Attributes

ATTRIBUTES: Attributes = {sc.ALIAS: "triage", sc.PROMPT_NAME: "triage", sc.PROMPT_VERSION: "3"}

PROMETHEUS_NAMES = {
    sc.METRIC_DURATION: ("gen_ai_client_operation_duration_seconds", "histogram"),
    sc.METRIC_TOKENS: ("gen_ai_client_token_usage", "histogram"),
    sc.METRIC_COST: ("squad_gen_ai_cost_usd", "counter"),
    sc.METRIC_FALLBACKS: ("squad_gen_ai_fallbacks", "counter"),
    sc.METRIC_PROVIDER_ERRORS: ("squad_gen_ai_provider_errors", "counter"),
    sc.METRIC_INVALID_OUTPUTS: ("squad_gen_ai_invalid_outputs", "counter"),
    sc.METRIC_QUALITY: ("squad_gen_ai_quality_score", "histogram"),
    sc.METRIC_QUALITY_SAMPLES: ("squad_gen_ai_quality_samples", "counter"),
    sc.METRIC_GROUNDING_FAILURES: ("squad_gen_ai_grounding_failures", "counter"),
    sc.METRIC_DRIFT: ("squad_gen_ai_quality_drift", "gauge"),
    sc.METRIC_DEGRADED: ("squad_gen_ai_degraded", "gauge"),
}


def _families(registry: CollectorRegistry) -> dict[str, Any]:
    text = generate_latest(registry).decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_every_instrument_has_its_documented_prometheus_name_and_type() -> None:
    registry = CollectorRegistry()
    telemetry = for_tests(None, prometheus_registry=registry)
    for metric in INSTRUMENTS:
        telemetry.record(metric, 1, ATTRIBUTES)

    families = _families(registry)

    assert PROMETHEUS_NAMES.keys() == INSTRUMENTS.keys()
    for metric, (name, kind) in PROMETHEUS_NAMES.items():
        assert name in families, f"{metric}: no family {name} in {sorted(families)}"
        assert families[name].type == kind, metric


def test_attributes_become_labels_without_scope_labels() -> None:
    registry = CollectorRegistry()
    for_tests(None, prometheus_registry=registry).record(sc.METRIC_FALLBACKS, 1, ATTRIBUTES)

    (sample,) = _families(registry)["squad_gen_ai_fallbacks"].samples

    assert sample.labels == {
        "squad_model_alias": "triage",
        "gen_ai_prompt_name": "triage",
        "gen_ai_prompt_version": "3",
    }


def test_shutdown_takes_the_metrics_off_the_registry() -> None:
    registry = CollectorRegistry()
    telemetry = for_tests(None, prometheus_registry=registry)
    telemetry.record(sc.METRIC_FALLBACKS, 1, ATTRIBUTES)
    assert "squad_gen_ai_fallbacks" in _families(registry)

    telemetry.shutdown()

    assert _families(registry) == {}

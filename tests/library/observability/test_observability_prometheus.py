"""The `/metrics` exposition, read back by prometheus_client's own text parser."""

from typing import Any

from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client.parser import text_string_to_metric_families

from squadkit.observability import semconv as sc
from squadkit.observability.otel import for_tests
from squadkit.observability.prometheus import CONTENT_TYPE
from squadkit.observability.telemetry import Attributes

ATTRIBUTES: Attributes = {
    sc.OPERATION_NAME: "chat",
    sc.PROVIDER_NAME: "openai",
    sc.REQUEST_MODEL: "gpt-4.1-mini",
    sc.ALIAS: "triage",
    sc.PROMPT_NAME: "triage",
    sc.PROMPT_VERSION: "3",
}


def _families() -> dict[str, Any]:
    telemetry = for_tests(None, pull_reader=InMemoryMetricReader())
    telemetry.record(sc.METRIC_DURATION, 0.25, ATTRIBUTES)
    telemetry.record(sc.METRIC_DURATION, 3.0, ATTRIBUTES)
    telemetry.record(sc.METRIC_TOKENS, 120, ATTRIBUTES | {sc.TOKEN_TYPE: "input"})
    telemetry.record(sc.METRIC_COST, 0.0042, ATTRIBUTES)
    telemetry.record(sc.METRIC_FALLBACKS, 1, ATTRIBUTES)
    telemetry.record(sc.METRIC_DRIFT, -0.2, {sc.PROMPT_NAME: "triage", sc.SCORER: "grounding"})
    body, content_type = telemetry.exposition()
    assert content_type == CONTENT_TYPE
    return {family.name: family for family in text_string_to_metric_families(body.decode())}


def test_exposition_parses_with_the_prometheus_parser() -> None:
    families = _families()
    assert families.keys() >= {
        "gen_ai_client_operation_duration_seconds",
        "gen_ai_client_token_usage",
        "squad_gen_ai_cost_usd",
        "squad_gen_ai_fallbacks",
        "squad_gen_ai_quality_drift",
    }


def test_duration_histogram_keeps_buckets_sum_count_and_labels() -> None:
    duration = _families()["gen_ai_client_operation_duration_seconds"]
    assert duration.type == "histogram"
    samples = {(s.name, s.labels.get("le")): s.value for s in duration.samples}
    assert samples[("gen_ai_client_operation_duration_seconds_count", None)] == 2
    assert samples[("gen_ai_client_operation_duration_seconds_sum", None)] == 3.25
    assert samples[("gen_ai_client_operation_duration_seconds_bucket", "0.32")] == 1
    assert samples[("gen_ai_client_operation_duration_seconds_bucket", "+Inf")] == 2
    labels = duration.samples[0].labels
    assert labels["gen_ai_prompt_version"] == "3"
    assert labels["squad_model_alias"] == "triage"


def test_cost_is_a_counter_in_usd() -> None:
    cost = _families()["squad_gen_ai_cost_usd"]
    assert cost.type == "counter"
    assert [s.value for s in cost.samples if s.name.endswith("_total")] == [0.0042]


def test_empty_registry_renders_empty_body() -> None:
    telemetry = for_tests(None, pull_reader=InMemoryMetricReader())
    assert telemetry.exposition()[0] == b""

"""GenAI spans and metrics for real gateway calls (gateway -> litellm -> fake provider).

OpenTelemetry's own in-memory span exporter and metric reader stand in for a collector.
"""

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, generate_latest

from squadkit.gateway import Gateway, PromptRef, load_models_config
from squadkit.observability import (
    GenAIObserver,
    QualitySampler,
    Redactor,
    build_scorers,
)
from squadkit.observability.config import QualityConfig, RedactionConfig
from squadkit.observability.otel import for_tests
from squadkit.observability.redaction import secret_env_values
from squadkit.testing import FakeOpenAIServer, Reply

TICKET = "Subject: double charge\nI was charged twice for order 1234, mail me at ann@example.com"
MESSAGES = [
    {"role": "system", "content": "Classify the ticket."},
    {"role": "user", "content": TICKET},
]
SCHEMA = {
    "type": "object",
    "required": ["queue", "rationale"],
    "properties": {"queue": {"enum": ["billing", "technical"]}, "rationale": {"type": "string"}},
}
GROUNDED = '{"queue": "billing", "rationale": "customer says \\"charged twice\\""}'
INVENTED = '{"queue": "billing", "rationale": "customer says \\"refund my subscription\\""}'
PROMPT = PromptRef(name="triage", version=3, label="production", content_hash="sha256:abc123")


class Telemetry:
    """In-memory exporters plus the observer under test."""

    def __init__(self, observer_options: dict[str, Any]) -> None:
        self.spans = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.metrics = InMemoryMetricReader()
        self.prometheus = CollectorRegistry()
        self.backend = for_tests(
            tracer_provider, [self.metrics], prometheus_registry=self.prometheus
        )
        self.observer = GenAIObserver(self.backend, **observer_options)

    def span(self) -> ReadableSpan:
        spans = self.spans.get_finished_spans()
        assert len(spans) == 1
        return spans[0]

    def points(self, name: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        assert data is not None
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


@pytest.fixture
def make_gateway(
    fake_openai: FakeOpenAIServer,
    fake_openai_backup: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
) -> Callable[..., tuple[Gateway, Telemetry]]:
    fake_openai.default = Reply.ok(GROUNDED)
    fake_openai_backup.default = Reply.ok(GROUNDED)

    def deployment(server: FakeOpenAIServer, name: str) -> dict[str, Any]:
        return {
            "model": f"openai/{name}",
            "api_base": server.base_url,
            "api_key_env": "FAKE_PROVIDER_KEY",
            "params": {"temperature": 0, "max_tokens": 200},
            "timeout_s": 2,
            "max_retries": 0,
            "input_cost_per_token": 0.000001,
            "output_cost_per_token": 0.000002,
        }

    path = write_models(
        {
            "routing": {"allowed_fails": 5, "cooldown_s": 1, "deadline_s": 20},
            "aliases": {
                "triage": {
                    "deployments": [
                        deployment(fake_openai, "primary-2025-01-01"),
                        deployment(fake_openai_backup, "backup-2025-01-01"),
                    ]
                }
            },
        }
    )

    def make(**observer_options: Any) -> tuple[Gateway, Telemetry]:
        telemetry = Telemetry(observer_options)
        return Gateway(load_models_config(path), observer=telemetry.observer), telemetry

    return make


def _scoring(rate: float) -> dict[str, Any]:
    return {"sampler": QualitySampler(rate), "scorers": build_scorers(QualityConfig())}


async def test_gateway_call_yields_one_genai_span_with_exact_attributes(
    make_gateway: Callable[..., tuple[Gateway, Telemetry]],
) -> None:
    gateway, telemetry = make_gateway()
    completion = await gateway.acomplete("triage", MESSAGES, output_schema=SCHEMA, prompt=PROMPT)

    span = telemetry.span()
    assert span.name == "chat primary-2025-01-01"
    assert dict(span.attributes or {}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "primary-2025-01-01",
        "gen_ai.request.temperature": 0,
        "gen_ai.request.max_tokens": 200,
        "gen_ai.output.type": "json",
        "gen_ai.response.model": "primary-2025-01-01",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": completion.input_tokens,
        "gen_ai.usage.output_tokens": completion.output_tokens,
        "gen_ai.prompt.name": "triage",
        "gen_ai.prompt.version": "3",
        "squad.prompt.hash": "sha256:abc123",
        "squad.prompt.label": "production",
        "squad.model.alias": "triage",
        "squad.gateway.attempts": 1,
        "squad.gateway.fallback_used": False,
        "squad.cost.usd": completion.cost_usd,
    }
    assert completion.input_tokens > 0
    assert completion.output_tokens > 0
    assert [event.name for event in span.events] == ["squad.gateway.attempt"]


async def test_span_reports_the_providers_finish_reason(
    make_gateway: Callable[..., tuple[Gateway, Telemetry]], fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(Reply.ok("cut short", finish_reason="length"))
    gateway, telemetry = make_gateway()
    completion = await gateway.acomplete("triage", MESSAGES, prompt=PROMPT)

    assert completion.finish_reason == "length"
    attributes = telemetry.span().attributes or {}
    assert attributes["gen_ai.response.finish_reasons"] == ("length",)


async def test_gateway_call_records_duration_and_token_metrics(
    make_gateway: Callable[..., tuple[Gateway, Telemetry]],
) -> None:
    gateway, telemetry = make_gateway()
    completion = await gateway.acomplete("triage", MESSAGES, output_schema=SCHEMA, prompt=PROMPT)

    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert isinstance(duration, HistogramDataPoint)
    assert duration.count == 1
    assert duration.sum == pytest.approx(completion.latency_s)
    assert duration.attributes is not None
    assert duration.attributes["gen_ai.response.model"] == "primary-2025-01-01"
    assert duration.attributes["gen_ai.prompt.version"] == "3"
    tokens = {
        point.attributes["gen_ai.token.type"]: point.sum
        for point in telemetry.points("gen_ai.client.token.usage")
    }
    assert tokens == {"input": completion.input_tokens, "output": completion.output_tokens}
    (cost,) = telemetry.points("squad.gen_ai.cost")
    assert cost.value == pytest.approx(completion.cost_usd)


async def test_fallback_call_shows_both_attempts(
    make_gateway: Callable[..., tuple[Gateway, Telemetry]], fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.default = Reply.error(500)
    gateway, telemetry = make_gateway()
    completion = await gateway.acomplete("triage", MESSAGES, prompt=PROMPT)

    assert completion.fallback_used
    span = telemetry.span()
    attempts = [dict(e.attributes or {}) for e in span.events if e.name == "squad.gateway.attempt"]
    assert [(a["gen_ai.request.model"], a["squad.outcome"]) for a in attempts] == [
        ("primary-2025-01-01", "error"),
        ("backup-2025-01-01", "ok"),
    ]
    assert attempts[0]["error.type"] == "InternalServerError"
    attributes = span.attributes or {}
    assert attributes["squad.gateway.fallback_used"] is True
    assert attributes["gen_ai.response.model"] == "backup-2025-01-01"
    assert [p.value for p in telemetry.points("squad.gen_ai.fallbacks")] == [1]
    (errors,) = telemetry.points("squad.gen_ai.provider_errors")
    assert errors.attributes["error.type"] == "InternalServerError"


async def test_rate_limited_deployment_is_recorded_with_its_error_type_cause_and_model(
    make_gateway: Callable[..., tuple[Gateway, Telemetry]], fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.default = Reply.error(429)
    gateway, telemetry = make_gateway()
    await gateway.acomplete("triage", MESSAGES, prompt=PROMPT)

    failed = {
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "primary-2025-01-01",
        "error.type": "RateLimitError",
        "squad.failure.cause": "rate_limited",
    }
    events = [dict(e.attributes or {}) for e in telemetry.span().events]
    assert events[0] == failed | {
        "squad.attempt.number": 1,
        "squad.attempt.purpose": "answer",
        "squad.outcome": "error",
        "squad.attempt.tries": 1,
    }
    (errors,) = telemetry.points("squad.gen_ai.provider_errors")
    assert dict(errors.attributes) == failed | {"squad.model.alias": "triage"}
    assert errors.value == 1


async def test_failed_call_marks_span_error_with_error_type(
    make_gateway: Callable[..., tuple[Gateway, Telemetry]],
    fake_openai: FakeOpenAIServer,
    fake_openai_backup: FakeOpenAIServer,
) -> None:
    fake_openai.default = Reply.error(503)
    fake_openai_backup.default = Reply.error(503)
    gateway, telemetry = make_gateway()
    with pytest.raises(Exception, match="every deployment failed"):
        await gateway.acomplete("triage", MESSAGES, prompt=PROMPT)

    span = telemetry.span()
    assert (span.attributes or {})["error.type"] == "ProviderUnavailable"
    assert span.status.status_code.name == "ERROR"
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "ProviderUnavailable"


async def test_content_is_absent_by_default(
    make_gateway: Callable[..., tuple[Gateway, Telemetry]],
) -> None:
    gateway, telemetry = make_gateway()
    await gateway.acomplete("triage", MESSAGES, output_schema=SCHEMA, prompt=PROMPT)

    attributes = telemetry.span().attributes or {}
    assert "gen_ai.input.messages" not in attributes
    assert "gen_ai.output.messages" not in attributes
    assert "charged twice" not in json.dumps(dict(attributes))


async def test_content_is_recorded_redacted_when_opted_in(
    make_gateway: Callable[..., tuple[Gateway, Telemetry]],
) -> None:
    redactor = Redactor(RedactionConfig().patterns)
    gateway, telemetry = make_gateway(capture_content=True, redactor=redactor)
    await gateway.acomplete("triage", MESSAGES, output_schema=SCHEMA, prompt=PROMPT)

    attributes = telemetry.span().attributes or {}
    inputs = json.loads(str(attributes["gen_ai.input.messages"]))
    assert inputs[1]["role"] == "user"
    assert "charged twice for order 1234" in inputs[1]["parts"][0]["content"]
    assert "ann@example.com" not in inputs[1]["parts"][0]["content"]
    assert "[REDACTED]" in inputs[1]["parts"][0]["content"]
    outputs = json.loads(str(attributes["gen_ai.output.messages"]))
    assert "charged twice" in outputs[0]["parts"][0]["content"]


async def test_sentinel_api_key_appears_in_no_span_metric_or_log(
    make_gateway: Callable[..., tuple[Gateway, Telemetry]],
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Worst case: content capture on, the key pasted into a message, a failed attempt.
    redactor = Redactor(RedactionConfig().patterns, secrets=secret_env_values())
    gateway, telemetry = make_gateway(capture_content=True, redactor=redactor, **_scoring(1.0))
    fake_openai.script(Reply.error(401))
    leaky = [*MESSAGES, {"role": "user", "content": f"my key is {sentinel_key}"}]
    with caplog.at_level(logging.DEBUG):
        await gateway.acomplete("triage", leaky, output_schema=SCHEMA, prompt=PROMPT)

    spans = "".join(span.to_json() for span in telemetry.spans.get_finished_spans())
    metrics = telemetry.metrics.get_metrics_data()
    assert metrics is not None
    assert "[REDACTED]" in spans
    assert sentinel_key not in spans
    assert sentinel_key not in metrics.to_json()
    assert sentinel_key not in generate_latest(telemetry.prometheus).decode()
    assert sentinel_key not in caplog.text


@pytest.mark.parametrize(("rate", "expected_events"), [(1.0, 4), (0.0, 0)])
async def test_online_quality_sampling_rate(
    make_gateway: Callable[..., tuple[Gateway, Telemetry]], rate: float, expected_events: int
) -> None:
    gateway, telemetry = make_gateway(**_scoring(rate))
    for _ in range(3):
        await gateway.acomplete("triage", MESSAGES, output_schema=SCHEMA, prompt=PROMPT)

    spans = telemetry.spans.get_finished_spans()
    evaluations = [
        [dict(e.attributes or {}) for e in span.events if e.name == "gen_ai.evaluation.result"]
        for span in spans
    ]
    assert [len(events) for events in evaluations] == [expected_events] * 3
    quality = telemetry.points("squad.gen_ai.quality.score")
    assert sum(point.count for point in quality) == 3 * expected_events
    if expected_events:
        names = {
            e["gen_ai.evaluation.name"]: e["gen_ai.evaluation.score.value"] for e in evaluations[0]
        }
        assert names == {"schema_valid": 1.0, "refusal": 1.0, "length": 1.0, "grounding": 1.0}


async def test_invented_quote_counts_as_grounding_failure_per_prompt_version(
    make_gateway: Callable[..., tuple[Gateway, Telemetry]], fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(Reply.ok(INVENTED))
    gateway, telemetry = make_gateway(**_scoring(1.0))
    await gateway.acomplete("triage", MESSAGES, output_schema=SCHEMA, prompt=PROMPT)
    await gateway.acomplete("triage", MESSAGES, output_schema=SCHEMA, prompt=PROMPT)

    (failures,) = telemetry.points("squad.gen_ai.grounding.failures")
    (samples,) = telemetry.points("squad.gen_ai.quality.samples")
    assert failures.attributes == {"gen_ai.prompt.name": "triage", "gen_ai.prompt.version": "3"}
    assert (failures.value, samples.value) == (1, 2)

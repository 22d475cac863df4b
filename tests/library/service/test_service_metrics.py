"""`/metrics` of the real service, scraped over HTTP and read by prometheus_client's parser.

The GenAI metrics reach it through OpenTelemetry's Prometheus reader; calls go through the
real gateway and litellm to the fake provider, with the offline model as the fallback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from squadkit.testing import FakeOpenAIServer, Reply
from tests.library.conftest import SENTINEL_KEY
from tests.library.service.servicekit import (
    AUTH,
    TICKET,
    VALID_ANSWER,
    RunningService,
    fake_models,
    running,
    settings_with,
)
from tests.library.waiting import eventually

INPUT_COST_PER_TOKEN = 0.000002
"""Declared on the fake deployment, so litellm computes a cost for its answers."""


def _scrape(service: RunningService, **headers: str) -> httpx.Response:
    response = httpx.get(f"{service.base_url}/metrics", headers={**AUTH, **headers}, timeout=30)
    assert response.status_code == 200, response.text
    return response


def _families(service: RunningService) -> dict[str, Any]:
    text = _scrape(service).text
    return {family.name: family for family in text_string_to_metric_families(text)}


def _samples(families: dict[str, Any], family: str, sample: str) -> list[Sample]:
    return [s for s in families[family].samples if s.name == sample]


def _chain_with_fallback(base_url: str, **routing: float) -> dict[str, Any]:
    """`triage`: the fake provider first, the offline rules model as its fallback."""
    models = fake_models(base_url)
    models["routing"] |= routing
    primary = models["aliases"]["triage"]["deployments"][0]
    primary["input_cost_per_token"] = INPUT_COST_PER_TOKEN
    models["aliases"]["triage"]["deployments"].append({"model": "local/triage-rules-v1"})
    return models


@pytest.fixture(scope="module")
def after_two_calls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The parsed scrape after one call the fallback answered and one the primary did."""
    with pytest.MonkeyPatch.context() as env, FakeOpenAIServer() as provider:
        env.setenv("FAKE_PROVIDER_KEY", SENTINEL_KEY)
        provider.script(Reply.error(500))
        provider.default = Reply.ok(VALID_ANSWER)
        models = tmp_path_factory.mktemp("metrics") / "models.yaml"
        models.write_text(yaml.safe_dump(_chain_with_fallback(provider.base_url)))
        with running(settings_with(SQUAD_MODELS_FILE=str(models))) as service:
            for fallback_used in (True, False):
                answered = httpx.post(
                    f"{service.base_url}/v1/triage", json=TICKET, headers=AUTH, timeout=30
                )
                assert answered.status_code == 200, answered.text
                assert answered.json()["metadata"]["fallback_used"] is fallback_used
            yield _families(service)


def test_scrape_carries_the_genai_metrics_under_their_prometheus_names(
    after_two_calls: dict[str, Any],
) -> None:
    assert {
        "gen_ai_client_operation_duration_seconds": "histogram",
        "gen_ai_client_token_usage": "histogram",
        "squad_gen_ai_cost_usd": "counter",
        "squad_gen_ai_fallbacks": "counter",
        "squad_gen_ai_provider_errors": "counter",
        "squad_gen_ai_degraded": "gauge",
    }.items() <= {name: family.type for name, family in after_two_calls.items()}.items()


def test_duration_histogram_keeps_buckets_sum_count_and_labels(
    after_two_calls: dict[str, Any],
) -> None:
    name = "gen_ai_client_operation_duration_seconds"
    counts = _samples(after_two_calls, name, f"{name}_count")
    assert sum(s.value for s in counts) == 2
    infinite = _samples(after_two_calls, name, f"{name}_bucket")
    assert sum(s.value for s in infinite if s.labels["le"] == "+Inf") == 2
    assert sum(s.value for s in _samples(after_two_calls, name, f"{name}_sum")) > 0
    labels = counts[0].labels
    assert labels["squad_model_alias"] == "triage"
    assert labels["gen_ai_prompt_name"] == "triage"
    assert labels["gen_ai_prompt_version"].isdigit()
    assert {s.labels["gen_ai_response_model"] for s in counts} == {
        "fake-model",
        "triage-rules-v1",
    }


def test_cost_is_a_counter_in_usd_for_the_priced_deployment(
    after_two_calls: dict[str, Any],
) -> None:
    costs = _samples(after_two_calls, "squad_gen_ai_cost_usd", "squad_gen_ai_cost_usd_total")
    assert [s.labels["gen_ai_response_model"] for s in costs] == ["fake-model"]
    assert 0 < costs[0].value < 1


def test_fallback_and_the_provider_error_are_counted(after_two_calls: dict[str, Any]) -> None:
    fallbacks = _samples(after_two_calls, "squad_gen_ai_fallbacks", "squad_gen_ai_fallbacks_total")
    assert [(s.labels["squad_model_alias"], s.value) for s in fallbacks] == [("triage", 1)]
    errors = _samples(
        after_two_calls, "squad_gen_ai_provider_errors", "squad_gen_ai_provider_errors_total"
    )
    assert sum(s.value for s in errors) == 1
    assert SENTINEL_KEY not in repr(errors)


def test_scrape_serves_prometheus_clients_process_metrics_too(
    after_two_calls: dict[str, Any],
) -> None:
    assert "python_info" in after_two_calls


def test_scrape_without_accept_is_the_classic_text_format(
    offline_service: RunningService,
) -> None:
    response = _scrape(offline_service)

    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"


def test_scrape_asking_for_openmetrics_gets_openmetrics(offline_service: RunningService) -> None:
    response = _scrape(offline_service, accept="application/openmetrics-text; version=1.0.0")

    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


def _degraded(service: RunningService) -> dict[str, float]:
    families = _families(service)
    return {
        s.labels["squad_model_alias"]: s.value for s in families["squad_gen_ai_degraded"].samples
    }


def _fail_primary_until_cooled_down(service: RunningService) -> None:
    for _ in range(3):
        answered = httpx.post(
            f"{service.base_url}/v1/triage", json=TICKET, headers=AUTH, timeout=30
        )
        assert answered.status_code == 200
        assert answered.json()["metadata"]["fallback_used"] is True


def test_degraded_gauge_is_1_while_the_primary_is_cooled_down_and_0_before(
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
) -> None:
    fake_openai.default = Reply.error(500)
    models = _chain_with_fallback(fake_openai.base_url, allowed_fails=1, cooldown_s=60)
    with running(settings_with(SQUAD_MODELS_FILE=str(write_models(models)))) as service:
        before = _degraded(service)
        _fail_primary_until_cooled_down(service)
        during = _degraded(service)
        ready = httpx.get(f"{service.base_url}/readyz", timeout=30)

    assert before == {"triage": 0, "judge": 0}
    assert during == {"triage": 1, "judge": 0}
    assert ready.json()["checks"]["alias:triage"] == "degraded: openai/fake-model cooled down"


def test_degraded_gauge_returns_to_0_when_the_cooldown_ends(
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
) -> None:
    fake_openai.default = Reply.error(500)
    models = _chain_with_fallback(fake_openai.base_url, allowed_fails=1, cooldown_s=2)
    with running(settings_with(SQUAD_MODELS_FILE=str(write_models(models)))) as service:
        _fail_primary_until_cooled_down(service)
        during = _degraded(service)["triage"]
        eventually(lambda: _degraded(service)["triage"] != 1, "the primary to come back")

    assert during == 1

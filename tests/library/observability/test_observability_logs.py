"""Structured logs of gateway calls: one JSON line per event, no content, no keys."""

import io
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from squadkit.gateway import Gateway, PromptRef, load_models_config
from squadkit.observability import (
    GenAIObserver,
    Redactor,
    configure_logging,
)
from squadkit.observability.redaction import secret_env_values
from squadkit.testing import FakeOpenAIServer, Reply

MESSAGES = [{"role": "user", "content": "I was charged twice"}]
PROMPT = PromptRef(name="triage", version=2, label="staging", content_hash="sha256:def")


@pytest.fixture
def log_stream(sentinel_key: str) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    redactor = Redactor((), secrets=secret_env_values())
    handler = configure_logging(level="INFO", fmt="json", redactor=redactor, stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def gateway(
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
) -> Gateway:
    fake_openai.default = Reply.ok("billing")
    path = write_models(
        {
            "aliases": {
                "triage": {
                    "deployments": [
                        {
                            "model": "openai/fake-2025-01-01",
                            "api_base": fake_openai.base_url,
                            "api_key_env": "FAKE_PROVIDER_KEY",
                            "max_retries": 0,
                            "input_cost_per_token": 0.000001,
                            "output_cost_per_token": 0.000002,
                        }
                    ]
                }
            }
        }
    )
    return Gateway(load_models_config(path), observer=GenAIObserver())


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_each_call_logs_one_json_line_with_routing_and_usage(
    gateway: Gateway, log_stream: io.StringIO
) -> None:
    completion = await gateway.acomplete("triage", MESSAGES, prompt=PROMPT)

    calls = [line for line in _lines(log_stream) if line.get("event") == "gen_ai.call"]
    assert len(calls) == 1
    line = calls[0]
    assert line["level"] == "info"
    assert {k: line[k] for k in ("prompt", "prompt_version", "prompt_label", "alias")} == {
        "prompt": "triage",
        "prompt_version": "2",
        "prompt_label": "staging",
        "alias": "triage",
    }
    assert line["deployment"] == "openai/fake-2025-01-01"
    assert line["outcome"] == "ok"
    assert line["input_tokens"] == completion.input_tokens
    assert line["output_tokens"] == completion.output_tokens
    assert line["cost_usd"] == pytest.approx(completion.cost_usd)
    assert line["latency_ms"] > 0
    assert "charged twice" not in log_stream.getvalue()


async def test_failed_call_logs_outcome_and_never_the_key(
    gateway: Gateway, fake_openai: FakeOpenAIServer, log_stream: io.StringIO, sentinel_key: str
) -> None:
    fake_openai.default = Reply.error(401)
    with pytest.raises(Exception, match="every deployment failed"):
        await gateway.acomplete("triage", MESSAGES, prompt=PROMPT)
    logging.getLogger("probe").warning("provider said: bad key %s", sentinel_key)

    calls = [line for line in _lines(log_stream) if line.get("event") == "gen_ai.call"]
    assert calls[0]["outcome"] == "ProviderUnavailable"
    assert calls[0]["level"] == "warning"
    assert sentinel_key not in log_stream.getvalue()
    assert "provider said: bad key [REDACTED]" in log_stream.getvalue()


def test_console_format_is_one_readable_line() -> None:
    stream = io.StringIO()
    handler = configure_logging(level="INFO", fmt="console", stream=stream)
    try:
        logging.getLogger("demo").info("hello", extra={"alias": "triage"})
    finally:
        logging.getLogger().removeHandler(handler)
    (line,) = stream.getvalue().splitlines()
    assert line.endswith("INFO  demo: hello  alias=triage")

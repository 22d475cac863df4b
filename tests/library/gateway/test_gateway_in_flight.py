"""`routing.max_in_flight`: a burst waits for slots instead of timing out inside litellm."""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from squadkit.errors import ConfigError
from squadkit.gateway import (
    Completion,
    DeadlineExceeded,
    Gateway,
    load_models_config,
)
from squadkit.testing import FakeOpenAIServer, Reply

MESSAGES = [{"role": "user", "content": "<ticket>I was charged twice, please refund</ticket>"}]


@pytest.fixture
def capped_gateway(
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
) -> Callable[..., Gateway]:
    """A gateway over one fake deployment with the given routing and per-attempt timeout."""

    def make(*, timeout_s: float, **routing: Any) -> Gateway:
        deployment = {
            "model": "openai/primary-2025-01-01",
            "api_base": fake_openai.base_url,
            "api_key_env": "FAKE_PROVIDER_KEY",
            "timeout_s": timeout_s,
            "max_retries": 0,
        }
        path = write_models(
            {
                "routing": {"allowed_fails": 100_000, "deadline_s": 30, **routing},
                "aliases": {"chat": {"deployments": [deployment]}},
            }
        )
        return Gateway(load_models_config(path))

    return make


async def test_burst_under_tight_timeout_is_answered_within_the_cap(
    capped_gateway: Callable[..., Gateway], fake_openai: FakeOpenAIServer
) -> None:
    # 120 calls at once: uncapped, litellm's CPU work for the queued calls can outlast a
    # short per-attempt timeout on a small machine. The timeout here is generous so that a
    # busy machine cannot fail the test; the peak in flight is what shows the cap worked.
    gateway = capped_gateway(timeout_s=10.0, max_in_flight=8)
    fake_openai.default = Reply.ok("ok", latency_s=0.01)
    await gateway.acomplete("chat", MESSAGES)  # builds the Router: not part of the burst
    fake_openai.reset()

    results = await asyncio.gather(
        *(gateway.acomplete("chat", MESSAGES) for _ in range(120)), return_exceptions=True
    )

    errors = [result for result in results if not isinstance(result, Completion)]
    assert not errors, f"{len(errors)} calls failed, first: {errors[:1]!r}"
    assert fake_openai.request_count == 120
    assert 1 < fake_openai.peak_in_flight <= 8


async def test_waiting_for_a_slot_counts_against_the_deadline(
    capped_gateway: Callable[..., Gateway], fake_openai: FakeOpenAIServer
) -> None:
    gateway = capped_gateway(timeout_s=5.0, max_in_flight=1)
    await gateway.acomplete("chat", MESSAGES)  # builds the Router outside the deadlines
    fake_openai.default = Reply.ok("slow", latency_s=0.4)

    first, second = await asyncio.gather(
        gateway.acomplete("chat", MESSAGES, deadline_s=2.0),
        gateway.acomplete("chat", MESSAGES, deadline_s=0.6),
        return_exceptions=True,
    )

    assert isinstance(first, Completion)
    assert isinstance(second, DeadlineExceeded)
    assert fake_openai.peak_in_flight == 1


def test_max_in_flight_must_be_positive(write_models: Callable[[dict[str, Any]], Path]) -> None:
    path = write_models(
        {
            "routing": {"max_in_flight": 0},
            "aliases": {"chat": {"deployments": [{"model": "local/triage-rules-v1"}]}},
        }
    )
    with pytest.raises(ConfigError, match=r"routing\.max_in_flight"):
        load_models_config(path)

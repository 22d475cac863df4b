"""In an outage, a deployment litellm has cooled down costs a call no time.

litellm's Router sends a cooled-down deployment nothing, but left to itself it still sleeps
that deployment's retry backoff (0.5 s x 2^n plus up to 0.75 s of jitter per retry) before
falling back. The gateway leaves cooled-down deployments out of the call instead. The tests
cool a deployment down with one 401 (never retried, so cooling it costs no backoff either;
`allowed_fails` is 0); after that it answers 503, as a provider in an outage does.
"""

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from squadkit.gateway import (
    Gateway,
    ProviderUnavailable,
    load_models_config,
)
from squadkit.testing import FakeOpenAIServer, Reply

MESSAGES = [{"role": "user", "content": "<ticket>My parcel never arrived</ticket>"}]
# Well under the backoff a cooled-down deployment would cost: its first retry alone sleeps
# at least 0.5 s.
NO_BACKOFF_S = 0.4


def _deployment(server: FakeOpenAIServer, name: str, *, max_retries: int) -> dict[str, Any]:
    return {
        "model": f"openai/{name}",
        "api_base": server.base_url,
        "api_key_env": "FAKE_PROVIDER_KEY",
        "timeout_s": 2,
        "max_retries": max_retries,
    }


def _goes_down(server: FakeOpenAIServer) -> None:
    """The next request is refused (401: cooled down at once), every later one is a 503."""
    server.script(Reply.error(401))
    server.default = Reply.error(503)


@pytest.fixture
def fake_openai_last() -> Iterator[FakeOpenAIServer]:
    """A third fake provider: the end of a three-deployment chain."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def chain_gateway(
    sentinel_key: str, write_models: Callable[[dict[str, Any]], Path]
) -> Callable[..., Gateway]:
    """A gateway whose alias `chat` is the given deployments, cooled down by one failure."""

    def make(*deployments: dict[str, Any], cooldown_s: float = 60) -> Gateway:
        path = write_models(
            {
                "routing": {"allowed_fails": 0, "cooldown_s": cooldown_s, "deadline_s": 20},
                "aliases": {"chat": {"deployments": list(deployments)}},
            }
        )
        return Gateway(load_models_config(path))

    return make


@pytest.fixture
def primary_then_backup(
    chain_gateway: Callable[..., Gateway],
    fake_openai: FakeOpenAIServer,
    fake_openai_backup: FakeOpenAIServer,
) -> Gateway:
    """`chat`: a primary with two retries going down, then a healthy backup."""
    _goes_down(fake_openai)
    fake_openai_backup.default = Reply.ok("it is on its way")
    return chain_gateway(
        _deployment(fake_openai, "primary-2025-01-01", max_retries=2),
        _deployment(fake_openai_backup, "backup-2025-01-01", max_retries=0),
    )


async def test_cooled_down_primary_costs_no_backoff_before_the_fallback(
    primary_then_backup: Gateway, fake_openai: FakeOpenAIServer
) -> None:
    await primary_then_backup.acomplete("chat", MESSAGES)  # the 401 cools the primary down
    started = time.perf_counter()
    await primary_then_backup.acomplete("chat", MESSAGES)
    assert time.perf_counter() - started < NO_BACKOFF_S
    assert fake_openai.request_count == 1


async def test_answer_past_a_cooled_down_primary_is_a_fallback_with_one_attempt(
    primary_then_backup: Gateway,
) -> None:
    await primary_then_backup.acomplete("chat", MESSAGES)
    completion = await primary_then_backup.acomplete("chat", MESSAGES)
    assert completion.text == "it is on its way"
    assert completion.deployment == "openai/backup-2025-01-01"
    assert completion.fallback_used
    assert completion.attempts == 1


async def test_cooled_down_middle_deployment_costs_no_backoff_when_the_first_fails(
    chain_gateway: Callable[..., Gateway],
    fake_openai: FakeOpenAIServer,
    fake_openai_backup: FakeOpenAIServer,
    fake_openai_last: FakeOpenAIServer,
) -> None:
    # A 400 fails the first deployment on every call without ever cooling it down.
    fake_openai.default = Reply.error(400)
    _goes_down(fake_openai_backup)
    fake_openai_last.default = Reply.ok("it is on its way")
    gateway = chain_gateway(
        _deployment(fake_openai, "first-2025-01-01", max_retries=0),
        _deployment(fake_openai_backup, "middle-2025-01-01", max_retries=2),
        _deployment(fake_openai_last, "last-2025-01-01", max_retries=0),
    )
    await gateway.acomplete("chat", MESSAGES)  # the 401 cools the middle one down
    started = time.perf_counter()
    completion = await gateway.acomplete("chat", MESSAGES)
    assert time.perf_counter() - started < NO_BACKOFF_S
    assert completion.deployment == "openai/last-2025-01-01"
    assert fake_openai.request_count == 2
    assert fake_openai_backup.request_count == 1


async def test_failure_past_a_cooled_down_primary_lists_it_as_skipped(
    primary_then_backup: Gateway, fake_openai_backup: FakeOpenAIServer
) -> None:
    await primary_then_backup.acomplete("chat", MESSAGES)
    fake_openai_backup.default = Reply.error(500)
    with pytest.raises(ProviderUnavailable) as caught:
        await primary_then_backup.acomplete("chat", MESSAGES)
    primary, backup = caught.value.failures
    assert primary.deployment == "openai/primary-2025-01-01"
    assert primary.reason == "skipped: cooling down after recent failures"
    assert (primary.cause, primary.error_type) == ("cooling_down", None)
    assert backup.deployment == "openai/backup-2025-01-01"
    assert (backup.cause, backup.status_code) == ("server_error", 500)


async def test_primary_is_tried_again_once_its_cooldown_ends(
    chain_gateway: Callable[..., Gateway],
    fake_openai: FakeOpenAIServer,
    fake_openai_backup: FakeOpenAIServer,
) -> None:
    fake_openai.script(Reply.error(401))
    fake_openai.default = Reply.ok("back up")
    gateway = chain_gateway(
        _deployment(fake_openai, "primary-2025-01-01", max_retries=2),
        _deployment(fake_openai_backup, "backup-2025-01-01", max_retries=0),
        cooldown_s=0.2,
    )
    assert (await gateway.acomplete("chat", MESSAGES)).fallback_used
    await asyncio.sleep(0.4)
    completion = await gateway.acomplete("chat", MESSAGES)
    assert completion.deployment == "openai/primary-2025-01-01"
    assert not completion.fallback_used

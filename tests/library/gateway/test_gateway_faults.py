"""Through the real path: gateway -> litellm Router -> HTTP -> fake provider."""

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from squadkit.gateway import (
    DeadlineExceeded,
    DeploymentFailure,
    Gateway,
    InvalidOutput,
    PromptRef,
    ProviderUnavailable,
    load_models_config,
)
from squadkit.testing import FakeOpenAIServer, Reply

MESSAGES = [{"role": "user", "content": "<ticket>I was charged twice, please refund</ticket>"}]
SCHEMA = {"type": "object", "required": ["queue"], "properties": {"queue": {"type": "string"}}}
GOOD = '{"queue": "billing"}'


def _deployment(server: FakeOpenAIServer, name: str, *, max_retries: int) -> dict[str, Any]:
    return {
        "model": f"openai/{name}",
        "api_base": server.base_url,
        "api_key_env": "FAKE_PROVIDER_KEY",
        "timeout_s": 2,
        "max_retries": max_retries,
        "input_cost_per_token": 0.000001,
        "output_cost_per_token": 0.000002,
    }


@pytest.fixture
def make_gateway(
    fake_openai: FakeOpenAIServer,
    fake_openai_backup: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
) -> Callable[..., Gateway]:
    """Alias `chat`: primary fake -> backup fake (no retries), both answering until told not to.

    Before each retry the gateway sleeps litellm's backoff (0.5 s x 2^n plus up to 0.75 s
    of jitter); no setting shortens it (`retry_after` is a floor). So a test gives the
    primary only the retries its behaviour needs. The overall deadline is far above what
    the calls need, so a loaded machine cannot reach it: the test of the deadline sets its
    own.
    """
    fake_openai.default = Reply.ok(GOOD)
    fake_openai_backup.default = Reply.ok(GOOD)

    def make(*, primary_retries: int = 1, allowed_fails: int = 1) -> Gateway:
        path = write_models(
            {
                "routing": {"allowed_fails": allowed_fails, "cooldown_s": 60, "deadline_s": 120},
                "aliases": {
                    "chat": {
                        "deployments": [
                            _deployment(
                                fake_openai, "primary-2025-01-01", max_retries=primary_retries
                            ),
                            _deployment(fake_openai_backup, "backup-2025-01-01", max_retries=0),
                        ]
                    }
                },
            }
        )
        return Gateway(load_models_config(path))

    return make


@pytest.fixture
def gateway(make_gateway: Callable[..., Gateway]) -> Gateway:
    """The primary retries once, one failure a minute is allowed before a cooldown."""
    return make_gateway()


async def test_retry_after_429_then_success(
    gateway: Gateway, fake_openai: FakeOpenAIServer
) -> None:
    # litellm honours whole seconds only. Its own first backoff is 0.5 s plus up to 0.75 s of
    # jitter, so a wait of 2 s or more between the two requests comes from the header.
    fake_openai.script(Reply.error(429, retry_after=2))
    completion = await gateway.acomplete("chat", MESSAGES, output_schema=SCHEMA)
    first, retry = fake_openai.received_at
    assert retry - first >= 2
    assert completion.output == {"queue": "billing"}
    assert completion.deployment == "openai/primary-2025-01-01"
    assert not completion.fallback_used
    assert completion.attempts == 2
    assert fake_openai.request_count == 2


async def test_falls_back_to_second_deployment(
    gateway: Gateway, fake_openai: FakeOpenAIServer, fake_openai_backup: FakeOpenAIServer
) -> None:
    fake_openai.default = Reply.error(500)
    completion = await gateway.acomplete("chat", MESSAGES)
    assert completion.deployment == "openai/backup-2025-01-01"
    assert completion.fallback_used
    assert fake_openai.request_count == 2  # its one retry was spent before the fallback
    assert fake_openai_backup.request_count == 1


async def test_cooldown_skips_dead_deployment_on_next_call(
    make_gateway: Callable[..., Gateway], fake_openai: FakeOpenAIServer
) -> None:
    # allowed_fails 0: the first failure cools the primary down; no retry, so no backoff.
    gateway = make_gateway(primary_retries=0, allowed_fails=0)
    fake_openai.default = Reply.error(503)
    first = await gateway.acomplete("chat", MESSAGES)
    assert first.fallback_used
    assert fake_openai.request_count == 1
    second = await gateway.acomplete("chat", MESSAGES)
    assert second.fallback_used
    assert fake_openai.request_count == 1


async def test_deadline_is_respected(gateway: Gateway, fake_openai: FakeOpenAIServer) -> None:
    # The first call imports litellm and builds the Router: seconds of CPU on a busy
    # machine that no deadline can interrupt, so it happens before the timed call.
    await gateway.acomplete("chat", MESSAGES)
    fake_openai.default = Reply.broken("hang")
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(DeadlineExceeded, match=r"0\.5 s deadline"):
        await gateway.acomplete("chat", MESSAGES, deadline_s=0.5)
    assert loop.time() - started < 1.5


async def test_401_is_not_retried(gateway: Gateway, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.default = Reply.error(401)
    completion = await gateway.acomplete("chat", MESSAGES)
    assert fake_openai.request_count == 1
    assert completion.fallback_used


async def test_403_is_not_retried(gateway: Gateway, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.default = Reply.error(403)
    completion = await gateway.acomplete("chat", MESSAGES)
    assert fake_openai.request_count == 1
    assert completion.fallback_used
    [failure] = completion.failures
    assert (failure.cause, failure.status_code, failure.attempts) == ("auth", 403, 1)


async def test_a_422_falls_back_like_a_400(
    gateway: Gateway, fake_openai: FakeOpenAIServer, fake_openai_backup: FakeOpenAIServer
) -> None:
    # litellm sends a 422'd request once more, then returns nothing instead of raising.
    fake_openai.default = Reply.error(422)
    completion = await gateway.acomplete("chat", MESSAGES)
    assert completion.deployment == "openai/backup-2025-01-01"
    assert completion.fallback_used
    [failure] = completion.failures
    assert (failure.deployment, failure.cause, failure.status_code) == (
        "openai/primary-2025-01-01",
        "bad_request",
        422,
    )
    assert not failure.retryable
    assert fake_openai.request_count == 2  # litellm's resend, no retry of the gateway's
    assert fake_openai_backup.request_count == 1


async def test_a_chain_answering_422_everywhere_raises_provider_unavailable(
    gateway: Gateway, fake_openai: FakeOpenAIServer, fake_openai_backup: FakeOpenAIServer
) -> None:
    fake_openai.default = Reply.error(422)
    fake_openai_backup.default = Reply.error(422)
    with pytest.raises(ProviderUnavailable) as raised:
        await gateway.acomplete("chat", MESSAGES)
    failures = raised.value.failures
    assert [f.deployment for f in failures] == [
        "openai/primary-2025-01-01",
        "openai/backup-2025-01-01",
    ]
    assert {(f.cause, f.status_code, f.retryable) for f in failures} == {
        ("bad_request", 422, False)
    }
    assert "422" in str(raised.value)


async def test_all_down_lists_each_deployments_reason(
    make_gateway: Callable[..., Gateway],
    fake_openai: FakeOpenAIServer,
    fake_openai_backup: FakeOpenAIServer,
) -> None:
    gateway = make_gateway(primary_retries=0)
    fake_openai.default = Reply.error(500)
    fake_openai_backup.default = Reply.error(403)
    with pytest.raises(ProviderUnavailable) as caught:
        await gateway.acomplete("chat", MESSAGES)
    failures = caught.value.failures
    assert [f.deployment for f in failures] == [
        "openai/primary-2025-01-01",
        "openai/backup-2025-01-01",
    ]
    assert failures[0].status_code == 500
    assert failures[1].status_code == 403
    assert "not retried" in str(caught.value)


async def test_each_failed_deployment_carries_its_cause_error_type_and_pinned_model(
    make_gateway: Callable[..., Gateway],
    fake_openai: FakeOpenAIServer,
    fake_openai_backup: FakeOpenAIServer,
) -> None:
    gateway = make_gateway(primary_retries=0)
    fake_openai.default = Reply.error(429)
    fake_openai_backup.default = Reply.error(404)
    with pytest.raises(ProviderUnavailable) as caught:
        await gateway.acomplete("chat", MESSAGES)
    typed = [(f.deployment, f.cause, f.error_type, f.status_code) for f in caught.value.failures]
    assert typed == [
        ("openai/primary-2025-01-01", "rate_limited", "RateLimitError", 429),
        ("openai/backup-2025-01-01", "not_found", "NotFoundError", 404),
    ]


async def test_a_hung_and_an_unreachable_provider_fail_as_timeout_and_connection(
    sentinel_key: str,
    fake_openai: FakeOpenAIServer,
    write_models: Callable[[dict[str, Any]], Path],
) -> None:
    fake_openai.default = Reply.broken("hang")
    with FakeOpenAIServer() as closed:
        unreachable = closed.base_url  # nothing listens there once it has stopped
    hung = _deployment(fake_openai, "hung-2025-01-01", max_retries=0) | {"timeout_s": 0.5}
    gone = _deployment(fake_openai, "gone-2025-01-01", max_retries=0) | {"api_base": unreachable}
    path = write_models({"aliases": {"chat": {"deployments": [hung, gone]}}})
    with pytest.raises(ProviderUnavailable) as caught:
        await Gateway(load_models_config(path)).acomplete("chat", MESSAGES)
    typed = [(f.deployment, f.cause, f.error_type) for f in caught.value.failures]
    assert typed == [
        ("openai/hung-2025-01-01", "timeout", "Timeout"),
        ("openai/gone-2025-01-01", "connection", "InternalServerError"),  # as litellm maps it
    ]


def test_a_failure_without_http_status_is_typed_by_its_exception_and_key_free() -> None:
    # What an in-process (local/) model's exception becomes: no litellm involved.
    failure = DeploymentFailure.of(
        "local/triage-rules-v1", ConnectionResetError("peer reset, key sk-123"), secrets=["sk-123"]
    )
    assert (failure.cause, failure.error_type, failure.status_code) == (
        "connection",
        "ConnectionResetError",
        None,
    )
    assert str(failure) == "local/triage-rules-v1: ConnectionResetError: peer reset, key ***"
    assert DeploymentFailure.of("local/x", ValueError("no rule")).cause == "other"


async def test_invalid_output_is_repaired_once(
    gateway: Gateway, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(Reply.ok("Sure! The queue is billing."), Reply.ok(GOOD))
    completion = await gateway.acomplete("chat", MESSAGES, output_schema=SCHEMA)
    assert completion.output == {"queue": "billing"}
    assert "not valid" in fake_openai.requests[1]["messages"][-1]["content"]


async def test_invalid_output_twice_raises_invalid_output(
    gateway: Gateway, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(Reply.ok('{"queue": 3}'), Reply.ok("still not it"))
    with pytest.raises(InvalidOutput, match="repair"):
        await gateway.acomplete("chat", MESSAGES, output_schema=SCHEMA)
    assert fake_openai.request_count == 2


async def test_completion_carries_tokens_cost_and_prompt(gateway: Gateway) -> None:
    ref = PromptRef(name="triage", version=1, label="production", content_hash="abc")
    completion = await gateway.acomplete("chat", MESSAGES, prompt=ref)
    assert completion.prompt == ref
    assert completion.input_tokens > 0
    assert completion.output_tokens == 2
    assert completion.cost_usd > 0


async def test_sentinel_key_never_in_logs_errors_or_reprs(
    gateway: Gateway,
    fake_openai: FakeOpenAIServer,
    fake_openai_backup: FakeOpenAIServer,
    sentinel_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_openai.default = Reply.error(401)
    fake_openai_backup.default = Reply.error(500)
    with pytest.raises(ProviderUnavailable) as caught:
        await gateway.acomplete("chat", MESSAGES)
    seen = [caplog.text, str(caught.value), repr(caught.value), repr(gateway)]
    seen += [repr(f) for f in caught.value.failures]
    assert all(sentinel_key not in text for text in seen)
    # The key did reach the provider: the test would prove nothing otherwise.
    assert fake_openai.headers[0]["authorization"] == f"Bearer {sentinel_key}"


def test_sync_complete_works_for_scripts(gateway: Gateway) -> None:
    assert gateway.complete("chat", MESSAGES, output_schema=SCHEMA).output == {"queue": "billing"}

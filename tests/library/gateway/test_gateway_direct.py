"""A one-deployment chain with no rpm/tpm limit and no Redis skips litellm's Router.

It is called through `litellm.acompletion` itself (`squadkit/gateway/direct.py`), so the
gateway never builds a Router for it (`Gateway.router_built`), and it behaves as the Router
did: the same retries honouring Retry-After, the same typed failures, the same result. The
Router path of the same chain is reached by giving the deployment an rpm limit far above
what the test sends (the Router counts rpm; the direct path does not).
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from squadkit.gateway import DeadlineExceeded, Gateway, ProviderUnavailable, load_models_config
from squadkit.testing import FakeOpenAIServer, Reply

MESSAGES = [{"role": "user", "content": "<ticket>I was charged twice, please refund</ticket>"}]
ANSWER = '{"queue": "billing"}'
# A limit no test reaches: it only sends the chain through the Router.
THROUGH_ROUTER = {"rpm": 100_000}


@pytest.fixture
def one_deployment(
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
) -> Callable[..., Gateway]:
    """A gateway whose alias `chat` is one deployment of the fake provider (`extra` added)."""
    fake_openai.default = Reply.ok(ANSWER)

    def make(*, max_retries: int = 1, redis_url: str | None = None, **extra: Any) -> Gateway:
        deployment = {
            "model": "openai/only-2025-01-01",
            "api_base": fake_openai.base_url,
            "api_key_env": "FAKE_PROVIDER_KEY",
            "timeout_s": 5,
            "max_retries": max_retries,
            "input_cost_per_token": 0.000001,
            "output_cost_per_token": 0.000002,
            **extra,
        }
        path = write_models(
            {
                "routing": {"allowed_fails": 0, "cooldown_s": 60, "deadline_s": 120},
                "aliases": {"chat": {"deployments": [deployment]}},
            }
        )
        return Gateway(load_models_config(path), redis_url=redis_url)

    return make


def _outcome(completion_or_error: Any) -> tuple[Any, ...]:
    """What a caller sees of a call, its latency left out."""
    if isinstance(completion_or_error, ProviderUnavailable):
        return ("unavailable", str(completion_or_error), completion_or_error.failures)
    c = completion_or_error
    return (
        c.text,
        c.output,
        c.deployment,
        c.fallback_used,
        c.attempts,
        c.input_tokens,
        c.output_tokens,
        c.cost_usd,
        c.finish_reason,
        c.failures,
    )


async def _call(gateway: Gateway) -> Any:
    try:
        return await gateway.acomplete("chat", MESSAGES)
    except ProviderUnavailable as error:
        return error


async def test_one_deployment_call_is_answered_without_building_the_router(
    one_deployment: Callable[..., Gateway], fake_openai: FakeOpenAIServer
) -> None:
    gateway = one_deployment()
    completion = await gateway.acomplete("chat", MESSAGES)
    assert completion.text == ANSWER
    assert fake_openai.request_count == 1
    assert not gateway.router_built
    assert await gateway.cooled_down() == {}


@pytest.mark.parametrize(
    "extra", [{"rpm": 100_000}, {"tpm": 10_000_000}], ids=["rpm limit", "tpm limit"]
)
async def test_a_rate_limited_deployment_keeps_the_router(
    one_deployment: Callable[..., Gateway], extra: dict[str, Any]
) -> None:
    gateway = one_deployment(**extra)
    await gateway.acomplete("chat", MESSAGES)
    assert gateway.router_built


def test_shared_redis_state_keeps_the_router(one_deployment: Callable[..., Gateway]) -> None:
    # warm_up builds what the chains need, without a call (nothing is written to Redis).
    gateway = one_deployment(redis_url="redis://127.0.0.1:6379")
    gateway.warm_up()
    assert gateway.router_built


def test_warm_up_of_a_direct_chain_imports_litellm_without_a_router(
    one_deployment: Callable[..., Gateway],
) -> None:
    gateway = one_deployment()
    gateway.warm_up()
    assert not gateway.router_built


@pytest.mark.parametrize(
    ("replies", "max_retries"),
    [
        ([Reply.error(429, retry_after=2), Reply.ok(ANSWER)], 1),
        ([Reply.error(500), Reply.error(503)], 1),
        ([Reply.error(401)], 2),
        ([Reply.error(403)], 2),
        ([Reply.error(500), Reply.error(403)], 2),
    ],
    ids=[
        "429 then success",
        "500 and 503, one retry",
        "401 not retried",
        "403 not retried",
        "500 retried, then 403 not",
    ],
)
async def test_a_call_ends_the_same_with_and_without_the_router(
    one_deployment: Callable[..., Gateway],
    fake_openai: FakeOpenAIServer,
    replies: list[Reply],
    max_retries: int,
) -> None:
    seen = []
    for extra in ({}, THROUGH_ROUTER):
        fake_openai.reset()
        fake_openai.script(*replies)
        gateway = one_deployment(max_retries=max_retries, **extra)
        seen.append((_outcome(await _call(gateway)), fake_openai.request_count))
        assert gateway.router_built == bool(extra)
    direct, routed = seen
    assert direct == routed
    assert direct[1] == min(len(replies), max_retries + 1)


async def test_a_provider_answering_422_fails_the_same_with_and_without_the_router(
    one_deployment: Callable[..., Gateway], fake_openai: FakeOpenAIServer
) -> None:
    # litellm sends a 422'd request once more itself, then returns nothing instead of raising.
    seen = []
    for extra in ({}, THROUGH_ROUTER):
        fake_openai.reset()
        fake_openai.default = Reply.error(422)
        gateway = one_deployment(max_retries=2, **extra)
        outcome = await _call(gateway)
        assert isinstance(outcome, ProviderUnavailable)
        seen.append((_outcome(outcome), fake_openai.request_count))
    direct, routed = seen
    assert direct == routed
    [failure] = direct[0][2]
    assert (failure.cause, failure.status_code, failure.attempts) == ("bad_request", 422, 1)
    assert direct[1] == 2  # litellm's own resend; 422 is not retried


async def test_a_direct_retry_waits_the_retry_after_the_provider_asked_for(
    one_deployment: Callable[..., Gateway], fake_openai: FakeOpenAIServer
) -> None:
    # litellm's own first backoff is 0.5 s plus up to 0.75 s of jitter: 2 s comes from the header.
    fake_openai.script(Reply.error(429, retry_after=2), Reply.ok(ANSWER))
    gateway = one_deployment()
    completion = await gateway.acomplete("chat", MESSAGES)
    first, retry = fake_openai.received_at
    assert retry - first >= 2
    assert completion.attempts == 2
    assert [f.cause for f in completion.failures] == ["rate_limited"]
    assert not gateway.router_built


async def test_a_direct_call_past_its_deadline_raises_deadline_exceeded(
    one_deployment: Callable[..., Gateway], fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.default = Reply.broken("hang")
    gateway = one_deployment()  # 5 s per attempt: only the deadline can end this call
    with pytest.raises(DeadlineExceeded, match=r"0\.5 s deadline"):
        await gateway.acomplete("chat", MESSAGES, deadline_s=0.5)
    assert not gateway.router_built

"""litellm's message-logging redaction: on exactly when a callback could read the payload.

Through the real path (gateway -> litellm Router -> HTTP -> fake provider), with a real
litellm `CustomLogger` registered the way a squad would register one.
"""

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from squadkit.gateway import Gateway, load_models_config
from squadkit.gateway.router import tune_litellm
from squadkit.testing import FakeOpenAIServer, Reply

TICKET = "ticket-text-7f3a: my card was charged twice"
ANSWER = "answer-text-9c1e: billing"
MESSAGES = [{"role": "user", "content": TICKET}]
CALLBACK_LISTS = (
    "callbacks",
    "input_callback",
    "success_callback",
    "failure_callback",
    "service_callback",
    "_async_input_callback",
    "_async_success_callback",
    "_async_failure_callback",
)


@pytest.fixture
def litellm_callbacks() -> Iterator[Any]:
    """litellm with its callback lists and redaction flag restored after the test."""
    litellm = tune_litellm()
    saved = {name: list(getattr(litellm, name)) for name in CALLBACK_LISTS}
    flag = litellm.turn_off_message_logging
    yield litellm
    for name, callbacks in saved.items():
        getattr(litellm, name)[:] = callbacks
    litellm.turn_off_message_logging = flag


@pytest.fixture
def gateway(
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
) -> Gateway:
    fake_openai.default = Reply.ok(ANSWER)
    deployment = {
        "model": "openai/chat-2025-01-01",
        "api_base": fake_openai.base_url,
        "api_key_env": "FAKE_PROVIDER_KEY",
        "timeout_s": 5,
        "max_retries": 0,
        "input_cost_per_token": 0.000001,
        "output_cost_per_token": 0.000002,
    }
    path = write_models({"aliases": {"chat": {"deployments": [deployment]}}})
    return Gateway(load_models_config(path))


def _redacted_part(kwargs: Any, response_obj: Any) -> str:
    """The payload fields `turn_off_message_logging` blanks: the messages, the input, the
    standard logging payload and the answer. (This litellm still hands a callback the raw
    request body in `additional_args` and the raw answer in `original_response`: see the
    security note in docs/architecture.md.)"""
    fields = ("messages", "input", "prompt", "standard_logging_object")
    return repr([kwargs.get(name) for name in fields]) + repr(response_obj)


def _spy() -> Any:
    """A squad's own callback: it keeps the redactable part of what litellm hands it."""
    from litellm.integrations.custom_logger import CustomLogger  # noqa: PLC0415 - litellm is heavy

    class Spy(CustomLogger):  # type: ignore[misc]  # litellm is untyped
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []  # what litellm's redaction covers, as text
            self.logged = asyncio.Event()

        def log_success_event(
            self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
        ) -> None:
            self.seen.append(_redacted_part(kwargs, response_obj))
            # in a worker thread: the async one wakes the test

        async def async_log_success_event(
            self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
        ) -> None:
            self.seen.append(_redacted_part(kwargs, response_obj))
            self.logged.set()

    return Spy()


def test_a_registered_callback_never_sees_message_content(
    gateway: Gateway, litellm_callbacks: Any
) -> None:
    spy = _spy()
    litellm_callbacks.callbacks.append(spy)

    async def call_and_wait_for_the_log() -> str:
        completion = await gateway.acomplete("chat", MESSAGES)
        with contextlib.suppress(TimeoutError):  # litellm logs in a task after the call
            await asyncio.wait_for(spy.logged.wait(), timeout=10)
        return completion.text

    assert asyncio.run(call_and_wait_for_the_log()) == ANSWER
    assert spy.seen, "the callback was never called"
    assert litellm_callbacks.turn_off_message_logging is True
    for payload in spy.seen:
        assert TICKET not in payload
        assert ANSWER not in payload


def test_without_callbacks_litellm_does_not_redact(
    gateway: Gateway, litellm_callbacks: Any
) -> None:
    litellm_callbacks.turn_off_message_logging = True  # as an older squadkit left it
    assert asyncio.run(gateway.acomplete("chat", MESSAGES)).text == ANSWER
    assert litellm_callbacks.turn_off_message_logging is False


def test_redaction_follows_a_callback_removed_between_calls(
    gateway: Gateway, litellm_callbacks: Any
) -> None:
    spy = _spy()
    litellm_callbacks.callbacks.append(spy)
    asyncio.run(gateway.acomplete("chat", MESSAGES))
    assert litellm_callbacks.turn_off_message_logging is True
    for name in CALLBACK_LISTS:
        callbacks = getattr(litellm_callbacks, name)
        callbacks[:] = [callback for callback in callbacks if callback is not spy]
    asyncio.run(gateway.acomplete("chat", MESSAGES))
    assert litellm_callbacks.turn_off_message_logging is False

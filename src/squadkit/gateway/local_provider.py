"""Registers the offline `local/...` models with litellm as a custom provider.

A chain that mixes providers and offline models (the usual production chain, ending in a
`local/` last resort) goes through the Router, so its offline link takes the same path as a
real provider: retries, fallbacks, cooldowns, usage and cost accounting. A chain of offline
models only is answered in-process instead (`offline.py`), without importing litellm.
Only imported once litellm is needed (see `router.py`).
"""

from __future__ import annotations

import time
from typing import Any

import litellm
from litellm.llms.custom_llm import CustomLLM, CustomLLMError

from . import local_models

PROVIDER = "local"


class LocalProvider(CustomLLM):  # type: ignore[misc]  # litellm is untyped (Any) here
    """litellm custom handler answering `local/<model>` from `local_models`."""

    def completion(
        self, model: str, messages: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        return _respond(model, messages, kwargs.get("model_response"))

    async def acompletion(
        self, model: str, messages: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        return _respond(model, messages, kwargs.get("model_response"))


def _respond(model: str, messages: list[dict[str, Any]], model_response: Any) -> Any:
    name = model.split("/", 1)[1] if model.startswith(f"{PROVIDER}/") else model
    try:
        answer = local_models.answer(name, messages)
    except KeyError:
        known = ", ".join(f"{PROVIDER}/{m}" for m in sorted(local_models.known_models()))
        raise CustomLLMError(
            status_code=404, message=f"unknown local model '{model}'; known: {known}"
        ) from None
    response = model_response if model_response is not None else litellm.ModelResponse()
    response.choices = [
        litellm.Choices(
            index=0,
            finish_reason="stop",
            message=litellm.Message(role="assistant", content=answer.text),
        )
    ]
    response.model = f"{PROVIDER}/{name}"
    response.created = int(time.time())
    response.usage = litellm.Usage(
        prompt_tokens=answer.input_tokens,
        completion_tokens=answer.output_tokens,
        total_tokens=answer.input_tokens + answer.output_tokens,
    )
    return response


def register() -> None:
    """Add the `local` provider to litellm once per process (idempotent)."""
    if any(item.get("provider") == PROVIDER for item in litellm.custom_provider_map):
        return
    litellm.custom_provider_map = [
        *litellm.custom_provider_map,
        {"provider": PROVIDER, "custom_handler": LocalProvider()},
    ]
    litellm.utils.custom_llm_setup()

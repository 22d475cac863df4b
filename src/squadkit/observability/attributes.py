"""A gateway call in the GenAI semantic conventions' terms: its span and log attributes.

Pure functions from the gateway's types (prompt, request params, messages, failures) to
attribute dicts and log fields, so `GenAIObserver` reads as what happens when, and the
mapping to the conventions (`semconv`) is in one place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import semconv as sc
from .redaction import Redactor
from .telemetry import Attributes

if TYPE_CHECKING:  # the gateway's types; observability never imports the gateway at run time
    from ..calls import DeploymentFailure, PromptRef

# Request params the conventions name, by litellm/OpenAI param name.
_PARAM_ATTRIBUTES = {
    "temperature": sc.REQUEST_TEMPERATURE,
    "max_tokens": sc.REQUEST_MAX_TOKENS,
    "max_completion_tokens": sc.REQUEST_MAX_TOKENS,
    "top_p": sc.REQUEST_TOP_P,
    "top_k": sc.REQUEST_TOP_K,
    "seed": sc.REQUEST_SEED,
    "frequency_penalty": sc.REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": sc.REQUEST_PRESENCE_PENALTY,
}


def prompt_attributes(prompt: PromptRef | None) -> Attributes:
    if prompt is None:
        return {}
    attributes: Attributes = {
        sc.PROMPT_NAME: prompt.name,
        sc.PROMPT_VERSION: str(prompt.version),
        sc.PROMPT_HASH: prompt.content_hash,
    }
    if prompt.label:
        attributes[sc.PROMPT_LABEL] = prompt.label
    return attributes


def request_attributes(params: Mapping[str, Any]) -> Attributes:
    attributes: Attributes = {}
    for param, value in params.items():
        name = _PARAM_ATTRIBUTES.get(param)
        if name is not None and isinstance(value, int | float) and not isinstance(value, bool):
            attributes[name] = value
        elif param == "stop" and value:
            attributes[sc.REQUEST_STOP_SEQUENCES] = (
                [value] if isinstance(value, str) else [str(item) for item in value]
            )
    return attributes


def messages_json(messages: Sequence[Mapping[str, Any]], redact: Redactor) -> str:
    """Messages in the conventions' `gen_ai.input.messages` shape, redacted, as JSON."""
    shaped = [
        {
            "role": str(message.get("role", "user")),
            "parts": [{"type": "text", "content": redact(str(message.get("content", "")))}],
        }
        for message in messages
    ]
    return json.dumps(shaped, ensure_ascii=False)


def inputs_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """What the grounding scorer checks quotes against: the user's messages."""
    return "\n".join(
        str(message.get("content", "")) for message in messages if message.get("role") == "user"
    )


def failure_attributes(failure: DeploymentFailure) -> Attributes:
    """Which pinned model failed and how, read from the failure's typed fields."""
    return {
        sc.PROVIDER_NAME: sc.provider_name(failure.deployment),
        sc.REQUEST_MODEL: sc.model_name(failure.deployment),
        sc.ERROR_TYPE: failure.error_type or "_OTHER",  # None: skipped, nothing was raised
        sc.FAILURE_CAUSE: failure.cause,
    }


def prompt_fields(prompt: PromptRef | None) -> dict[str, Any]:
    if prompt is None:
        return {}
    return {
        "prompt": prompt.name,
        "prompt_version": str(prompt.version),
        "prompt_label": prompt.label,
        "prompt_hash": prompt.content_hash,
    }

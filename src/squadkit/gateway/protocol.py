"""`ModelGateway`: what a feature needs of a gateway, so the evals can stand in for it.

A feature renders its prompt and hands the result over whole,
`await gateway.acomplete_prompt(rendered, deadline_s=...)`: the alias, messages, params,
output schema and the prompt's identity travel as one value, and the `Completion` that comes
back carries that identity (`completion.provenance`). `acomplete` is the lower-level call
for messages that no prompt file made.

A feature's entry point is typed against this protocol, not against `Gateway`: the service
passes its real `Gateway`, and the eval runner passes one answered from its recordings (or
through the real gateway, recording), so the feature's own code runs in both. Whatever
answers raises the gateway's typed errors (`InvalidOutput`, `ProviderUnavailable`,
`DeadlineExceeded`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ..calls import Completion, Message, PromptRef, RenderedPrompt


class ModelGateway(Protocol):
    """Anything with `Gateway`'s two calls and their guarantees."""

    async def acomplete_prompt(
        self, rendered: RenderedPrompt, *, deadline_s: float | None = None
    ) -> Completion: ...

    async def acomplete(
        self,
        alias: str,
        messages: Sequence[Message],
        *,
        params: Mapping[str, Any] | None = None,
        output_schema: Mapping[str, Any] | None = None,
        prompt: PromptRef | None = None,
        deadline_s: float | None = None,
    ) -> Completion: ...


class PromptCalls:
    """`acomplete_prompt` in terms of `acomplete`, written once for every gateway.

    `Gateway` and the evals' recorded gateway inherit it, so a rendered prompt is unpacked
    into the call in one place; `self` is typed as the protocol, so the class it is mixed
    into supplies `acomplete`.
    """

    async def acomplete_prompt(
        self: ModelGateway, rendered: RenderedPrompt, *, deadline_s: float | None = None
    ) -> Completion:
        """Ask the rendered prompt's alias to answer it: its messages, params, schema, ref."""
        return await self.acomplete(
            rendered.model,
            rendered.messages,
            params=rendered.params,
            output_schema=rendered.output_schema,
            prompt=rendered.ref,
            deadline_s=deadline_s,
        )

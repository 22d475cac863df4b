"""A suite's `target: {feature: ...}`: each case through the feature's own code.

The runner builds the feature's input model from the case's `inputs` (a validation error is
that case's error, scored 0), calls the feature's entry point and scores what it returns.
The modes apply below the feature, at the gateway boundary: the feature gets a
`RecordedGateway`, a `ModelGateway` whose calls go through the run's `ModelCaller` (live,
record or replay) for this case and sample, raising the gateway's typed errors from
recorded failures; and a `PinnedRegistry`, which serves the arm's version of the feature's
prompt whatever label the feature asks for. A feature that renders the messages the bare
prompt renders makes the same requests, so recordings are shared with prompt targets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..calls import Completion, Message, PromptRef
from ..errors import SquadError, invalid_field
from ..gateway.errors import DeadlineExceeded, GatewayError, InvalidOutput, ProviderUnavailable
from ..gateway.protocol import PromptCalls
from ..prompts import PromptInputError, PromptRegistry, PromptVersion
from .cache import RecordedResponse

if TYPE_CHECKING:
    from ..features import Feature
    from .caller import ModelCaller
    from .dataset import Case


class PinnedRegistry(PromptRegistry):
    """The registry with one prompt pinned to one version, whatever label is asked for."""

    def __init__(self, registry: PromptRegistry, pinned: PromptVersion) -> None:
        versions = {
            name: {v.version: v for v in registry.versions(name)} for name in registry.names()
        }
        super().__init__(registry.prompts_dir, versions, registry.labels, registry.label_overrides)
        self.pinned = pinned

    def get(
        self, name: str, *, label: str | None = None, version: int | None = None
    ) -> PromptVersion:
        if name == self.pinned.name and version is None:
            return self.pinned
        return super().get(name, label=label, version=version)


@dataclass
class RecordedGateway(PromptCalls):
    """The gateway one feature call sees in an eval: one case, one sample, the run's mode.

    `alias_override` (an arm's `model`) answers the calls made for `prompt` on another
    alias. `calls` keeps every answer, for the report's provenance and the arm's models.
    """

    caller: ModelCaller
    case_id: str
    sample: int
    prompt: str
    alias_override: str | None = None
    calls: list[RecordedResponse] = field(default_factory=list)

    async def acomplete(
        self,
        alias: str,
        messages: Sequence[Message],
        *,
        params: Mapping[str, Any] | None = None,
        output_schema: Mapping[str, Any] | None = None,
        prompt: PromptRef | None = None,
        deadline_s: float | None = None,
    ) -> Completion:
        if self.alias_override is not None and prompt is not None and prompt.name == self.prompt:
            alias = self.alias_override
        response = await self.caller.call(
            alias,
            [dict(message) for message in messages],
            case_id=self.case_id,
            params=dict(params) if params is not None else None,
            output_schema=dict(output_schema) if output_schema is not None else None,
            prompt=prompt,
            deadline_s=deadline_s,
            sample=self.sample,
        )
        self.calls.append(response)
        if response.error is not None:
            raise gateway_error(response, deadline_s)
        return Completion.of(
            response,
            alias=response.alias,
            deployment=response.deployment or "",
            attempts=response.attempts,
            prompt=prompt,
        )


def gateway_error(response: RecordedResponse, deadline_s: float | None) -> GatewayError:
    """The typed error a real gateway raised for a failed call, with its recorded message.

    A failure with a deployment is the model's invalid answer (`InvalidOutput`, recorded);
    one without is an outage or a deadline (live and record only: never recorded).
    """
    message = response.error or "the call failed"
    error: GatewayError
    if response.deployment:
        problem = message.partition("repair attempt: ")[2] or message
        error = InvalidOutput(response.alias, response.deployment, problem)
    elif "deadline" in message:
        error = DeadlineExceeded(response.alias, deadline_s or 0.0)
    else:
        error = ProviderUnavailable(response.alias, [])
    error.args = (message,)  # str(error) is what the gateway said, word for word
    return error


@dataclass(frozen=True)
class FeatureAnswer:
    """What one case's feature call produced: the response the scorers read, and the calls."""

    response: RecordedResponse
    calls: list[RecordedResponse]


async def answer_with_feature(
    feature: Feature[Any, Any],
    *,
    registry: PinnedRegistry,
    caller: ModelCaller,
    case: Case,
    sample: int,
    label: str | None,
    alias_override: str | None,
    deadline_s: float | None,
) -> FeatureAnswer:
    """Run `feature` on `case`; its answer, or its failure as the case's error."""
    alias = alias_override or registry.pinned.model
    try:
        inputs = feature.input_model.model_validate(case.inputs)
    except ValidationError as error:
        problem = (
            f"inputs do not fit feature '{feature.name}' ({feature.input_model.__name__}): "
            + invalid_field(error, whole="(inputs)")
        )
        return FeatureAnswer(RecordedResponse(alias=alias, error=problem), [])
    gateway = RecordedGateway(
        caller, case.id, sample, prompt=feature.prompt, alias_override=alias_override
    )
    try:
        output = await feature.run(
            inputs, registry=registry, gateway=gateway, label=label, deadline_s=deadline_s
        )
        answer = feature.answer_of(output)
    except (GatewayError, PromptInputError) as error:
        return FeatureAnswer(_failed(alias, gateway.calls, str(error)), gateway.calls)
    except SquadError:
        raise  # a replay miss, a config error: the run's problem, not this case's
    except Exception as error:  # the feature rejected the answer (or has a bug): this case's
        problem = f"feature '{feature.name}' raised {type(error).__name__}: {error}"
        return FeatureAnswer(_failed(alias, gateway.calls, problem), gateway.calls)
    return FeatureAnswer(_answered(alias, gateway.calls, answer), gateway.calls)


def _answered(
    alias: str, calls: list[RecordedResponse], answer: dict[str, Any]
) -> RecordedResponse:
    """The feature's answer with the provenance of the calls it made.

    The text is the model's own when the feature passed its answer through unchanged (so a
    judge grades the same words as for the bare prompt, and its recordings stay valid), and
    the answer's JSON when the feature changed it.
    """
    answered = [c for c in calls if c.error is None]
    text = next(
        (c.text for c in reversed(answered) if c.output == answer),
        json.dumps(answer, ensure_ascii=False),
    )
    return _with_provenance(RecordedResponse(alias=alias, text=text, output=answer), calls)


def _failed(alias: str, calls: list[RecordedResponse], problem: str) -> RecordedResponse:
    return _with_provenance(RecordedResponse(alias=alias, error=problem), calls)


def _with_provenance(response: RecordedResponse, calls: list[RecordedResponse]) -> RecordedResponse:
    """Deployment and fallback of the last call that answered; latency, tokens, cost summed."""
    if not calls:
        return response
    answered = [c for c in calls if c.deployment] or calls
    last = answered[-1]
    return response.model_copy(
        update={
            "alias": last.alias,
            "deployment": last.deployment,
            "fallback_used": any(c.fallback_used for c in calls),
            "attempts": sum(c.attempts for c in calls),
            "latency_s": sum(c.latency_s for c in calls),
            "input_tokens": sum(c.input_tokens for c in calls),
            "output_tokens": sum(c.output_tokens for c in calls),
            "cost_usd": sum(c.cost_usd for c in calls),
        }
    )

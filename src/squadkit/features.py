"""Feature declarations: one AI feature, declared once, run by the service and by the evals.

A squad's feature module (`<package>.features.<name>`) ends with one declaration:

    FEATURE = Feature(
        name="triage",
        prompt="triage",
        input_model=Ticket,
        output_model=TriageResult,
        run=triage_ticket,
        answer=lambda result: result.decision,
    )

`run` is the feature's own async entry point, `run(inputs, *, registry, gateway, label,
deadline_s)`: it renders its prompt, calls the gateway, validates and post-processes the
answer. The service calls it per request (`squadkit.service.serve_feature(FEATURE, ...)`)
and the eval runner per case (a suite's `target: {feature: triage}`), so what is evaluated
is what is served. `answer` picks the part of the result the suite's scorers read (default:
the whole result), so per-call provenance such as latency stays out of the scores.
squadkit finds the declarations through the plugin seam (`plugins.squad_features`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from .errors import ConfigError

if TYPE_CHECKING:
    from .gateway import ModelGateway
    from .prompts import PromptRegistry
    from .prompts.check import ServedPrompt

__all__ = ["Feature", "FeatureEntry", "find_feature", "served_prompts"]

InputT = TypeVar("InputT", bound=BaseModel)
OutputT = TypeVar("OutputT", bound=BaseModel)
InputT_contra = TypeVar("InputT_contra", bound=BaseModel, contravariant=True)
OutputT_co = TypeVar("OutputT_co", bound=BaseModel, covariant=True)


class FeatureEntry(Protocol[InputT_contra, OutputT_co]):
    """A feature's async entry point: validated input, the registry, a gateway, a label."""

    def __call__(
        self,
        inputs: InputT_contra,
        /,
        *,
        registry: PromptRegistry,
        gateway: ModelGateway,
        label: str | None = None,
        deadline_s: float | None = None,
    ) -> Awaitable[OutputT_co]: ...


@dataclass(frozen=True)
class Feature(Generic[InputT, OutputT]):
    """One AI feature: its name, the prompt it renders, its typed input and output, its code."""

    name: str
    prompt: str
    input_model: type[InputT]
    output_model: type[OutputT]
    run: FeatureEntry[InputT, OutputT]
    answer: Callable[[OutputT], BaseModel] | None = None

    def answer_of(self, output: OutputT) -> dict[str, Any]:
        """The scored part of a result, as JSON (the whole result without `answer`)."""
        part = output if self.answer is None else self.answer(output)
        dumped: dict[str, Any] = part.model_dump(mode="json")
        return dumped


def find_feature(name: str) -> Feature[Any, Any]:
    """The squad's feature called `name`; a `ConfigError` listing the known ones if none is."""
    from .plugins import squad_features  # noqa: PLC0415 - imports the squad's package

    features: Mapping[str, Feature[Any, Any]] = squad_features()
    if name in features:
        return features[name]
    known = ", ".join(sorted(features)) or "(none)"
    raise ConfigError(
        f"no feature '{name}' among the squad's features ({known}); declare it as "
        "`FEATURE = Feature(name=...)` in a module of <package>.features"
    )


def served_prompts(
    label_overrides: Mapping[str, str], *, input_schemas: bool = False
) -> list[ServedPrompt]:
    """Each of the squad's features' prompts at the label a process serves it at: production,
    or the label `SQUAD_PROMPT_LABEL__<NAME>` pins (`label_overrides`). `squad prompts check`
    and `/readyz` require each to resolve to a version. With `input_schemas`, each carries its
    feature's input model as JSON schema (`squad prompts check` compares it with the
    prompt's `input_schema`)."""
    from .plugins import squad_features  # noqa: PLC0415 - imports the squad's package
    from .prompts.check import ServedPrompt  # noqa: PLC0415
    from .prompts.registry import DEFAULT_LABEL  # noqa: PLC0415

    return [
        ServedPrompt(
            name,
            feature.prompt,
            label_overrides.get(feature.prompt, DEFAULT_LABEL),
            _input_schema(feature) if input_schemas else None,
        )
        for name, feature in sorted(squad_features().items())
    ]


def _input_schema(feature: Feature[Any, Any]) -> dict[str, Any] | None:
    """The JSON schema of the feature's input model; None for a model JSON Schema cannot
    express (no contract can either, so there is nothing to compare)."""
    from pydantic import PydanticUserError  # noqa: PLC0415

    try:
        schema: dict[str, Any] = feature.input_model.model_json_schema()
    except PydanticUserError:
        return None
    return schema

"""A completion's structured output as the feature's own typed answer.

The gateway validated the output against the prompt's `output_schema`; a feature's pydantic
model may be stricter (its taxonomy as `Literal`s). `parse_answer` is the one place that
turns a mismatch into the gateway's `InvalidOutput`, naming the prompt version and the
field, so every feature reports it alike and none repeats the handling.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ..calls import Completion
from .errors import InvalidOutput

AnswerT = TypeVar("AnswerT", bound=BaseModel)


def parse_answer(completion: Completion, model: type[AnswerT]) -> AnswerT:
    """`completion.output` validated as `model`; `InvalidOutput` naming the field if not."""
    try:
        return model.model_validate(completion.output)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(answer)"
        prompt = completion.prompt
        where = f"{prompt.name}@v{prompt.version}: " if prompt is not None else ""
        raise InvalidOutput(
            completion.alias,
            completion.deployment,
            f"{where}answer field '{field}': {first['msg']}; tighten the prompt's "
            f"output_schema to {model.__name__}",
        ) from None

"""Structured output: the answer parsed as JSON and validated against the output schema.

The gateway's protocol when a call has an `output_schema`: parse the answer (a ```json
fence is tolerated), validate it, and on a problem ask the model once more with
`repair_messages`; a second problem is `InvalidOutput`. Kept apart from the call
machinery so the protocol reads in one place; jsonschema is imported on first use.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

# Part of the gateway's structured-output protocol (not a feature prompt): what the model
# is told when its first answer did not parse or validate.
REPAIR_INSTRUCTION = (
    "Your previous answer was not valid: {problem}. Reply again with only a JSON value "
    "that satisfies this JSON Schema, and no other text:\n{schema}"
)


def repair_messages(
    messages: list[dict[str, Any]], answer: str, problem: str, schema: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """The conversation of the one repair attempt: the first answer, then what is wrong."""
    return [
        *messages,
        {"role": "assistant", "content": answer},
        {
            "role": "user",
            "content": REPAIR_INSTRUCTION.format(problem=problem, schema=json.dumps(schema)),
        },
    ]


_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


@functools.lru_cache(maxsize=64)
def output_validator(schema_json: str) -> Validator:
    """A checked validator per distinct output schema, built once.

    `jsonschema.validate` re-checks the schema itself on every call (about 1.5 ms, a
    fifth of litellm's own cost per call); jsonschema is imported only when first needed.
    """
    from jsonschema import SchemaError, validators  # noqa: PLC0415

    schema = json.loads(schema_json)
    validator_class = validators.validator_for(schema)
    try:
        validator_class.check_schema(schema)
    except SchemaError as error:
        raise ConfigError(f"the output schema itself is invalid: {error.message}") from None
    return validator_class(schema)


def parse_output(text: str, schema: Mapping[str, Any] | None) -> tuple[Any, str | None]:
    """(parsed JSON, None) or (None, what is wrong). No schema: no parsing at all."""
    if schema is None:
        return None, None
    candidate = text.strip()
    fenced = _FENCE.match(candidate)
    if fenced:
        candidate = fenced.group(1)
    try:
        value = json.loads(candidate)
    except json.JSONDecodeError as error:
        return None, f"not JSON ({error.msg} at line {error.lineno} column {error.colno})"
    from jsonschema.exceptions import best_match  # noqa: PLC0415 - cached after first use

    validator = output_validator(json.dumps(schema, sort_keys=True))
    problem = best_match(validator.iter_errors(value))
    if problem is not None:
        where = "/".join(str(p) for p in problem.absolute_path) or "(root)"
        return None, f"{where}: {problem.message}"
    return value, None

"""Structured output: the answer parsed as JSON and validated against the output schema.

The gateway's protocol when a call has an `output_schema`: parse the answer (a ```json
fence is tolerated), validate it, and on a problem ask the model once more with
`repair_messages`; a second problem is `InvalidOutput`. Kept apart from the call
machinery so the protocol reads in one place; validators come from `json_schema`, which
imports jsonschema on first use and builds one validator per schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .. import json_schema
from ..errors import ConfigError

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
    try:
        validator = json_schema.validator(schema, dialect="declared", checked=True)
    except json_schema.InvalidSchema as error:
        raise ConfigError(f"the output schema itself is invalid: {error}") from None
    problem = json_schema.best_error(validator, value)
    if problem is not None:
        return None, json_schema.described(problem)
    return value, None

"""Whether a feature's API accepts exactly the inputs its prompt accepts.

A feature's input model (its request body in the service's contract) and its prompt's
`input_schema` both limit the same fields. When they differ, the contract tells the
platform one thing and the prompt does another: a ticket the API accepts is refused when
the prompt renders (the caller gets an error for a request the contract allows), or the
API refuses what the prompt was written and evaluated for. Prompt versions are immutable
once locked and the model is code, so neither is derived from the other at run time;
`squad prompts check` compares them and names every difference instead.

Compared, field by field (properties, array items and `anyOf` branches, `$ref`s
resolved): `type`, `enum`, `const`, the length, size and range limits, `required`,
`additionalProperties` and the set of fields. A `pattern` must be equal when the prompt
declares one; the API may add its own (a shape check such as "not blank", `\\S`, that the
prompt's schema does not spell). Titles, descriptions, defaults and examples are prose.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["LIMIT_KEYWORDS", "limit_differences"]

LIMIT_KEYWORDS = (
    "type",
    "enum",
    "const",
    "format",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "additionalProperties",
)
_MAX_DEPTH = 32  # a schema nested deeper than this is compared no further (and said so)


def limit_differences(api: Mapping[str, Any], prompt: Mapping[str, Any]) -> list[str]:
    """One line per limit on which `api` (the input model's JSON schema) and `prompt` (a
    prompt version's `input_schema`) differ, as `field.keyword: API x, prompt y`."""
    api_limits = _flatten(api, api, "", 0)
    prompt_limits = _flatten(prompt, prompt, "", 0)
    found = []
    for key in sorted(set(api_limits) | set(prompt_limits)):
        ours, theirs = api_limits.get(key, _ABSENT), prompt_limits.get(key, _ABSENT)
        if ours == theirs:
            continue
        if key.endswith("pattern") and theirs is _ABSENT:
            continue  # the API's own shape check; the prompt declares none
        found.append(f"{key}: API {_shown(ours)}, prompt {_shown(theirs)}")
    return found


class _Absent:
    def __repr__(self) -> str:
        return "absent"


_ABSENT: Any = _Absent()


def _shown(value: Any) -> str:
    return "absent" if value is _ABSENT else json.dumps(value, sort_keys=True)


def _flatten(schema: Any, root: Mapping[str, Any], where: str, depth: int) -> dict[str, Any]:
    """`{"field.keyword": value}` for every limit of `schema`, `$ref`s resolved in `root`."""
    schema = _resolved(schema, root)
    if not isinstance(schema, Mapping):
        return {where.rstrip(".") or "(schema)": schema}
    if depth > _MAX_DEPTH:
        return {f"{where}(nesting)": "too deep to compare"}
    limits = _keywords(schema, root, where, depth)
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        limits[where + "properties"] = sorted(properties)
        for name, subschema in properties.items():
            limits.update(_flatten(subschema, root, f"{where}{name}.", depth + 1))
    if isinstance(schema.get("required"), list):
        limits[where + "required"] = sorted(schema["required"])
    if "items" in schema:
        limits.update(_flatten(schema["items"], root, f"{where}[].", depth + 1))
    for combinator in ("anyOf", "oneOf", "allOf"):
        branches = schema.get(combinator)
        if isinstance(branches, list):
            limits[where + combinator] = len(branches)
            for index, branch in enumerate(branches):
                limits.update(_flatten(branch, root, f"{where}{combinator}[{index}].", depth + 1))
    return limits


def _keywords(
    schema: Mapping[str, Any], root: Mapping[str, Any], where: str, depth: int
) -> dict[str, Any]:
    """The `LIMIT_KEYWORDS` of `schema` itself (an enum in a stable order)."""
    limits: dict[str, Any] = {}
    for keyword in LIMIT_KEYWORDS:
        if keyword not in schema:
            continue
        value = schema[keyword]
        if keyword == "enum" and isinstance(value, list):
            value = sorted(value, key=lambda item: json.dumps(item, sort_keys=True))
        elif keyword == "additionalProperties" and isinstance(value, Mapping):
            limits.update(_flatten(value, root, f"{where}(additional).", depth + 1))
            continue
        limits[where + keyword] = value
    return limits


def _resolved(schema: Any, root: Mapping[str, Any]) -> Any:
    """`schema` with a local `$ref` (`#/$defs/...`, `#/definitions/...`) followed."""
    for _ in range(_MAX_DEPTH):
        if not isinstance(schema, Mapping) or not isinstance(schema.get("$ref"), str):
            return schema
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target.get(part) if isinstance(target, Mapping) else None
        if target is None:
            return schema
        schema = target
    return schema

"""JSON Schema validation for every capability, behind one import boundary.

jsonschema is imported here only, inside the functions that need it, so `squad --help` and
a `squad prompts check` that finds nothing new never load it. Building a validator is the
costly part (its class, its reference resolver; `jsonschema.validate` even re-checks the
schema itself on every call), so each distinct schema gets one validator, kept here and
shared by the gateway's structured output, the prompt registry, the eval scorers and
online quality scoring. A schema is told apart by its JSON text, so an equal schema in
another object (a reloaded prompt, a scorer's copy) reuses the validator, and a schema
edited in place after use gets a new one.

Each caller keeps its own wording of an error (a path joined by `/` or `.`, what the root
is called); `where` and `described` are the two shapes they share.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

__all__ = [
    "Dialect",
    "InvalidSchema",
    "best_error",
    "described",
    "first_error",
    "metaschema_validator",
    "schema_problem",
    "validator",
    "where",
]

Dialect = Literal["2020-12", "declared"]
"""Which draft validates: 2020-12 always, or the one the schema's `$schema` declares (the
latest, 2020-12, when it declares none)."""

_MAX_SCHEMAS = 256  # distinct schemas kept; a process uses a handful, a test suite more
_validators: dict[tuple[str, Dialect], Validator] = {}
_problems: dict[tuple[str, Dialect], str | None] = {}


def _key(schema: Mapping[str, Any] | bool, dialect: Dialect) -> tuple[str, Dialect]:
    return json.dumps(schema, sort_keys=True, default=str), dialect


def _keep(store: dict[tuple[str, Dialect], Any], key: tuple[str, Dialect], value: Any) -> None:
    if len(store) >= _MAX_SCHEMAS:
        store.clear()  # rare (hundreds of distinct schemas); rebuilding is cheap enough
    store[key] = value


def _validator_class(schema: Mapping[str, Any] | bool, dialect: Dialect) -> Any:
    from jsonschema import validators  # noqa: PLC0415 - the one jsonschema boundary

    if dialect == "declared":
        return validators.validator_for(schema)
    return validators.Draft202012Validator


class InvalidSchema(ValueError):
    """The schema itself is not a valid JSON Schema; the message is jsonschema's."""


def validator(
    schema: Mapping[str, Any] | bool, *, dialect: Dialect = "2020-12", checked: bool = False
) -> Validator:
    """The validator of `schema`, built on first use and reused for every equal schema.

    `checked`: raise `InvalidSchema` when the schema itself is invalid (checked once per
    schema). Unchecked is for schemas checked already, such as a prompt's, checked when its
    file was loaded.
    """
    key = _key(schema, dialect)
    if checked:
        problem = _problem(key, schema)
        if problem is not None:
            raise InvalidSchema(problem)
    found = _validators.get(key)
    if found is None:
        # A copy: a caller editing its schema in place must not change the shared validator.
        found = _validator_class(schema, dialect)(copy.deepcopy(schema))
        _keep(_validators, key, found)
    return found


def schema_problem(schema: Mapping[str, Any] | bool, *, dialect: Dialect = "2020-12") -> str | None:
    """What is wrong with `schema` itself, in jsonschema's words; None when it is valid."""
    return _problem(_key(schema, dialect), schema)


def _problem(key: tuple[str, Dialect], schema: Mapping[str, Any] | bool) -> str | None:
    if key in _problems:
        return _problems[key]
    from jsonschema import SchemaError  # noqa: PLC0415

    problem = None
    try:
        _validator_class(schema, key[1]).check_schema(schema)
    except SchemaError as error:
        problem = error.message
    _keep(_problems, key, problem)
    return problem


def best_error(validator: Validator, instance: Any) -> ValidationError | None:
    """The error that best explains why `instance` is invalid (jsonschema's `best_match`);
    None when it is valid."""
    from jsonschema.exceptions import best_match  # noqa: PLC0415

    error: ValidationError | None = best_match(validator.iter_errors(instance))
    return error


def first_error(validator: Validator, instance: Any) -> ValidationError | None:
    """The first error found (cheaper than `best_error`); None when `instance` is valid."""
    error: ValidationError | None = next(iter(validator.iter_errors(instance)), None)
    return error


def where(error: ValidationError, *, separator: str = "/", root: str = "(root)") -> str:
    """The path of the invalid value inside the instance, or `root` for the whole of it."""
    return separator.join(str(part) for part in error.absolute_path) or root


def described(error: ValidationError, *, separator: str = "/", root: str = "(root)") -> str:
    """`<where>: <jsonschema's message>`."""
    return f"{where(error, separator=separator, root=root)}: {error.message}"


@cache
def metaschema_validator() -> Validator:
    """Draft 2020-12's metaschema, with format checking: what a schema in a file must be."""
    from jsonschema import Draft202012Validator  # noqa: PLC0415

    meta = Draft202012Validator.META_SCHEMA
    return Draft202012Validator(meta, format_checker=Draft202012Validator.FORMAT_CHECKER)

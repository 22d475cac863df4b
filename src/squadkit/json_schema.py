"""JSON Schema validation for every capability, behind one import boundary.

jsonschema is imported here only, inside the functions that need it, so `squad --help` and
a `squad prompts check` that finds nothing new never load it. Building a validator is the
costly part (its class, its reference resolver; `jsonschema.validate` even re-checks the
schema itself on every call), so each distinct schema gets one validator, kept here and
shared by the gateway's structured output, the prompt registry, the eval scorers and
online quality scoring. A schema is told apart by its JSON text, so an equal schema in
another object (a reloaded prompt, a scorer's copy) reuses the validator, and a schema
edited in place after use gets a new one.

Validating is the other cost: jsonschema walks a schema through its generic keyword
machinery (a new validator object per subschema), a few hundred thousand instructions for
a four-field object, twice per request in the service (the prompt's inputs, the model's
answer). So a validator built here also gets a quick check for the plain schemas prompts
use (`type`, `enum`, `const`, `required`, `properties`, `additionalProperties`,
`minLength`, `maxLength`, annotations), which says only "certainly valid" or "ask
jsonschema": a valid instance skips jsonschema, any other goes through it unchanged, so
every error and every verdict is still jsonschema's. A schema with any other keyword has no
quick check.

Each caller keeps its own wording of an error (a path joined by `/` or `.`, what the root
is called); `where` and `described` are the two shapes they share.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
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
# id(validator) -> (the validator, its quick check); the entry keeps the validator alive,
# so its id cannot be reused by another one while the entry exists.
_quick: dict[int, tuple[Validator, Callable[[Any], bool]]] = {}
# The schema objects seen, by id: (the object, a copy of it then, its validator). A caller
# that passes the same object on every call (a prompt's output schema) is served without
# writing the schema as JSON again (the key costs more than the quick check); comparing the
# copy notices an edit in place (but not one to an equal value, as 1 to 1.0).
_seen: dict[tuple[int, Dialect, bool], tuple[object, Any, Validator]] = {}


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
    seen = _seen.get((id(schema), dialect, checked))
    if seen is not None and seen[0] is schema and seen[1] == schema:
        return seen[2]
    key = _key(schema, dialect)
    if checked:
        problem = _problem(key, schema)
        if problem is not None:
            raise InvalidSchema(problem)
    found = _validators.get(key)
    if found is None:
        # A copy: a caller editing its schema in place must not change the shared validator.
        copied = copy.deepcopy(schema)
        validator_class = _validator_class(schema, dialect)
        found = validator_class(copied)
        _keep(_validators, key, found)
        from jsonschema import Draft202012Validator  # noqa: PLC0415

        # The quick check follows 2020-12 without a format checker: only that class gets one.
        check = _quick_check(copied) if validator_class is Draft202012Validator else None
        if check is not None:
            if len(_quick) >= _MAX_SCHEMAS:
                _quick.clear()
            _quick[id(found)] = (found, check)
    if len(_seen) >= _MAX_SCHEMAS:
        _seen.clear()
    _seen[(id(schema), dialect, checked)] = (schema, copy.deepcopy(schema), found)
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
    if _certainly_valid(validator, instance):
        return None
    from jsonschema.exceptions import best_match  # noqa: PLC0415

    error: ValidationError | None = best_match(validator.iter_errors(instance))
    return error


def first_error(validator: Validator, instance: Any) -> ValidationError | None:
    """The first error found (cheaper than `best_error`); None when `instance` is valid."""
    if _certainly_valid(validator, instance):
        return None
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


# -- the quick check -----------------------------------------------------------------------
# Each check answers True only when jsonschema (Draft 2020-12, no format checker) would find
# no error; False means "not sure", and jsonschema decides. Keywords that only annotate are
# skipped; any other keyword leaves the schema without a quick check.

_ANNOTATIONS = frozenset(
    {"$comment", "title", "description", "examples", "default", "deprecated", "readOnly"}
    | {"writeOnly", "format"}  # format: asserted only with a format checker
)
_DRAFT_2020_12 = frozenset(
    {
        "https://json-schema.org/draft/2020-12/schema",
        "https://json-schema.org/draft/2020-12/schema#",
    }
)
# Narrower than jsonschema's types where it is cheaper (1.0 is an integer there, an IntEnum
# member a number): an instance outside them is only "not sure".
_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "integer": lambda value: type(value) is int,
    "number": lambda value: type(value) in (int, float),
}


def _certainly_valid(validator: Validator, instance: Any) -> bool:
    quick = _quick.get(id(validator))
    return quick is not None and quick[0] is validator and quick[1](instance)


Check = Callable[[Any], bool]
_SKIP: Check = lambda _: True  # noqa: E731 - a keyword that adds nothing to check


def _quick_check(schema: Any) -> Check | None:
    """The quick check of `schema`, or None when it uses a keyword the check does not know.

    Plain loops and set comparisons rather than generators: a check runs on every call."""
    if isinstance(schema, bool):
        return lambda _: schema  # False is never valid: jsonschema says why
    if not isinstance(schema, dict):
        return None
    string = _string_check(schema)
    if string is not None:
        return string
    checks: list[Check] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        build = _KEYWORDS.get(keyword)
        check = build(value, schema) if build is not None else None
        if check is None:
            return None
        if check is not _SKIP:
            checks.append(check)
    if len(checks) <= 1:
        return checks[0] if checks else _SKIP

    def every(instance: Any) -> bool:
        for check in checks:  # noqa: SIM110 - a loop: no generator made per call
            if not check(instance):
                return False
        return True

    return every


_STRING_KEYWORDS = frozenset({"type", "minLength", "maxLength", "enum"})


def _string_check(schema: dict[str, Any]) -> Check | None:
    """`{"type": "string"}` with only `minLength`, `maxLength` or `enum` beside it (the
    usual shape of a prompt's inputs and an answer's fields) as one check, not one call per
    keyword; None for any other schema."""
    if schema.get("type") != "string" or not schema.keys() - _ANNOTATIONS <= _STRING_KEYWORDS:
        return None
    low, high, enum = schema.get("minLength", 0), schema.get("maxLength"), schema.get("enum")
    if type(low) is not int or (high is not None and type(high) is not int):
        return None
    if enum is not None:
        if not isinstance(enum, list):
            return None
        allowed = frozenset(
            item
            for item in enum
            if isinstance(item, str) and len(item) >= low and (high is None or len(item) <= high)
        )
        return lambda instance: isinstance(instance, str) and instance in allowed
    if high is None:
        return lambda instance: isinstance(instance, str) and len(instance) >= low
    return lambda instance: isinstance(instance, str) and low <= len(instance) <= high


def _dialect(value: Any, schema: dict[str, Any]) -> Check | None:
    return _SKIP if isinstance(value, str) and value in _DRAFT_2020_12 else None


def _type(value: Any, schema: dict[str, Any]) -> Check | None:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or any(name not in _TYPES for name in names):
        return None
    tests = tuple(_TYPES[name] for name in names)
    if len(tests) == 1:
        return tests[0]
    return lambda instance: any(test(instance) for test in tests)


def _enum(value: Any, schema: dict[str, Any]) -> Check | None:
    if not isinstance(value, list):
        return None
    strings = frozenset(item for item in value if isinstance(item, str))
    return lambda instance: isinstance(instance, str) and instance in strings


def _const(value: Any, schema: dict[str, Any]) -> Check | None:
    return _enum([value], schema)


def _required(value: Any, schema: dict[str, Any]) -> Check | None:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        return None
    names = frozenset(value)
    return lambda instance: not isinstance(instance, dict) or instance.keys() >= names


def _min_length(value: Any, schema: dict[str, Any]) -> Check | None:
    if type(value) is not int:
        return None
    return lambda instance: not isinstance(instance, str) or len(instance) >= value


def _max_length(value: Any, schema: dict[str, Any]) -> Check | None:
    if type(value) is not int:
        return None
    return lambda instance: not isinstance(instance, str) or len(instance) <= value


def _properties(value: Any, schema: dict[str, Any]) -> Check | None:
    if not isinstance(value, dict):
        return None
    children = {name: _quick_check(child) for name, child in value.items()}
    known = {name: child for name, child in children.items() if child is not None}
    if len(known) != len(children):
        return None

    def properties(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        for name, item in instance.items():
            check = known.get(name)
            if check is not None and not check(item):
                return False
        return True

    return properties


def _additional_properties(value: Any, schema: dict[str, Any]) -> Check | None:
    declared = schema.get("properties", {})
    if "patternProperties" in schema or not isinstance(declared, dict):
        return None
    if value is True:
        return _SKIP
    if value is False:
        names = frozenset(declared)
        return lambda instance: not isinstance(instance, dict) or instance.keys() <= names
    extra = _quick_check(value)
    if extra is None:
        return None

    def additional(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        for name, item in instance.items():
            if name not in declared and not extra(item):
                return False
        return True

    return additional


_KEYWORDS: dict[str, Callable[[Any, dict[str, Any]], Check | None]] = {
    "$schema": _dialect,
    "type": _type,
    "enum": _enum,
    "const": _const,
    "required": _required,
    "minLength": _min_length,
    "maxLength": _max_length,
    "properties": _properties,
    "additionalProperties": _additional_properties,
}

"""JSON Schema validation behind one boundary: one validator per schema, checked schemas."""

import json
import subprocess
import sys
from typing import Any

import pytest

from squadkit import json_schema
from squadkit.errors import ConfigError
from squadkit.gateway.structured import parse_output

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["queue"],
    "properties": {"queue": {"enum": ["billing", "technical"]}},
}


def test_equal_schemas_in_different_objects_share_one_validator() -> None:
    copy = {"properties": {"queue": {"enum": ["billing", "technical"]}}, "required": ["queue"]}
    copy["type"] = "object"
    assert json_schema.validator(SCHEMA) is json_schema.validator(copy)


def test_a_schema_edited_in_place_is_validated_as_edited() -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {"n": {"type": "integer"}}}
    before = json_schema.validator(schema)
    schema["properties"]["n"]["type"] = "string"
    after = json_schema.validator(schema)
    assert json_schema.first_error(before, {"n": 1}) is None  # the first one is unchanged
    assert json_schema.first_error(after, {"n": 1}) is not None


def test_best_error_names_where_and_what() -> None:
    error = json_schema.best_error(json_schema.validator(SCHEMA), {"queue": "sales"})
    assert error is not None
    assert json_schema.described(error) == "queue: 'sales' is not one of ['billing', 'technical']"
    assert json_schema.where(error, separator=".") == "queue"
    assert json_schema.best_error(json_schema.validator(SCHEMA), {"queue": "billing"}) is None


def test_an_invalid_schema_is_refused_when_checked() -> None:
    broken = {"type": "object", "properties": {"queue": {"type": "strng"}}}
    assert json_schema.schema_problem(broken) is not None
    with pytest.raises(json_schema.InvalidSchema, match="strng"):
        json_schema.validator(broken, checked=True)
    assert json_schema.schema_problem(SCHEMA) is None


def test_a_declared_draft_is_honoured_only_when_asked() -> None:
    draft7 = {"$schema": "http://json-schema.org/draft-07/schema#", "dependencies": {"a": ["b"]}}
    declared = json_schema.validator(draft7, dialect="declared")
    assert json_schema.first_error(declared, {"a": 1}) is not None  # draft 7: "b" is required
    assert json_schema.first_error(json_schema.validator(draft7), {"a": 1}) is None  # 2020-12


def test_gateway_refuses_an_invalid_output_schema_with_a_config_error() -> None:
    with pytest.raises(ConfigError, match="the output schema itself is invalid"):
        parse_output('{"queue": "billing"}', {"type": "strng"})


def test_importing_the_boundary_does_not_import_jsonschema() -> None:
    code = "import sys, squadkit.json_schema; print('jsonschema' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    assert result.stdout.strip() == "False"


TRIAGE_OUTPUT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["queue", "priority", "rationale"],
    "properties": {
        "queue": {"type": "string", "enum": ["billing", "technical"]},
        "priority": {"type": "string", "enum": ["low", "urgent"]},
        "rationale": {"type": "string", "minLength": 1, "maxLength": 20, "description": "why"},
    },
}
QUICK_SCHEMAS: list[Any] = [
    TRIAGE_OUTPUT,
    {"$schema": "https://json-schema.org/draft/2020-12/schema", **TRIAGE_OUTPUT},
    {"type": ["integer", "null"]},
    {"type": "number"},
    {"type": "boolean"},
    {"type": "array"},
    {"enum": ["a", 1, True, None]},
    {"const": "a"},
    {"properties": {"n": {"type": "integer"}}, "additionalProperties": {"type": "string"}},
    {"properties": {"n": False}, "required": ["m"]},
    {"additionalProperties": True, "minLength": 2},
    {"type": "string", "format": "email"},
    {"type": "string", "minLength": 1, "maxLength": 1},
    {"type": "string", "minLength": 2},
    {"type": "string", "enum": ["a", "ab", 1, None], "maxLength": 1, "description": "d"},
    {"type": "string", "enum": "a"},
    True,
    False,
]
INSTANCES: list[Any] = [
    {"queue": "billing", "priority": "low", "rationale": "refund"},
    {"queue": "billing", "priority": "low", "rationale": ""},
    {"queue": "billing", "priority": "low", "rationale": "x" * 21},
    {"queue": "sales", "priority": "low", "rationale": "refund"},
    {"queue": "billing", "priority": "low"},
    {"queue": "billing", "priority": "low", "rationale": "refund", "extra": 1},
    {"n": 1, "m": "x"},
    {"n": 1.0, "m": 2},
    {"n": True},
    {"m": "a", "n": None},
    {1: "a"},
    [],
    ["a"],
    "a",
    "ab",
    "not an email",
    1,
    1.0,
    1.5,
    True,
    False,
    None,
]


@pytest.mark.parametrize("schema", QUICK_SCHEMAS, ids=lambda s: json.dumps(s)[:40])
def test_the_quick_check_accepts_only_what_jsonschema_accepts(schema: Any) -> None:
    from jsonschema import Draft202012Validator  # noqa: PLC0415 - the reference

    reference = Draft202012Validator(schema)
    shared = json_schema.validator(schema)
    for instance in INSTANCES:
        valid = reference.is_valid(instance)
        assert (json_schema.best_error(shared, instance) is None) is valid, instance
        assert (json_schema.first_error(shared, instance) is None) is valid, instance
        if json_schema._certainly_valid(shared, instance):
            assert valid, instance


def test_a_valid_answer_to_a_plain_schema_skips_jsonschema() -> None:
    shared = json_schema.validator(TRIAGE_OUTPUT)
    assert json_schema._certainly_valid(shared, INSTANCES[0])
    assert not json_schema._certainly_valid(shared, INSTANCES[3])  # jsonschema says why
    pattern = json_schema.validator({"type": "string", "pattern": "^a"})
    assert not json_schema._certainly_valid(pattern, "a")  # no quick check: jsonschema alone

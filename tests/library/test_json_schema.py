"""JSON Schema validation behind one boundary: one validator per schema, checked schemas."""

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
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False"

"""Scorers of the answer's shape: is_json, json_schema, length. jsonschema is imported only
when a schema scorer runs (`squadkit.json_schema`, which builds one validator per schema).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, model_validator

from ... import json_schema
from .base import MISSING, Score, ScoreContext, ScorerBase, get_path, short


class IsJson(ScorerBase):
    type: Literal["is_json"]

    async def score(self, ctx: ScoreContext) -> Score:
        if ctx.output is not None:
            return Score.of(1, "valid JSON")
        try:
            json.loads(ctx.text)
        except json.JSONDecodeError as error:
            return Score.of(0, f"not JSON: {error.msg} at column {error.colno}")
        return Score.of(1, "valid JSON")


class JsonSchemaValid(ScorerBase):
    """The JSON output validates against `schema` (default: the prompt's output schema)."""

    type: Literal["json_schema"]
    schema_def: dict[str, Any] | None = Field(
        default=None, alias="schema", description="Inline JSON Schema; unset: the prompt's."
    )

    @model_validator(mode="after")
    def _valid_schema(self) -> JsonSchemaValid:
        if self.schema_def is not None:
            problem = json_schema.schema_problem(self.schema_def)
            if problem is not None:
                raise ValueError(f"not a valid JSON Schema: {problem}")
        return self

    async def score(self, ctx: ScoreContext) -> Score:
        schema = self.schema_def if self.schema_def is not None else ctx.output_schema
        if schema is None:
            return Score.of(0, "no schema: the prompt has no output_schema; set 'schema'")
        if ctx.output is None:
            return Score.of(0, "answer is not JSON")
        error = json_schema.best_error(json_schema.validator(schema), ctx.output)
        if error is None:
            return Score.of(1, "valid against the schema")
        where = json_schema.where(error, separator=".")
        return Score.of(0, f"{where}: {short(error.message, 120)}")


class LengthBounds(ScorerBase):
    type: Literal["length"]
    field: str | None = None
    min_chars: int | None = Field(default=None, ge=0)
    max_chars: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _some_bound(self) -> LengthBounds:
        if self.min_chars is None and self.max_chars is None:
            raise ValueError("give 'min_chars', 'max_chars' or both")
        low, high = self.min_chars, self.max_chars
        if low is not None and high is not None and low > high:
            raise ValueError("min_chars is greater than max_chars: no answer could pass")
        return self

    async def score(self, ctx: ScoreContext) -> Score:
        value: Any = ctx.text if self.field is None else get_path(ctx.output, self.field)
        if value is MISSING:
            return Score.of(0, f"no '{self.field}' in answer")
        size = len(value if isinstance(value, str) else json.dumps(value))
        if self.min_chars is not None and size < self.min_chars:
            return Score.of(0, f"{size} chars < min {self.min_chars}")
        if self.max_chars is not None and size > self.max_chars:
            return Score.of(0, f"{size} chars > max {self.max_chars}")
        return Score.of(1, f"{size} chars within bounds")

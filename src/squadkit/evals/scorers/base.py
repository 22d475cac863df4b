"""What every scorer shares: the `Score` it gives, the `ScoreContext` it reads, its base
model, and the comparison base (`field` against `expected` / `expected_field`).

The scorer families (`matching`, `structure`, `bounds`, `judges`, `custom`) build on these.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..cache import RecordedResponse
from ..dataset import Case

JudgeCall = Callable[[str, list[dict[str, str]], dict[str, Any]], Awaitable[RecordedResponse]]

MISSING = object()  # what `get_path` returns for a path the value does not have


@dataclass(frozen=True)
class Score:
    """One scorer's verdict on one answer."""

    value: float
    reason: str

    @classmethod
    def of(cls, value: float, reason: str) -> Score:
        clipped = 0.0 if math.isnan(value) else min(1.0, max(0.0, float(value)))
        return cls(value=clipped, reason=reason[:300])


@dataclass(frozen=True)
class ScoreContext:
    """Everything a scorer may look at for one answer."""

    case: Case
    response: RecordedResponse
    output_schema: dict[str, Any] | None = None
    judge: JudgeCall | None = None

    @property
    def text(self) -> str:
        return self.response.text

    @cached_property
    def output(self) -> Any:
        """The parsed JSON answer (the gateway's, else the text parsed); None if not JSON."""
        if self.response.output is not None:
            return self.response.output
        try:
            return json.loads(self.response.text)
        except (json.JSONDecodeError, TypeError):
            return None


def get_path(value: Any, path: str) -> Any:
    """`value` at dotted `path` (`a.b.0`), or `MISSING`."""
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def short(value: Any, limit: int = 60) -> str:
    """`value` as a reason quotes it: JSON for non-strings, cut at `limit` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ScorerBase(BaseModel):
    """Fields every scorer has."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Unique within the suite.")
    pass_score: float = Field(default=0.5, ge=0, le=1)

    async def score(self, ctx: ScoreContext) -> Score:  # pragma: no cover - abstract
        raise NotImplementedError


class Compares(ScorerBase):
    """A scorer that reads the answer at `field` and compares it with an expected value."""

    field: str | None = Field(default=None, description="Dotted path into the JSON output.")
    expected: Any = None
    expected_field: str | None = Field(
        default=None, description="Dotted path into the case's `expected`."
    )

    @model_validator(mode="after")
    def _one_expected(self) -> Compares:
        if (self.expected is None) == (self.expected_field is None):
            raise ValueError("give exactly one of 'expected' or 'expected_field'")
        return self

    def actual(self, ctx: ScoreContext) -> Any:
        if self.field is None:
            return ctx.text
        if ctx.output is None:
            return MISSING
        return get_path(ctx.output, self.field)

    def wanted(self, ctx: ScoreContext) -> Any:
        if self.expected_field is None:
            return self.expected
        return get_path(ctx.case.expected, self.expected_field)

    def _missing(self, ctx: ScoreContext, actual: Any, wanted: Any) -> Score | None:
        if wanted is MISSING:
            return Score.of(0, f"case has no expected.{self.expected_field}")
        if actual is MISSING:
            what = "answer is not JSON" if ctx.output is None else f"no '{self.field}' in answer"
            return Score.of(0, what)
        return None

"""Scorers that compare the answer with the case's expected value: exact, json_field,
contains, regex, numeric.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import Field, model_validator

from .base import MISSING, Compares, Score, ScoreContext, ScorerBase, get_path, short


class ExactMatch(Compares):
    type: Literal["exact"]
    case_sensitive: bool = True
    strip: bool = True

    def _norm(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip() if self.strip else value
        return value if self.case_sensitive else value.casefold()

    async def score(self, ctx: ScoreContext) -> Score:
        actual, wanted = self.actual(ctx), self.wanted(ctx)
        if (problem := self._missing(ctx, actual, wanted)) is not None:
            return problem
        if self._norm(actual) == self._norm(wanted):
            return Score.of(1, f"= {short(wanted)}")
        return Score.of(0, f"got {short(actual)}, expected {short(wanted)}")


class JsonFieldEquals(Compares):
    """The JSON output's value at `path` equals the expected value (strings: trimmed)."""

    type: Literal["json_field"]
    path: str = Field(description="Dotted path into the JSON output, e.g. `queue`.")
    case_sensitive: bool = False

    async def score(self, ctx: ScoreContext) -> Score:
        if ctx.output is None:
            return Score.of(0, "answer is not JSON")
        actual, wanted = get_path(ctx.output, self.path), self.wanted(ctx)
        if wanted is MISSING:
            return Score.of(0, f"case has no expected.{self.expected_field}")
        if actual is MISSING:
            return Score.of(0, f"no '{self.path}' in answer")
        same = actual == wanted
        if isinstance(actual, str) and isinstance(wanted, str):
            a, w = actual.strip(), wanted.strip()
            same = a == w if self.case_sensitive else a.casefold() == w.casefold()
        if same:
            return Score.of(1, f"{self.path} = {short(wanted)}")
        return Score.of(0, f"{self.path} = {short(actual)}, expected {short(wanted)}")


class Contains(Compares):
    type: Literal["contains"]
    case_sensitive: bool = False

    async def score(self, ctx: ScoreContext) -> Score:
        actual, wanted = self.actual(ctx), self.wanted(ctx)
        if (problem := self._missing(ctx, actual, wanted)) is not None:
            return problem
        haystack = actual if isinstance(actual, str) else json.dumps(actual, ensure_ascii=False)
        needle = str(wanted)
        if not self.case_sensitive:
            haystack, needle = haystack.casefold(), needle.casefold()
        if needle in haystack:
            return Score.of(1, f"contains {short(wanted)}")
        return Score.of(0, f"does not contain {short(wanted)}")


class RegexMatch(ScorerBase):
    type: Literal["regex"]
    pattern: str
    field: str | None = None
    must_match: bool = Field(default=True, description="False: the pattern must NOT match.")
    ignore_case: bool = False

    @model_validator(mode="after")
    def _compiles(self) -> RegexMatch:
        try:
            re.compile(self.pattern)
        except re.error as error:
            raise ValueError(f"pattern does not compile: {error}") from None
        return self

    async def score(self, ctx: ScoreContext) -> Score:
        value: Any = ctx.text if self.field is None else get_path(ctx.output, self.field)
        if value is MISSING:
            return Score.of(0, f"no '{self.field}' in answer")
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        found = re.search(self.pattern, text, flags=re.IGNORECASE if self.ignore_case else 0)
        if bool(found) == self.must_match:
            return Score.of(1, "matches" if found else "no match, as required")
        return Score.of(0, "matches, but must not" if found else f"no match for /{self.pattern}/")


class NumericClose(Compares):
    """1 within `tolerance` of the expected number; partial credit over `scale` beyond it."""

    type: Literal["numeric"]
    tolerance: float = Field(default=0.0, ge=0)
    scale: float | None = Field(default=None, gt=0, description="Error beyond tolerance -> 0.")

    async def score(self, ctx: ScoreContext) -> Score:
        actual, wanted = self.actual(ctx), self.wanted(ctx)
        if (problem := self._missing(ctx, actual, wanted)) is not None:
            return problem
        try:
            a, w = float(actual), float(wanted)
        except (TypeError, ValueError):
            return Score.of(0, f"not a number: {short(actual)} vs {short(wanted)}")
        error = abs(a - w)
        if error <= self.tolerance:
            return Score.of(1, f"{a:g} within {self.tolerance:g} of {w:g}")
        if self.scale is None:
            return Score.of(0, f"{a:g} is {error:g} from {w:g} (tolerance {self.tolerance:g})")
        return Score.of(1 - (error - self.tolerance) / self.scale, f"{a:g} is {error:g} from {w:g}")

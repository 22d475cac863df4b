"""Scorers: each turns one model answer into a score in [0, 1] and a short reason.

A suite lists its scorers by `type`; the fields of each type are the pydantic models below,
so a typo in a suite file is an error naming the scorer and the field. Comparison scorers
read the answer at `field` (a dotted path into the parsed JSON output; the raw text when
unset) and compare it with `expected` (a literal) or `expected_field` (a dotted path into
the case's `expected`). `pass_score` decides when a case counts as passing a scorer (JUnit,
the HTML filter, the stability check of repeats).
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .cache import RecordedResponse
from .dataset import Case

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

JudgeCall = Callable[[str, list[dict[str, str]], dict[str, Any]], Awaitable[RecordedResponse]]

# What every judge must answer: the contract between `llm_judge` and the `judge` alias.
JUDGE_OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "reason": {"type": "string"},
    },
    "required": ["score", "reason"],
}

_MISSING = object()


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
    """`value` at dotted `path` (`a.b.0`), or `_MISSING`."""
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ScorerBase(BaseModel):
    """Fields every scorer has."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Unique within the suite.")
    pass_score: float = Field(default=0.5, ge=0, le=1)

    async def score(self, ctx: ScoreContext) -> Score:  # pragma: no cover - abstract
        raise NotImplementedError


class _Compares(ScorerBase):
    """A scorer that reads the answer at `field` and compares it with an expected value."""

    field: str | None = Field(default=None, description="Dotted path into the JSON output.")
    expected: Any = None
    expected_field: str | None = Field(
        default=None, description="Dotted path into the case's `expected`."
    )

    @model_validator(mode="after")
    def _one_expected(self) -> _Compares:
        if (self.expected is None) == (self.expected_field is None):
            raise ValueError("give exactly one of 'expected' or 'expected_field'")
        return self

    def actual(self, ctx: ScoreContext) -> Any:
        if self.field is None:
            return ctx.text
        if ctx.output is None:
            return _MISSING
        return get_path(ctx.output, self.field)

    def wanted(self, ctx: ScoreContext) -> Any:
        if self.expected_field is None:
            return self.expected
        return get_path(ctx.case.expected, self.expected_field)

    def _missing(self, ctx: ScoreContext, actual: Any, wanted: Any) -> Score | None:
        if wanted is _MISSING:
            return Score.of(0, f"case has no expected.{self.expected_field}")
        if actual is _MISSING:
            what = "answer is not JSON" if ctx.output is None else f"no '{self.field}' in answer"
            return Score.of(0, what)
        return None


class ExactMatch(_Compares):
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
            return Score.of(1, f"= {_short(wanted)}")
        return Score.of(0, f"got {_short(actual)}, expected {_short(wanted)}")


class JsonFieldEquals(_Compares):
    """The JSON output's value at `path` equals the expected value (strings: trimmed)."""

    type: Literal["json_field"]
    path: str = Field(description="Dotted path into the JSON output, e.g. `queue`.")
    case_sensitive: bool = False

    async def score(self, ctx: ScoreContext) -> Score:
        if ctx.output is None:
            return Score.of(0, "answer is not JSON")
        actual, wanted = get_path(ctx.output, self.path), self.wanted(ctx)
        if wanted is _MISSING:
            return Score.of(0, f"case has no expected.{self.expected_field}")
        if actual is _MISSING:
            return Score.of(0, f"no '{self.path}' in answer")
        same = actual == wanted
        if isinstance(actual, str) and isinstance(wanted, str):
            a, w = actual.strip(), wanted.strip()
            same = a == w if self.case_sensitive else a.casefold() == w.casefold()
        if same:
            return Score.of(1, f"{self.path} = {_short(wanted)}")
        return Score.of(0, f"{self.path} = {_short(actual)}, expected {_short(wanted)}")


class Contains(_Compares):
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
            return Score.of(1, f"contains {_short(wanted)}")
        return Score.of(0, f"does not contain {_short(wanted)}")


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
        if value is _MISSING:
            return Score.of(0, f"no '{self.field}' in answer")
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        found = re.search(self.pattern, text, flags=re.IGNORECASE if self.ignore_case else 0)
        if bool(found) == self.must_match:
            return Score.of(1, "matches" if found else "no match, as required")
        return Score.of(0, "matches, but must not" if found else f"no match for /{self.pattern}/")


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
            from jsonschema import Draft202012Validator  # noqa: PLC0415
            from jsonschema.exceptions import SchemaError  # noqa: PLC0415

            try:
                Draft202012Validator.check_schema(self.schema_def)
            except SchemaError as error:
                raise ValueError(f"not a valid JSON Schema: {error.message}") from None
        return self

    def _validator(self, schema: dict[str, Any]) -> Validator:
        from jsonschema import Draft202012Validator  # noqa: PLC0415

        return Draft202012Validator(schema)

    async def score(self, ctx: ScoreContext) -> Score:
        schema = self.schema_def if self.schema_def is not None else ctx.output_schema
        if schema is None:
            return Score.of(0, "no schema: the prompt has no output_schema; set 'schema'")
        if ctx.output is None:
            return Score.of(0, "answer is not JSON")
        from jsonschema.exceptions import best_match  # noqa: PLC0415

        error = best_match(self._validator(schema).iter_errors(ctx.output))
        if error is None:
            return Score.of(1, "valid against the schema")
        where = ".".join(str(p) for p in error.absolute_path) or "(root)"
        return Score.of(0, f"{where}: {_short(error.message, 120)}")


class NumericClose(_Compares):
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
            return Score.of(0, f"not a number: {_short(actual)} vs {_short(wanted)}")
        error = abs(a - w)
        if error <= self.tolerance:
            return Score.of(1, f"{a:g} within {self.tolerance:g} of {w:g}")
        if self.scale is None:
            return Score.of(0, f"{a:g} is {error:g} from {w:g} (tolerance {self.tolerance:g})")
        return Score.of(1 - (error - self.tolerance) / self.scale, f"{a:g} is {error:g} from {w:g}")


class LengthBounds(ScorerBase):
    type: Literal["length"]
    field: str | None = None
    min_chars: int | None = Field(default=None, ge=0)
    max_chars: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _some_bound(self) -> LengthBounds:
        if self.min_chars is None and self.max_chars is None:
            raise ValueError("give 'min_chars', 'max_chars' or both")
        return self

    async def score(self, ctx: ScoreContext) -> Score:
        value: Any = ctx.text if self.field is None else get_path(ctx.output, self.field)
        if value is _MISSING:
            return Score.of(0, f"no '{self.field}' in answer")
        size = len(value if isinstance(value, str) else json.dumps(value))
        if self.min_chars is not None and size < self.min_chars:
            return Score.of(0, f"{size} chars < min {self.min_chars}")
        if self.max_chars is not None and size > self.max_chars:
            return Score.of(0, f"{size} chars > max {self.max_chars}")
        return Score.of(1, f"{size} chars within bounds")


class LatencyBound(ScorerBase):
    type: Literal["latency"]
    max_s: float = Field(gt=0)

    async def score(self, ctx: ScoreContext) -> Score:
        took = ctx.response.latency_s
        ok = took <= self.max_s
        return Score.of(1 if ok else 0, f"{took:.3f}s {'<=' if ok else '>'} {self.max_s:g}s")


class CostBound(ScorerBase):
    type: Literal["cost"]
    max_usd: float = Field(ge=0)

    async def score(self, ctx: ScoreContext) -> Score:
        cost = ctx.response.cost_usd
        ok = cost <= self.max_usd
        return Score.of(1 if ok else 0, f"${cost:.6f} {'<=' if ok else '>'} ${self.max_usd:g}")


class Grounding(ScorerBase):
    """Every phrase the answer quotes (in `field`) appears in the case's inputs.

    The same check production samples online as its hallucination signal
    (observability's `grounding`), under the same name, so the baseline's mean is what the
    online drift check compares against.
    """

    type: Literal["grounding"]
    field: str = Field(default="rationale", description="Output field holding the quotes.")

    async def score(self, ctx: ScoreContext) -> Score:
        from ..observability.quality import Answer, make_grounding_scorer  # noqa: PLC0415

        inputs_text = "\n".join(str(value) for value in ctx.case.inputs.values())
        answer = Answer(ctx.text, ctx.output, inputs_text, ctx.output_schema)
        verdict = make_grounding_scorer(self.field)(answer)
        if verdict is None:  # pragma: no cover - the grounding scorer always answers
            return Score.of(0, "grounding scorer gave no verdict")
        return Score.of(verdict.value, verdict.explanation)


class LlmJudge(ScorerBase):
    """Another model grades the answer against `rubric`, through the gateway alias `alias`.

    The judge sees tagged sections (`<rubric>`, `<inputs>`, `<reference>`, `<answer>`) after
    the suite's `instructions`, and must answer `{"score": 0..1, "reason": "..."}`. Its calls
    go through the same cache as the target's, so a replayed gate replays the judge too.
    """

    type: Literal["llm_judge"]
    alias: str = "judge"
    instructions: str = Field(min_length=1, description="The judge's system message.")
    rubric: str = Field(min_length=1)
    include_expected: bool = Field(default=True, description="Show the labelled answer.")

    def messages(self, ctx: ScoreContext) -> list[dict[str, str]]:
        parts = [
            f"<rubric>\n{self.rubric.strip()}\n</rubric>",
            f"<inputs>\n{json.dumps(ctx.case.inputs, ensure_ascii=False, indent=1)}\n</inputs>",
        ]
        if self.include_expected and ctx.case.expected:
            reference = json.dumps(ctx.case.expected, ensure_ascii=False)
            parts.append(f"<reference>\n{reference}\n</reference>")
        parts.append(f"<answer>\n{ctx.text}\n</answer>")
        return [
            {"role": "system", "content": self.instructions.strip()},
            {"role": "user", "content": "\n".join(parts)},
        ]

    async def score(self, ctx: ScoreContext) -> Score:
        if ctx.judge is None:
            return Score.of(0, "no judge available in this context")
        verdict = await ctx.judge(self.alias, self.messages(ctx), JUDGE_OUTPUT_SCHEMA)
        if verdict.error is not None:
            return Score.of(0, f"judge failed: {verdict.error}")
        output = verdict.output
        if not isinstance(output, dict) or not isinstance(output.get("score"), int | float):
            return Score.of(0, f"judge answered no score: {_short(verdict.text)}")
        return Score.of(float(output["score"]), str(output.get("reason", "")))


CustomResult = Score | float | tuple[float, str]


class CustomScorer(ScorerBase):
    """Your own function, by dotted path: `pkg.module.func` or `pkg.module:func`.

    It takes a `ScoreContext` and returns a `Score`, a float, or `(float, reason)`;
    it may be async.
    """

    type: Literal["custom"]
    function: str = Field(pattern=r"^[A-Za-z_][\w.]*([.:][A-Za-z_]\w*)$")

    @model_validator(mode="after")
    def _importable(self) -> CustomScorer:
        self.resolve()
        return self

    def resolve(self) -> Callable[[ScoreContext], Any]:
        module_name, _, attribute = self.function.replace(":", ".").rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise ValueError(f"cannot import '{module_name}': {error}") from None
        function = getattr(module, attribute, None)
        if not callable(function):
            raise ValueError(f"'{attribute}' is not a function in module '{module_name}'")
        return function  # type: ignore[no-any-return]

    async def score(self, ctx: ScoreContext) -> Score:
        result = self.resolve()(ctx)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, Score):
            return Score.of(result.value, result.reason)
        if isinstance(result, tuple) and len(result) == 2:
            return Score.of(float(result[0]), str(result[1]))
        if isinstance(result, int | float):
            return Score.of(float(result), self.function)
        return Score.of(0, f"{self.function} returned {type(result).__name__}, not a score")


ScorerSpec = Annotated[
    ExactMatch
    | Contains
    | RegexMatch
    | IsJson
    | JsonSchemaValid
    | JsonFieldEquals
    | NumericClose
    | LengthBounds
    | LatencyBound
    | CostBound
    | Grounding
    | LlmJudge
    | CustomScorer,
    Field(discriminator="type"),
]

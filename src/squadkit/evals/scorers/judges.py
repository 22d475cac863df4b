"""Scorers that judge the answer's content: grounding (quotes found in the inputs, the same
check production samples online) and llm_judge (another model grades against a rubric).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, model_validator

from .base import Score, ScoreContext, ScorerBase, short

# What every judge must answer: the contract between `llm_judge` and the `judge` alias.
JUDGE_OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "reason": {"type": "string"},
    },
    "required": ["score", "reason"],
}


class Grounding(ScorerBase):
    """Every phrase the answer quotes (in `field`) appears in the case's inputs.

    The same check production samples online as its hallucination signal
    (observability's `grounding`), under the same name, so the baseline's mean is what the
    online drift check compares against.
    """

    type: Literal["grounding"]
    field: str = Field(default="rationale", description="Output field holding the quotes.")

    async def score(self, ctx: ScoreContext) -> Score:
        from ...observability.quality import Answer, make_grounding_scorer  # noqa: PLC0415

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
    categories: dict[str, float] | None = Field(
        default=None,
        description="Category name -> lowest score in it, e.g. {bad: 0, ok: 0.4, good: 0.7}: "
        "what people label this judge's answers with (`human` in a dataset case); unset, "
        "they label pass/fail (true/false) and the judge passes at `pass_score`.",
    )

    @model_validator(mode="after")
    def _categories_cover_the_scale(self) -> LlmJudge:
        if self.categories is None:
            return self
        if len(self.categories) < 2:
            raise ValueError("'categories' needs at least two categories")
        if any(not 0 <= low <= 1 for low in self.categories.values()):
            raise ValueError("each category's lowest score must be within [0, 1]")
        if min(self.categories.values()) != 0:
            raise ValueError("one category must start at 0, so every score falls in one")
        if len(set(self.categories.values())) != len(self.categories):
            raise ValueError("two categories start at the same score")
        if any(not name or name != name.strip() for name in self.categories):
            raise ValueError("category names must be non-empty, without surrounding spaces")
        return self

    def verdicts(self) -> list[bool | str]:
        """Every verdict a person (and, through `verdict`, this judge) can give, in order."""
        categories = self.categories
        if categories is None:
            return [False, True]
        names: list[bool | str] = [*sorted(categories, key=categories.__getitem__)]
        return names

    def verdict(self, score: float) -> bool | str:
        """This judge's verdict in the terms people label with: its category, or pass/fail."""
        if self.categories is None:
            return score >= self.pass_score
        return max((low, name) for name, low in self.categories.items() if low <= score)[1]

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
            return Score.of(0, f"judge answered no score: {short(verdict.text)}")
        return Score.of(float(output["score"]), str(output.get("reason", "")))

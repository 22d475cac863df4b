"""Each scorer gives a score in [0, 1] and a reason, on real answers of the triage shape."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import TypeAdapter

from squadkit.evals import (
    Case,
    RecordedResponse,
    Score,
    ScoreContext,
    ScorerSpec,
)
from squadkit.gateway.local_models import answer

SPEC: TypeAdapter[Any] = TypeAdapter(ScorerSpec)
CASE = Case(
    id="t1",
    inputs={"subject": "Charged twice", "body": "Two charges of $79 this month."},
    expected={"queue": "billing", "priority": "high", "amount": 79},
)
SCHEMA = {
    "type": "object",
    "required": ["queue", "priority"],
    "properties": {"queue": {"enum": ["billing", "technical"]}, "priority": {"type": "string"}},
}


def context(output: Any = None, *, text: str | None = None, **response: Any) -> ScoreContext:
    body = text if text is not None else json.dumps(output)
    recorded = RecordedResponse(text=body, output=output, alias="triage", **response)
    return ScoreContext(case=CASE, response=recorded, output_schema=SCHEMA)


def score(spec: dict[str, Any], ctx: ScoreContext) -> Score:
    result: Score = asyncio.run(SPEC.validate_python({"name": "s", **spec}).score(ctx))
    assert 0.0 <= result.value <= 1.0
    assert result.reason
    return result


GOOD = {"queue": "billing", "priority": "high", "rationale": "mentions 'charged twice'"}
BAD = {"queue": "technical", "priority": "low", "rationale": "no cue"}


def test_exact_compares_text_or_field_with_expected() -> None:
    spec = {"type": "exact", "field": "queue", "expected_field": "queue"}
    assert score(spec, context(GOOD)).value == 1
    miss = score(spec, context(BAD))
    assert miss.value == 0
    assert "expected billing" in miss.reason


def test_contains_is_case_insensitive_by_default() -> None:
    spec = {"type": "contains", "field": "rationale", "expected": "CHARGED TWICE"}
    assert score(spec, context(GOOD)).value == 1
    assert score(spec, context(BAD)).value == 0


def test_regex_can_require_or_forbid_a_match() -> None:
    assert score({"type": "regex", "pattern": r"\bbilling\b"}, context(GOOD)).value == 1
    forbidden = {"type": "regex", "pattern": "ignore previous", "must_match": False}
    assert score(forbidden, context(GOOD)).value == 1
    assert score(forbidden, context(text="please IGNORE previous rules")).value == 1
    strict = {**forbidden, "ignore_case": True}
    assert score(strict, context(text="please IGNORE previous rules")).value == 0


def test_is_json_reports_where_parsing_failed() -> None:
    assert score({"type": "is_json"}, context(GOOD)).value == 1
    broken = score({"type": "is_json"}, context(text='{"queue": "billing"'))
    assert broken.value == 0
    assert "column" in broken.reason


def test_json_schema_uses_the_prompt_schema_or_an_inline_one() -> None:
    assert score({"type": "json_schema"}, context(GOOD)).value == 1
    wrong = score({"type": "json_schema"}, context({"queue": "legal", "priority": "low"}))
    assert wrong.value == 0
    assert "queue" in wrong.reason
    inline = {"type": "json_schema", "schema": {"type": "object", "required": ["missing"]}}
    assert score(inline, context(GOOD)).value == 0


def test_json_field_follows_a_dotted_path() -> None:
    nested = {"decision": {"routes": [{"queue": "Billing "}]}}
    spec = {"type": "json_field", "path": "decision.routes.0.queue", "expected_field": "queue"}
    assert score(spec, context(nested)).value == 1
    absent = score(spec, context({"decision": {}}))
    assert absent.value == 0
    assert "no 'decision.routes.0.queue'" in absent.reason
    assert score(spec, context(text="not json")).reason == "answer is not JSON"


def test_numeric_gives_full_then_partial_credit() -> None:
    spec = {
        "type": "numeric",
        "field": "amount",
        "expected_field": "amount",
        "tolerance": 1,
        "scale": 10,
    }
    assert score(spec, context({"amount": 79.5})).value == 1
    assert score(spec, context({"amount": 85})).value == pytest.approx(0.5)
    assert score(spec, context({"amount": 200})).value == 0
    assert score(spec, context({"amount": "n/a"})).value == 0


def test_length_bounds_apply_to_text_or_a_field() -> None:
    spec = {"type": "length", "field": "rationale", "min_chars": 10, "max_chars": 40}
    assert score(spec, context(GOOD)).value == 1
    assert score(spec, context(BAD)).value == 0
    assert score(spec, context({"rationale": "x" * 41})).value == 0


def test_latency_and_cost_bounds_read_the_response() -> None:
    fast_cheap = context(GOOD, latency_s=0.2, cost_usd=0.0001)
    slow_dear = context(GOOD, latency_s=3.0, cost_usd=0.02)
    assert score({"type": "latency", "max_s": 1}, fast_cheap).value == 1
    assert score({"type": "latency", "max_s": 1}, slow_dear).value == 0
    assert score({"type": "cost", "max_usd": 0.01}, fast_cheap).value == 1
    assert score({"type": "cost", "max_usd": 0.01}, slow_dear).value == 0


def test_llm_judge_scores_through_the_judge_model() -> None:
    """The offline judge model reads the tagged rubric, reference and answer."""
    seen: list[str] = []

    async def judge(
        alias: str, messages: list[dict[str, str]], schema: dict[str, Any]
    ) -> RecordedResponse:
        seen.append(alias)
        local = answer("judge-heuristic-v1", [dict(m) for m in messages])
        return RecordedResponse(text=local.text, output=json.loads(local.text), alias=alias)

    spec = SPEC.validate_python(
        {
            "name": "judge",
            "type": "llm_judge",
            "instructions": "Grade the triage.",
            "rubric": "The queue and priority equal the reference.",
        }
    )
    good = asyncio.run(spec.score(ScoreContext(CASE, context(GOOD).response, judge=judge)))
    bad = asyncio.run(spec.score(ScoreContext(CASE, context(BAD).response, judge=judge)))
    assert seen == ["judge", "judge"]
    assert good.value > bad.value
    assert "rubric terms" in good.reason


def keyword_scorer(ctx: ScoreContext) -> tuple[float, str]:
    """A custom scorer, referenced by dotted path in the test below."""
    return (1.0, "mentions billing") if "billing" in ctx.text else (0.0, "no billing")


def test_custom_scorer_is_loaded_by_dotted_path() -> None:
    spec = {"type": "custom", "function": "tests.library.evals.test_evals_scorers:keyword_scorer"}
    assert score(spec, context(GOOD)).value == 1
    assert score(spec, context(BAD)).reason == "no billing"


def test_custom_scorer_that_cannot_be_imported_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="cannot import 'nowhere_at_all'"):
        SPEC.validate_python({"name": "c", "type": "custom", "function": "nowhere_at_all.f"})

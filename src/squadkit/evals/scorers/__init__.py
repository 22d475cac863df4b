"""Scorers: each turns one model answer into a score in [0, 1] and a short reason.

A suite lists its scorers by `type`; the fields of each type are its pydantic model, and
`ScorerSpec` (below) is their union, so a typo in a suite file is an error naming the scorer
and the field. Comparison scorers
read the answer at `field` (a dotted path into the parsed JSON output; the raw text when
unset) and compare it with `expected` (a literal) or `expected_field` (a dotted path into
the case's `expected`). `pass_score` decides when a case counts as passing a scorer (JUnit,
the HTML filter, the stability check of repeats).

One module per family: `matching` (exact, json_field, contains, regex, numeric),
`structure` (is_json, json_schema, length), `bounds` (latency, cost), `judges` (grounding,
llm_judge) and `custom`; `base` holds what they share.
"""

from typing import Annotated

from pydantic import Field

from .base import Score, ScoreContext
from .bounds import CostBound, LatencyBound
from .custom import CustomScorer
from .judges import Grounding, LlmJudge
from .matching import Contains, ExactMatch, JsonFieldEquals, NumericClose, RegexMatch
from .structure import IsJson, JsonSchemaValid, LengthBounds

__all__ = ["LlmJudge", "Score", "ScoreContext", "ScorerSpec"]

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

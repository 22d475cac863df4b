"""The `custom` scorer: the squad's own scoring function, named by dotted path in the suite."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, model_validator

from .base import Score, ScoreContext, ScorerBase

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

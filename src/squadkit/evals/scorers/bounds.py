"""Scorers of what an answer cost to get: latency and cost, against a budget."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Score, ScoreContext, ScorerBase


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

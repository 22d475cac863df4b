"""Bodies of the operations endpoints (`/healthz`, `/readyz`) every squad service has.

A feature's request and response bodies live with its route in the squad's repo; both are
part of `contracts/openapi.json`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, str] = Field(
        description="Each check's name -> 'ok', 'degraded: ...' (accepted by configuration), or "
        "'halted: ...' (an experiment's arm halted by a guardrail)."
    )

"""`ModelCaller`: every model call of an eval run, answered according to the run's mode.

- `live`: call the models through the gateway; nothing is read from or written to disk.
- `record`: call the models and store every answer in the suite's recordings file.
- `replay`: answer from the recordings only; a miss is a `ReplayMiss` naming the case. No
  gateway is built and litellm is never imported, so a replayed gate takes seconds.

The target's calls and the judge's go through the same caller, so a replay replays both.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..files import display_path
from ..gateway.config import ModelsConfig
from .cache import RecordedResponse, ResponseCache, request_key
from .errors import ReplayMiss
from .report import Mode

if TYPE_CHECKING:
    from ..calls import DeploymentFailure
    from ..gateway import Gateway, PromptRef
    from ..settings import Settings


@dataclass
class ModelCaller:
    """Model calls through the response cache, according to the run mode."""

    settings: Settings
    models: ModelsConfig
    cache: ResponseCache
    mode: Mode
    suite_name: str
    # Why a live answer was not recorded (an outage, a fallback's answer), one entry per call:
    # a refresh that has any replaces nothing (`runner.run_suite`).
    not_recorded: list[str] = field(default_factory=list, init=False)
    # Why the first deployment did not answer, the first time a fallback did (for the gate).
    fallback_why: str | None = field(default=None, init=False)
    _gateway: Gateway | None = field(default=None, init=False)

    def gateway(self) -> Gateway:
        if self._gateway is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            from ..gateway import Gateway  # noqa: PLC0415 - litellm only when calling live

            self._gateway = Gateway.from_settings(self.settings)
        return self._gateway

    async def call(
        self,
        alias: str,
        messages: list[dict[str, str]],
        *,
        case_id: str,
        params: dict[str, Any] | None = None,
        output_schema: dict[str, Any] | None = None,
        prompt: PromptRef | None = None,
        deadline_s: float | None = None,
        sample: int = 0,
    ) -> RecordedResponse:
        chain = self.models.deployment_chain(alias)

        def key() -> str:  # only read or written outside `live`: not computed there
            return request_key(
                alias=alias,
                chain=chain,
                messages=messages,
                params=params,
                output_schema=output_schema,
                sample=sample,
            )

        if self.mode == "replay":
            hit = self.cache.get(key())
            if hit is None:
                which = f" --version {prompt.version}" if prompt is not None else ""
                raise ReplayMiss(
                    f"case '{case_id}': no recording for model alias '{alias}' "
                    f"({', '.join(chain)}) in {display_path(self.cache.path)}; record it with "
                    f"`squad eval run {self.suite_name}{which} --mode record` (or every "
                    "version at once: `make eval-refresh`)"
                )
            return hit
        response, recordable = await self._live(
            alias=alias,
            primary=chain[0],
            messages=messages,
            params=params,
            output_schema=output_schema,
            prompt=prompt,
            deadline_s=deadline_s,
        )
        if self.mode == "record" and recordable:
            # What a reviewer needs to recognise the recording; the key covers the rest.
            users = [m["content"] for m in messages if m.get("role") == "user"]
            request: dict[str, Any] = {
                "alias": alias,
                "chain": chain,
                "case": case_id,
                "last_user_message": users[-1][:2000] if users else "",
            }
            summary = request if not sample else {**request, "sample": sample}
            response = self.cache.put(key(), summary, response)
        return response

    async def _live(
        self,
        *,
        alias: str,
        primary: str,
        messages: list[dict[str, str]],
        params: dict[str, Any] | None,
        output_schema: dict[str, Any] | None,
        prompt: PromptRef | None,
        deadline_s: float | None,
    ) -> tuple[RecordedResponse, bool]:
        from ..gateway import InvalidOutput  # noqa: PLC0415
        from ..gateway.errors import GatewayError  # noqa: PLC0415

        try:
            completion = await self.gateway().acomplete(
                alias,
                messages,
                params=params,
                output_schema=output_schema,
                prompt=prompt,
                deadline_s=deadline_s,
            )
        except InvalidOutput as error:
            # The model answered badly: that is its behaviour, recorded like an answer.
            failed = RecordedResponse(alias=alias, deployment=error.deployment, error=str(error))
            return failed, self._own_answer(primary, error.deployment, ())
        except GatewayError as error:
            # Outages and deadlines are not the model's answer: never recorded.
            self.not_recorded.append(f"{type(error).__name__} ({alias})")
            return RecordedResponse(alias=alias, error=str(error)), False
        response = RecordedResponse.answered(completion)
        return response, self._own_answer(primary, completion.deployment, completion.failures)

    def _own_answer(
        self, primary: str, deployment: str, failures: Sequence[DeploymentFailure]
    ) -> bool:
        """True when the alias's first deployment (`primary`) answered. A fallback's answer
        replayed later would pass for the chain's own, so it is reported, never recorded."""
        if deployment == primary:
            return True
        self.not_recorded.append(f"answered by a fallback ({deployment})")
        if self.fallback_why is None:
            self.fallback_why = str(failures[0]) if failures else f"{primary}: cooling down"
        return False

"""Calls a one-deployment chain through `litellm.acompletion` itself, without the Router.

Why: litellm's Router costs about a fifth of an eval case's CPU on top of the inner
`litellm.acompletion` call (routing, retry bookkeeping, events: README, "A lean hot path"),
and for a chain of exactly one provider deployment it provides nothing this module does not
reproduce. Such a chain has nothing to fall back to, so nothing to skip: the Router never
cools a lone deployment down (litellm avoids cooldowns on a one-deployment group without
fallbacks), so `/readyz` never reported one either. What the Router would still do is kept
out of this path by `calls_directly`: rpm/tpm limits (the Router counts them) and
Redis-shared state (`REDIS_URL`) keep the Router.

What is reproduced, as the Router is configured in `router.py`: the deployment's own
litellm parameters (`deployment_params`: timeout per attempt, no retries inside the
provider's client, prices), `max_retries` retries of every error but a 400, 401 or 404
(litellm's `BadRequestError`, `AuthenticationError`, `NotFoundError`: the retry policy's
zero-retry fields), a sleep before each retry from litellm's own `calculate_retry_after`
(`Retry-After` honoured in whole seconds up to 60, else 0.5 s x 2^n, plus up to 0.75 s of
jitter), no sleep after the last attempt, and one `DeploymentFailure` per failed attempt,
as the Router's failure recorder notes them. The gateway's overall deadline and observer
events wrap this call exactly as they wrap a Router call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any

from ..calls import DeploymentFailure
from .router import (
    Link,
    NoCompletionError,
    RouterAnswer,
    deployment_params,
    guard_message_logging,
    has_completion,
)

# What the Router's retry policy gives zero retries (`build_router`): the request itself is
# wrong, so a retry fails the same way. Names of litellm's exception classes (a
# ContentPolicyViolationError is a BadRequestError).
_NOT_RETRIED = ("BadRequestError", "AuthenticationError", "NotFoundError")


def calls_directly(chain: list[Link], *, redis_url: str | None) -> bool:
    """True when `chain` gains nothing from the Router: one provider deployment, no rpm/tpm
    limit and no Redis-shared state."""
    if len(chain) != 1 or redis_url:
        return False
    deployment = chain[0].deployment
    return not deployment.is_local and deployment.rpm is None and deployment.tpm is None


@dataclass
class DirectCaller:
    """litellm and each directly called deployment's parameters, built once per gateway."""

    litellm: Any = field(repr=False)
    secrets: list[str] = field(repr=False, default_factory=list)
    _params: dict[str, dict[str, Any]] = field(repr=False, default_factory=dict)

    def params(self, link: Link) -> dict[str, Any]:
        """The litellm keyword arguments of `link`'s deployment, the key read once."""
        found = self._params.get(link.group)
        if found is None:
            found = self._params[link.group] = deployment_params(link, self.secrets)
        return found

    async def answer(
        self, link: Link, messages: list[dict[str, Any]], call_params: dict[str, Any]
    ) -> tuple[RouterAnswer | None, list[DeploymentFailure]]:
        """The answer (None if every attempt failed) and the failures, as the Router path
        gives them: each failed try before an answer, or the last failure with the attempt
        count (`merge_failures` for a one-deployment chain)."""
        guard_message_logging(self.litellm)  # redaction exactly as before a Router call
        kwargs = {**self.params(link), **call_params}
        model = link.deployment.model
        retries = link.deployment.max_retries
        failures: list[DeploymentFailure] = []
        for attempt in range(retries + 1):
            try:
                response = await self.litellm.acompletion(messages=messages, **kwargs)
                if not has_completion(response):
                    raise NoCompletionError
            except Exception as error:
                failures.append(DeploymentFailure.of(model, error, secrets=self.secrets))
                if attempt == retries or _not_retried(error):
                    return None, [replace(failures[-1], attempts=len(failures))]
                await asyncio.sleep(self.backoff_s(error, retries - attempt, retries))
                continue
            return RouterAnswer.of(response, [link], failures), failures
        raise AssertionError("unreachable: the loop returns")  # pragma: no cover

    def backoff_s(self, error: Exception, remaining: int, retries: int) -> float:
        """The Router's sleep before a retry: litellm's `calculate_retry_after`, with the
        Router's `retry_after=0` floor."""
        from litellm.litellm_core_utils.exception_mapping_utils import (  # noqa: PLC0415
            _get_response_headers,
        )

        headers = _get_response_headers(original_exception=error)
        return float(
            self.litellm.utils.calculate_retry_after(
                remaining_retries=remaining,
                max_retries=retries,
                response_headers=headers,
                min_timeout=0,
            )
        )


def _not_retried(error: Exception) -> bool:
    if isinstance(error, NoCompletionError):  # litellm already sent it twice
        return True
    return any(klass.__name__ in _NOT_RETRIED for klass in type(error).__mro__)

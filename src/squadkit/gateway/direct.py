"""Calls a one-deployment chain through `litellm.acompletion` itself, without the Router.

Why: litellm's Router costs about a fifth of an eval case's CPU on top of the inner
`litellm.acompletion` call (routing, retry bookkeeping, events: README, "A lean hot path"),
and for a chain of exactly one provider deployment it provides nothing this module does not
reproduce. Such a chain has nothing to fall back to, so nothing to skip: the Router never
cools a lone deployment down (litellm avoids cooldowns on a one-deployment group without
fallbacks), so `/readyz` never reported one either. What the Router would still do is kept
out of this path by `calls_directly`: rpm/tpm limits (the Router counts them) and
Redis-shared state (`REDIS_URL`) keep the Router.

What both paths share, so they end a call the same: the deployment's own litellm
parameters (`deployment_params`: timeout per attempt, no retries inside the provider's
client, prices) and the tries of one link (`try_link`): `max_retries` retries of every
failure but one that would repeat (`retried`: 400, 401, 403, 404, 413, 422, a cooled-down
deployment), a sleep before each retry from litellm's own `calculate_retry_after`
(`Retry-After` honoured in whole seconds up to 60, else 0.5 s x 2^n, plus up to 0.75 s of
jitter), no sleep after the last attempt, and one `DeploymentFailure` per failed try. The
Router path walks its chain's links with the same `try_link`, one Router call per try. The
gateway's overall deadline and observer events wrap both alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
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

# Causes a retry would meet again: the request itself is wrong (`bad_request`: 400, 413,
# 422), the key may not make it (`auth`: 401, 403), the model is unknown (`not_found`), or
# the deployment is out of this call (`cooling_down`: cooled down or at its rpm/tpm limit).
_NOT_RETRIED_CAUSES = frozenset({"bad_request", "auth", "not_found", "cooling_down"})


def calls_directly(chain: list[Link], *, redis_url: str | None) -> bool:
    """True when `chain` gains nothing from the Router: one provider deployment, no rpm/tpm
    limit and no Redis-shared state."""
    if len(chain) != 1 or redis_url:
        return False
    deployment = chain[0].deployment
    return not deployment.is_local and deployment.rpm is None and deployment.tpm is None


def retried(failure: DeploymentFailure) -> bool:
    """Whether a try that failed so is tried again: not when it would fail the same way."""
    return failure.retryable and failure.cause not in _NOT_RETRIED_CAUSES


async def try_link(
    send: Callable[[], Awaitable[Any]],
    link: Link,
    *,
    litellm: Any,
    secrets: list[str],
) -> tuple[Any, list[DeploymentFailure]]:
    """`link`'s tries: `send()` until it gives a completion, at most `max_retries` + 1
    times, a failure that would repeat (`retried`) not tried again, litellm's backoff
    (`backoff_s`) before each retry and none after the last. Both paths call a link so:
    the direct one through `litellm.acompletion`, the Router one through the Router.

    Returns the completion (None if every try failed) and one failure per failed try.
    """
    model = link.deployment.model
    retries = link.deployment.max_retries
    failures: list[DeploymentFailure] = []
    for attempt in range(retries + 1):
        try:
            response = await send()
            if not has_completion(response):
                raise NoCompletionError
        except Exception as error:
            failure = DeploymentFailure.of(model, error, secrets=secrets)
            failures.append(failure)
            if attempt == retries or not retried(failure):
                return None, failures
            await asyncio.sleep(backoff_s(litellm, error, retries - attempt, retries))
            continue
        return response, failures
    raise AssertionError("unreachable: the loop returns")  # pragma: no cover


def backoff_s(litellm: Any, error: Exception, remaining: int, retries: int) -> float:
    """The sleep before a retry: litellm's `calculate_retry_after` (the Router's), with the
    Router's `retry_after=0` floor."""
    from litellm.litellm_core_utils.exception_mapping_utils import (  # noqa: PLC0415
        _get_response_headers,
    )

    headers = _get_response_headers(original_exception=error)
    return float(
        litellm.utils.calculate_retry_after(
            remaining_retries=remaining,
            max_retries=retries,
            response_headers=headers,
            min_timeout=0,
        )
    )


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
        count."""
        guard_message_logging(self.litellm)  # redaction exactly as before a Router call
        kwargs = {**self.params(link), **call_params}

        def send() -> Awaitable[Any]:
            return self.litellm.acompletion(messages=messages, **kwargs)  # type: ignore[no-any-return]

        response, failures = await try_link(send, link, litellm=self.litellm, secrets=self.secrets)
        if response is None:
            return None, [replace(failures[-1], attempts=len(failures))]
        return RouterAnswer.of(response, [link], failures), failures

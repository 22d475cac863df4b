"""The gateway's typed errors: callers never see a raw provider exception."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import SquadError

__all__ = [
    "DeadlineExceeded",
    "DeploymentFailure",
    "FailureCause",
    "GatewayError",
    "InvalidOutput",
    "ProviderUnavailable",
]


class GatewayError(SquadError):
    """A model call failed after everything the gateway is allowed to try."""


FailureCause = Literal[
    "rate_limited",
    "timeout",
    "auth",
    "bad_request",
    "not_found",
    "server_error",
    "connection",
    "cooling_down",
    "other",
]
"""Why a deployment failed, in a closed set metrics and spans can group by."""

# Exception class names (anywhere in the MRO of the exception or of what it was raised from,
# so litellm's, openai's and the stdlib's all count) -> cause, checked in order: a litellm
# `Timeout` is also an `APIConnectionError`. Then the HTTP status decides.
_CAUSE_BY_TYPE: tuple[tuple[frozenset[str], FailureCause], ...] = (
    (frozenset({"RouterRateLimitError", "RouterRateLimitErrorBasic"}), "cooling_down"),
    (frozenset({"Timeout", "APITimeoutError", "TimeoutError"}), "timeout"),
    (frozenset({"RateLimitError"}), "rate_limited"),
    (frozenset({"AuthenticationError", "PermissionDeniedError"}), "auth"),
    (frozenset({"NotFoundError"}), "not_found"),
    (frozenset({"BadRequestError", "UnprocessableEntityError"}), "bad_request"),
    (frozenset({"APIConnectionError", "ConnectionError"}), "connection"),
)


@dataclass(frozen=True)
class DeploymentFailure:
    """Why one deployment of a chain did not answer, in fields set where the gateway knew them.

    `deployment` is the pinned model string (never a Router group), `cause` one of
    `FailureCause`, `error_type` the exception's class name (`RateLimitError`; None when
    nothing was raised, as for a cooled-down deployment the call skipped), `status_code` the
    provider's HTTP status, and `reason` the one key-free line a person reads.
    """

    deployment: str
    cause: FailureCause
    reason: str
    error_type: str | None = None
    status_code: int | None = None
    attempts: int = 1

    @classmethod
    def of(
        cls,
        deployment: str,
        error: BaseException | None,
        *,
        attempts: int = 1,
        secrets: Sequence[str] = (),
    ) -> DeploymentFailure:
        """`deployment` failed with `error`: its type, status, cause and first line.

        `secrets` (the keys the gateway read) are replaced by `***` in the reason.
        """
        if error is None:
            return cls(deployment, "other", "failed (no exception reported)", attempts=attempts)
        name = type(error).__name__
        status = getattr(error, "status_code", None)
        status = status if isinstance(status, int) and not isinstance(status, bool) else None
        text = str(getattr(error, "message", None) or error)
        first = text.strip().splitlines()[0] if text.strip() else ""
        for prefix in ("litellm.", name + ":", " "):
            first = first.removeprefix(prefix)
        first = first.removeprefix(name + ":").strip()[:200]
        for secret in secrets:
            if secret:
                first = first.replace(secret, "***")
        return cls(
            deployment=deployment,
            cause=_cause(error, status),
            reason=f"{name}{f' {status}' if status else ''}: {first}",
            error_type=name,
            status_code=status,
            attempts=attempts,
        )

    @classmethod
    def cooling_down(cls, deployment: str) -> DeploymentFailure:
        """`deployment` was left out of the call: litellm had cooled it down."""
        return cls(deployment, "cooling_down", "skipped: cooling down after recent failures")

    @property
    def retryable(self) -> bool:
        """400/401/403/404 will fail again the same way: the Router does not retry them."""
        return self.status_code not in {400, 401, 403, 404}

    def __str__(self) -> str:
        times = f" ({self.attempts} attempts)" if self.attempts > 1 else ""
        note = "" if self.retryable else " [not retried]"
        return f"{self.deployment}: {self.reason}{times}{note}"


def _cause(error: BaseException, status: int | None) -> FailureCause:
    for link in _chain(error):
        names = {klass.__name__ for klass in type(link).__mro__}
        for types, cause in _CAUSE_BY_TYPE:
            if names & types:
                return cause
    by_status: dict[int, FailureCause] = {
        408: "timeout",
        429: "rate_limited",
        401: "auth",
        403: "auth",
        404: "not_found",
        400: "bad_request",
        413: "bad_request",
        422: "bad_request",
    }
    if status in by_status:
        return by_status[status]
    if status is not None and status >= 500:
        return "server_error"
    return "other"


def _chain(error: BaseException) -> list[BaseException]:
    """`error` and what it was raised from, down to the next error litellm mapped.

    litellm raises a refused connection as a 500 `InternalServerError` whose context holds
    the `APIConnectionError`; an earlier litellm error in the context is another try's (a
    fallback runs while the Router handles the failure before it), so the walk stops there.
    """
    chain = [error]
    link = error.__cause__ or error.__context__
    while link is not None and len(chain) < 10:
        if type(link).__module__.startswith("litellm.exceptions") or link in chain:
            break
        chain.append(link)
        link = link.__cause__ or link.__context__
    return chain


class ProviderUnavailable(GatewayError):
    """Every deployment of the alias's chain failed; `failures` says why, one per deployment."""

    def __init__(self, alias: str, failures: list[DeploymentFailure]) -> None:
        self.alias = alias
        self.failures = failures
        listed = "; ".join(str(f) for f in failures) or "no deployment answered"
        super().__init__(
            f"model alias '{alias}': every deployment failed: {listed}. "
            "Check the providers' status and config/models.yaml"
        )


class InvalidOutput(GatewayError):
    """The answer was not valid JSON for the output schema, even after one repair attempt."""

    def __init__(self, alias: str, deployment: str, problem: str) -> None:
        self.alias = alias
        self.deployment = deployment
        self.problem = problem
        super().__init__(
            f"model alias '{alias}' ({deployment}) gave invalid structured output after one "
            f"repair attempt: {problem}"
        )


class DeadlineExceeded(GatewayError):
    """The call's overall deadline passed before any deployment answered."""

    def __init__(self, alias: str, deadline_s: float) -> None:
        self.alias = alias
        self.deadline_s = deadline_s
        super().__init__(
            f"model alias '{alias}': no answer within the {deadline_s:g} s deadline; raise "
            "deadline_s (call or config/models.yaml routing) or check the providers"
        )

"""The gateway's typed errors: callers never see a raw provider exception."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SquadError

if TYPE_CHECKING:
    from ..calls import DeploymentFailure

__all__ = [
    "DeadlineExceeded",
    "GatewayError",
    "InvalidOutput",
    "ProviderUnavailable",
]


class GatewayError(SquadError):
    """A model call failed after everything the gateway is allowed to try."""


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

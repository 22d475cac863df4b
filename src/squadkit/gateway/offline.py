"""Answers a chain made only of offline `local/` deployments in-process, without litellm.

Why: importing litellm and building its Router costs seconds in every process (about 3-5 s
warm and twice that in a fresh venv, measured in `benchmarks/run.py`'s check section),
while an offline model is a pure function of the messages that answers in microseconds.
A squad's tests, `make check`, `make demo` and a keyless `squad serve` run only such
chains, so they never pay for litellm. A chain with any provider deployment, including
one that falls back to `local/`, still goes through the Router (`local_provider.py`), so
the offline last resort of a production chain is exercised the way production uses it.

What the Router would add here does not apply to a deterministic in-process function:
a retry returns the same answer, and there is no rate limit to cool down from. What is
kept: the chain is walked in order, a model that raises is one failure and the next
deployment answers, and the answer carries the same tokens and cost as through litellm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import local_models
from .errors import DeploymentFailure

if TYPE_CHECKING:
    from .router import Link


@dataclass(frozen=True)
class OfflineAnswer:
    """Which deployment answered, what it said, and why the ones before it did not."""

    link: Link
    answer: local_models.LocalAnswer
    failures: tuple[DeploymentFailure, ...]

    @property
    def cost_usd(self) -> float:
        deployment = self.link.deployment
        return self.answer.input_tokens * (
            deployment.input_cost_per_token or 0.0
        ) + self.answer.output_tokens * (deployment.output_cost_per_token or 0.0)


def answer_offline(
    chain: Sequence[Link], messages: list[dict[str, Any]]
) -> OfflineAnswer | tuple[DeploymentFailure, ...]:
    """The first deployment of `chain` that answers, or every deployment's failure."""
    failures: list[DeploymentFailure] = []
    for link in chain:
        name = link.deployment.model.split("/", 1)[1]
        try:
            answer = local_models.answer(name, messages)
        except Exception as error:  # a squad's offline model may raise anything
            failures.append(_failure(link, error))
            continue
        return OfflineAnswer(link=link, answer=answer, failures=tuple(failures))
    return tuple(failures)


def _failure(link: Link, error: Exception) -> DeploymentFailure:
    text = str(error).strip()
    first = text.splitlines()[0][:200] if text else "no message"
    return DeploymentFailure(
        deployment=link.deployment.model, reason=f"{type(error).__name__}: {first}"
    )

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
from typing import Any

from ..calls import DeploymentFailure
from . import local_models
from .router import Link, RouterAnswer


def answer_offline(
    chain: Sequence[Link], messages: list[dict[str, Any]]
) -> tuple[RouterAnswer | None, list[DeploymentFailure]]:
    """The first answer along `chain` (None if none answered) and the failures before it."""
    failures: list[DeploymentFailure] = []
    for link in chain:
        deployment = link.deployment
        try:
            answer = local_models.answer(deployment.model.split("/", 1)[1], messages)
        except Exception as error:  # a squad's offline model may raise anything
            failures.append(DeploymentFailure.of(deployment.model, error))
            continue
        routed = RouterAnswer(
            text=answer.text,
            link=link,
            tries=len(failures) + 1,
            input_tokens=answer.input_tokens,
            output_tokens=answer.output_tokens,
            cost_usd=deployment.cost_usd(answer.input_tokens, answer.output_tokens),
            finish_reason="stop",
            failures=tuple(failures),
        )
        return routed, failures
    return None, failures

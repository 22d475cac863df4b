"""Builds litellm's Router from `ModelsConfig`: the only module that configures litellm.

Each deployment of an alias becomes its own Router model group `<alias>@<n>`, and the
alias's chain becomes Router fallbacks (`triage@0 -> triage@1 -> ...`), which litellm needs
to cool a deployment down. Timeouts, per-deployment cooldowns, rpm/tpm limits and their
Redis-shared state are litellm's, configured per deployment from `config/models.yaml`. The
gateway walks the chain itself, one Router call per try of one link (`direct.try_link`):
it leaves out the deployments litellm has cooled down (`RouterBundle.live_links`) and
decides retries, because litellm's `RetryPolicy` cannot: a 403, or a 422 it returns as no
completion (`NoCompletionError`), counts under `DefaultRetries` with 502s and refused
connections, so the Router retried what fails the same way again. A chain the Router adds
nothing to (one provider deployment, no rpm/tpm limit, no Redis) is called without it, with
the same parameters (`deployment_params`) and tries: `direct.py`.

litellm is imported here, lazily (the first call builds the Router), with
`LITELLM_LOCAL_MODEL_COST_MAP=True` so nothing reaches the internet at import.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..calls import DeploymentFailure
from ..errors import ConfigError
from . import local_models
from .config import Deployment, ModelsConfig

log = logging.getLogger(__name__)


class NoCompletionError(Exception):
    """litellm returned no completion, and raised nothing: a failed try, not an answer.

    litellm's OpenAI-compatible handler does so when a provider answers 422 Unprocessable
    Entity twice: with `drop_params` on (`tune_litellm`) it drops the parameters the first
    422 names and sends the request once more, and after a second 422 it falls out of its
    loop returning None. Falling out of that loop is the only way it returns nothing, so
    the try is typed as that 422 (a `bad_request`, not retried, like a 400).
    """

    status_code = 422

    def __init__(self) -> None:
        super().__init__(
            "the provider answered 422 Unprocessable Entity (litellm sent the request twice "
            "and returned no completion)"
        )


def has_completion(response: Any) -> bool:
    """False for what litellm returns instead of raising after two 422s (`NoCompletionError`)."""
    return response is not None and hasattr(response, "choices")


@dataclass(frozen=True)
class Link:
    """One usable deployment of an alias, as the Router knows it."""

    group: str  # Router model group and deployment id, e.g. "triage@0"
    index: int  # position in the alias's chain in config/models.yaml
    deployment: Deployment


@dataclass(frozen=True)
class ChainPlan:
    """What each alias can call in this process, decided from the config and the environment."""

    chains: dict[str, list[Link]]  # alias -> usable deployments, in chain order
    skipped: dict[str, list[str]]  # alias -> env var names of deployments left out


@dataclass
class RouterBundle:
    """The Router plus what the gateway needs to interpret its answers."""

    router: Any
    chains: dict[str, list[Link]]
    secrets: list[str] = field(repr=False, default_factory=list)
    recorder: Any = field(repr=False, default=None)
    litellm: Any = field(repr=False, default=None)  # the module, for `guard_message_logging`

    async def live_links(self, chain: list[Link]) -> list[Link]:
        """`chain` without the deployments litellm has cooled down, in chain order.

        Read from the Router's own cooldown store (`Router.health().cooldowns`, litellm's
        public replacement for `cooldown_cache`): the one its picks read, in memory and in
        Redis when `REDIS_URL` is set (it serves memory alone if Redis does not answer).
        """
        groups = [link.group for link in chain]
        cooling = await self.router.health().cooldowns.async_get_active_cooldowns(groups, None)
        cooled = {group for group, _ in cooling}
        return [link for link in chain if link.group not in cooled]


def fallback_routes(links: list[Link]) -> list[dict[str, list[str]]]:
    """Router `fallbacks` walking `links` in order: each group falls back to every later one."""
    return [
        {link.group: [later.group for later in links[position + 1 :]]}
        for position, link in enumerate(links[:-1])
    ]


def tune_litellm() -> Any:
    """Import litellm with the process-wide settings the gateway relies on.

    These cut litellm's per-call CPU without losing what we use (see
    `benchmarks/gateway_overhead.py` for the figures): no debug info, no budget/telemetry
    callbacks. Cost is still computed (Completion.cost_usd). Message-logging redaction is
    decided per call (`guard_message_logging`): on exactly when a callback could read it.
    """
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm  # noqa: PLC0415 - heavy (~10 s cold); only when a call is made

    litellm.suppress_debug_info = True
    guard_message_logging(litellm)
    litellm.drop_params = True  # a provider that lacks a default param ignores it
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # the gateway reports, not litellm
    from . import local_provider  # noqa: PLC0415 - imports litellm

    local_provider.register()
    return litellm


# litellm's module-level callback lists: what a squad (or a litellm integration it turns on)
# can register to read a call's logging payload, the messages and the answer included.
_CALLBACK_LISTS = (
    "callbacks",
    "input_callback",
    "success_callback",
    "failure_callback",
    "service_callback",
    "audit_log_callbacks",
    "_async_input_callback",
    "_async_success_callback",
    "_async_failure_callback",
)


def guard_message_logging(litellm: Any) -> bool:
    """Redact litellm's logging payloads exactly when a callback other than ours could read
    them; returns whether redaction is on.

    `litellm.turn_off_message_logging` makes litellm deep-copy every call's logging payload
    to blank its messages and answer (about a sixth of a Router call's CPU), even when no
    callback reads the payload. squadkit registers only its failure recorder, which reads a
    failure's metadata and exception, never the messages. So the copy is paid only when a
    squad, or a litellm integration it enabled, has added a callback: then no message or
    answer reaches it. Called before every Router call (a few short list scans), so a
    callback added at any time is covered from the next call on.
    """
    foreign = any(
        not getattr(callback, "squadkit_owned", False)
        for name in _CALLBACK_LISTS
        for callback in getattr(litellm, name, None) or ()
    )
    if litellm.turn_off_message_logging is not foreign:
        litellm.turn_off_message_logging = foreign
    return foreign


def plan_chains(config: ModelsConfig) -> ChainPlan:
    """Each alias's usable deployments (those whose key variable is set), in chain order.

    No litellm here: a chain of offline deployments is answered without it (`offline.py`).
    A `local/` model nobody defines is a ConfigError now, at start-up, not a failed call
    later; so is a squad's offline model that shadows a shipped one (`known_models`).
    """
    unknown = local_models.unknown_local_models(config)
    if unknown:
        raise ConfigError(unknown[0])
    chains: dict[str, list[Link]] = {}
    skipped: dict[str, list[str]] = defaultdict(list)
    for alias, alias_config in config.aliases.items():
        links = []
        for index, deployment in enumerate(alias_config.deployments):
            if deployment.missing_key():
                skipped[alias].append(str(deployment.api_key_env))
                log.warning(
                    "model alias '%s': skipping %s because %s is not set",
                    alias,
                    deployment.model,
                    deployment.api_key_env,
                )
                continue
            links.append(Link(group=f"{alias}@{index}", index=index, deployment=deployment))
        chains[alias] = links
    return ChainPlan(chains=chains, skipped=dict(skipped))


def build_router(
    plan: ChainPlan, config: ModelsConfig, *, redis_url: str | None = None
) -> RouterBundle:
    """A Router over every planned deployment; each alias's chain becomes its fallbacks."""
    litellm = tune_litellm()
    from litellm import Router  # noqa: PLC0415

    model_list: list[dict[str, Any]] = []
    fallbacks: list[dict[str, list[str]]] = []
    secrets: list[str] = []
    for links in plan.chains.values():
        for link in links:
            model_list.append(_router_deployment(link, secrets))
        # Each call names one link and no fallback (the gateway walks the chain: `try_link`
        # in direct.py), but these are needed: litellm never cools down a one-deployment
        # group that has no fallbacks.
        fallbacks.extend(fallback_routes(links))

    recorder = _failure_recorder(litellm, secrets)
    redis: dict[str, Any] = {"redis_url": redis_url} if redis_url else {}
    router = Router(
        model_list=model_list,
        fallbacks=fallbacks,
        num_retries=0,  # retries are the gateway's (`try_link`), per deployment
        allowed_fails=config.routing.allowed_fails,
        cooldown_time=config.routing.cooldown_s,
        retry_after=0,
        routing_strategy="simple-shuffle",
        **redis,
    )
    return RouterBundle(
        router=router, chains=plan.chains, secrets=secrets, recorder=recorder, litellm=litellm
    )


def _router_deployment(link: Link, secrets: list[str]) -> dict[str, Any]:
    # `squad_model` lets the failure recorder name the pinned model, not the Router group.
    model_info = {"id": link.group, "squad_model": link.deployment.model}
    params = deployment_params(link, secrets)
    return {"model_name": link.group, "litellm_params": params, "model_info": model_info}


def deployment_params(link: Link, secrets: list[str]) -> dict[str, Any]:
    """litellm's parameters for `link`'s deployment, the same for the Router's model list and
    a direct `litellm.acompletion` call (`direct.py`); its key is added to `secrets`."""
    deployment = link.deployment
    params: dict[str, Any] = {
        "model": deployment.model,
        "timeout": deployment.timeout_s,
        "max_retries": 0,  # retries are the Router's (or `direct.py`'s): the retry policy's
    }
    if deployment.api_base:
        params["api_base"] = deployment.api_base
    if deployment.api_key_env:
        key = os.environ[deployment.api_key_env]
        secrets.append(key)
        params["api_key"] = key
    for name in ("rpm", "tpm", "input_cost_per_token", "output_cost_per_token"):
        value = getattr(deployment, name)
        if value is not None:
            params[name] = value
    if deployment.is_local:
        params.setdefault("input_cost_per_token", 0.0)
        params.setdefault("output_cost_per_token", 0.0)
    return params


@dataclass(frozen=True)
class FailedTry:
    """One failed provider request of a gateway call: its Router group and why it failed."""

    group: str  # e.g. "triage@0": which link of the chain (a model may be in a chain twice)
    failure: DeploymentFailure  # names the pinned model string


def _failure_recorder(litellm: Any, secrets: list[str]) -> Any:
    """A failure-only litellm callback noting why each attempt failed, per gateway call.

    The Router raises only one exception when a whole chain fails; this records every
    attempt's failure (typed, key-free: `secrets` are scrubbed) so `ProviderUnavailable`
    can list them and observers can count them. It is registered for failures only, so
    successful calls pay nothing for it.
    """
    from litellm.integrations.custom_logger import CustomLogger  # noqa: PLC0415

    class FailureRecorder(CustomLogger):  # type: ignore[misc]  # litellm is Any here
        squadkit_owned = True  # reads no messages: no reason to redact (guard_message_logging)

        def __init__(self) -> None:
            super().__init__()
            self.failures: dict[str, list[FailedTry]] = defaultdict(list)
            self.secrets: set[str] = set()

        async def async_log_failure_event(
            self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
        ) -> None:
            self.record(kwargs)

        def log_failure_event(
            self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
        ) -> None:
            self.record(kwargs)

        def record(self, kwargs: dict[str, Any]) -> None:
            litellm_params = kwargs.get("litellm_params") or {}
            metadata = litellm_params.get("metadata") or {}
            call_id = metadata.get("gateway_call_id")
            if call_id is None:
                return
            model_info = litellm_params.get("model_info") or {}
            group = str(model_info.get("id") or metadata.get("model_group") or "?")
            model = str(model_info.get("squad_model") or group)
            failure = DeploymentFailure.of(
                model, kwargs.get("exception"), secrets=sorted(self.secrets)
            )
            self.failures[call_id].append(FailedTry(group, failure))

        def pop(self, call_id: str) -> list[FailedTry]:
            return self.failures.pop(call_id, [])

    recorder = FailureRecorder()
    if not any(type(cb).__name__ == "FailureRecorder" for cb in litellm._async_failure_callback):
        litellm._async_failure_callback.append(recorder)
        litellm.failure_callback.append(recorder)
    else:  # one recorder per process: reuse it
        recorder = next(
            cb for cb in litellm._async_failure_callback if type(cb).__name__ == "FailureRecorder"
        )
    recorder.secrets.update(secrets)
    return recorder


def missing_key_error(alias: str, variables: list[str]) -> ConfigError:
    names = ", ".join(variables)
    return ConfigError(
        f"model alias '{alias}': no usable deployment: set {names} (see .env.example) "
        "or add a deployment without a key to its chain in config/models.yaml"
    )


@dataclass(frozen=True)
class RouterAnswer:
    """What one Router call (or one in-process offline answer) said, in the gateway's terms."""

    text: str
    link: Link
    tries: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    finish_reason: str | None
    failures: tuple[DeploymentFailure, ...] = ()  # why the deployments before `link` did not

    @classmethod
    def of(
        cls, response: Any, chain: list[Link], failures: list[DeploymentFailure]
    ) -> RouterAnswer:
        hidden = getattr(response, "_hidden_params", None) or {}
        group = str(hidden.get("model_id") or chain[0].group)
        link = next((link for link in chain if link.group == group), chain[0])
        usage = getattr(response, "usage", None)
        input_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        output_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = hidden.get("response_cost")
        if cost is None:
            cost = link.deployment.cost_usd(input_tokens, output_tokens)
        choice = response.choices[0] if response.choices else None
        content = choice.message.content if choice is not None else None
        return cls(
            text=content or "",
            link=link,
            tries=len(failures) + 1,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=float(cost),
            finish_reason=getattr(choice, "finish_reason", None) or None,
            failures=tuple(failures),
        )

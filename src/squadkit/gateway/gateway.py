"""The gateway: `acomplete(alias, messages)` -> `Completion`, through litellm's Router
(or in-process, for a chain of offline models only: `offline.py`; or through
`litellm.acompletion` itself, for a chain of one provider deployment with no rpm/tpm limit
and no Redis-shared state: `direct.py`).

What it adds to the Router, and nothing else: an overall deadline per call, structured
output (`structured`: parse, validate, one repair attempt, then `InvalidOutput`), typed
errors listing every deployment's failure, one small result (`calls`), a bound on calls in
flight, and calls that skip the deployments litellm has cooled down instead of sleeping
their retries. This module is the call itself: those steps in order, and the Router's
answer or failure turned into the gateway's terms.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..calls import (
    CallContext,
    Completion,
    DeploymentFailure,
    GatewayObserver,
    Message,
    NoopObserver,
    PromptRef,
    RouterCall,
)
from .backends import Backends
from .config import ModelsConfig, load_models_config
from .direct import DirectCaller, try_link
from .errors import DeadlineExceeded, InvalidOutput, ProviderUnavailable
from .offline import answer_offline
from .protocol import PromptCalls
from .router import (
    Link,
    RouterAnswer,
    guard_message_logging,
    missing_key_error,
)
from .structured import parse_output, repair_messages

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["Gateway"]

T = TypeVar("T")

_CALL_NUMBERS = itertools.count(1)
"""A call's id within this process (the observer's and the Router recorder's key, never
shown): a counter, not `uuid.uuid4()`, which cost a system call and a `UUID` per call."""


class Gateway(PromptCalls):
    """Calls model aliases from `config/models.yaml`. Build one per process and reuse it."""

    def __init__(
        self,
        config: ModelsConfig,
        *,
        observer: GatewayObserver | None = None,
        redis_url: str | None = None,
    ) -> None:
        self.config = config
        self.observer: GatewayObserver = observer or NoopObserver()
        self._backends = Backends(config, redis_url=redis_url)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()
        # routing.max_in_flight, one semaphore per event loop (a semaphore binds to its loop).
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, observer: GatewayObserver | None = None
    ) -> Gateway:
        """The gateway for `settings.models_file`; `REDIS_URL` shares Router state.

        Without an explicit `observer` it reports to the process's observability set-up
        (`setup_observability`), so every call is traced and measured by default.
        """
        if observer is None:
            from ..observability import get_observer  # noqa: PLC0415 - no import cycle

            observer = get_observer()
        return cls(
            load_models_config(settings.models_file),
            observer=observer,
            redis_url=os.environ.get("REDIS_URL") or None,
        )

    def __repr__(self) -> str:
        return f"Gateway(aliases={sorted(self.config.aliases)}, source={self.config.source})"

    # -- calls -------------------------------------------------------------------------
    async def acomplete(
        self,
        alias: str,
        messages: Sequence[Message],
        *,
        params: Mapping[str, Any] | None = None,
        output_schema: Mapping[str, Any] | None = None,
        prompt: PromptRef | None = None,
        deadline_s: float | None = None,
    ) -> Completion:
        """Ask `alias` to answer `messages`; see the module doc for what can be raised."""
        alias_config = self.config.alias(alias)  # ConfigError for an unknown alias
        plan = self._backends.plan()
        chain = plan.chains.get(alias, [])
        if not chain:
            raise missing_key_error(alias, plan.skipped.get(alias, []))
        deadline = deadline_s if deadline_s is not None else self.config.routing.deadline_s
        call = CallContext(
            call_id=str(next(_CALL_NUMBERS)),
            alias=alias,
            chain=tuple(d.model for d in alias_config.deployments),
            messages=messages,
            prompt=prompt,
            params={**chain[0].deployment.params, **(params or {})},
            output_schema=output_schema,
        )
        attempt = self._attempter(chain, call, dict(params or {}))
        self.observer.on_call_start(call)
        started = time.perf_counter()
        try:
            try:
                answer = self._answer(attempt, call, output_schema, started)
                if deadline > 0 and self._never_waits(chain):
                    # A timeout could not fire: the call ends in its first step, no timer.
                    completion = await answer
                else:
                    # In this task, not in one of its own as `wait_for` (3.11) runs it: the
                    # answer is handled in the step it arrives in, not a turn of the loop later.
                    async with asyncio.timeout(deadline):
                        completion = await answer
            except TimeoutError:
                if self._backends.bundle is not None:
                    self._backends.bundle.recorder.pop(call.call_id)
                raise DeadlineExceeded(alias, deadline) from None
        except BaseException as error:
            self.observer.on_call_end(call, None, error)
            raise
        self.observer.on_call_end(call, completion, None)
        return completion

    def complete(
        self,
        alias: str,
        messages: Sequence[Message],
        *,
        params: Mapping[str, Any] | None = None,
        output_schema: Mapping[str, Any] | None = None,
        prompt: PromptRef | None = None,
        deadline_s: float | None = None,
    ) -> Completion:
        """Blocking `acomplete` for scripts (runs on the gateway's own event loop thread)."""
        return self._run_sync(
            self.acomplete(
                alias,
                messages,
                params=params,
                output_schema=output_schema,
                prompt=prompt,
                deadline_s=deadline_s,
            )
        )

    # -- internals ---------------------------------------------------------------------
    def _attempter(
        self, chain: list[Link], call: CallContext, params: dict[str, Any]
    ) -> Callable[..., Awaitable[RouterAnswer]]:
        """`chain`'s attempt: offline, direct (`direct.py`) or through the Router, set up.

        Set-up (importing litellm, building the Router: seconds on a busy machine) is not the
        provider's time: done before the clock starts, it counts against neither the
        deadline nor the latency a recording keeps.
        """
        path = self._backends.path(chain)
        if path == "offline":
            return functools.partial(self._offline_attempt, chain=chain, call=call)
        if path == "direct":
            direct = self._backends.direct()
            return functools.partial(
                self._direct_attempt, direct, link=chain[0], call=call, params=params
            )
        self._backends.router()
        return functools.partial(self._attempt, chain=chain, call=call, params=params)

    async def _answer(
        self,
        attempt: Callable[..., Awaitable[RouterAnswer]],
        call: CallContext,
        output_schema: Mapping[str, Any] | None,
        started: float,
    ) -> Completion:
        async with self._slot():
            messages = [dict(m) for m in call.messages]
            first = await attempt(messages=messages, purpose="answer")
            attempts = [first]
            output, problem = parse_output(first.text, output_schema)
            if problem is not None:
                repair = repair_messages(messages, first.text, problem, output_schema)
                second = await attempt(messages=repair, purpose="repair")
                attempts.append(second)
                output, problem = parse_output(second.text, output_schema)
                if problem is not None:
                    raise InvalidOutput(call.alias, second.link.deployment.model, problem)
            last = attempts[-1]
            return Completion(
                text=last.text,
                output=output,
                alias=call.alias,
                deployment=last.link.deployment.model,
                fallback_used=last.link.index > 0,
                attempts=sum(a.tries for a in attempts),
                latency_s=time.perf_counter() - started,
                input_tokens=sum(a.input_tokens for a in attempts),
                output_tokens=sum(a.output_tokens for a in attempts),
                cost_usd=sum(a.cost_usd for a in attempts),
                prompt=call.prompt,
                finish_reason=last.finish_reason,
                failures=last.failures,
            )

    def _never_waits(self, chain: list[Link]) -> bool:
        """True when the call suspends nowhere: offline models only (answered in-process,
        no I/O) and no `routing.max_in_flight` slot to wait for."""
        return self.config.routing.max_in_flight is None and self._all_local(chain)

    @staticmethod
    def _all_local(chain: list[Link]) -> bool:
        return all(link.deployment.is_local for link in chain)

    def _slot(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """A slot among `routing.max_in_flight`; waiting for it counts against the deadline."""
        limit = self.config.routing.max_in_flight
        if limit is None:
            return contextlib.nullcontext()
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = asyncio.Semaphore(limit)
        return slots

    async def _attempt(
        self,
        *,
        chain: list[Link],
        call: CallContext,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
        purpose: Literal["answer", "repair"],
    ) -> RouterAnswer:
        bundle = self._backends.router()
        started = time.perf_counter()
        call_params = {**chain[0].deployment.params, **params}
        # The call walks only the deployments litellm has not cooled down, in chain order.
        # Left to the Router, a cooled-down deployment's pick fails with "No deployments
        # available", which it retries like any error: it sleeps that deployment's whole
        # backoff before falling back, so in an outage every call would wait seconds for a
        # deployment it sends nothing to. A one-link chain has nothing to skip to: it is
        # called either way, so its cooldown store is not read (the Router reads it again
        # to pick the deployment).
        live = (await bundle.live_links(chain) if len(chain) > 1 else None) or chain
        guard_message_logging(bundle.litellm)
        # The gateway walks the links and retries each itself (`try_link`, as the direct
        # path does): one Router call per try, with no Router retry or fallback. litellm's
        # RetryPolicy has no field for a 403 (a generic APIError, retried under
        # DefaultRetries with 502s and refused connections), and a 422 it returns as no
        # completion at all, which the Router takes for an answer. The Router still picks,
        # counts rpm/tpm, cools deployments down and shares that state through Redis.
        tries: list[DeploymentFailure] = []
        last: dict[str, DeploymentFailure] = {}
        for link in live:
            response, failed = await try_link(
                functools.partial(
                    bundle.router.acompletion,
                    model=link.group,
                    messages=messages,
                    metadata={"gateway_call_id": call.call_id},
                    fallbacks=[],
                    num_retries=0,
                    **call_params,
                ),
                link,
                litellm=bundle.litellm,
                secrets=bundle.secrets,
            )
            bundle.recorder.pop(call.call_id)
            tries += failed
            if response is not None:
                answer = RouterAnswer.of(response, [link], tries)
                self._observe(call, purpose, started, answer, tries)
                return answer
            last[link.group] = replace(failed[-1], attempts=len(failed))
        failures = [
            last.get(link.group) or DeploymentFailure.cooling_down(link.deployment.model)
            for link in chain
        ]
        self._observe(call, purpose, started, None, failures)
        raise ProviderUnavailable(call.alias, failures)

    async def _direct_attempt(
        self,
        direct: DirectCaller,
        *,
        link: Link,
        call: CallContext,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
        purpose: Literal["answer", "repair"],
    ) -> RouterAnswer:
        """`_attempt` for a one-deployment chain that gains nothing from the Router
        (`direct.py`): the same parameters, retries, failures and observer events."""
        started = time.perf_counter()
        call_params = {**link.deployment.params, **params}
        answer, failures = await direct.answer(link, messages, call_params)
        self._observe(call, purpose, started, answer, failures)
        if answer is None:
            raise ProviderUnavailable(call.alias, failures)
        return answer

    async def _offline_attempt(
        self,
        *,
        chain: list[Link],
        call: CallContext,
        messages: list[dict[str, Any]],
        purpose: Literal["answer", "repair"],
    ) -> RouterAnswer:
        """`_attempt` for a chain of offline models only: answered in-process (`offline`)."""
        started = time.perf_counter()
        answer, failures = answer_offline(chain, messages)
        self._observe(call, purpose, started, answer, failures)
        if answer is None:
            raise ProviderUnavailable(call.alias, failures)
        return answer

    def _observe(
        self,
        call: CallContext,
        purpose: Literal["answer", "repair"],
        started: float,
        answer: RouterAnswer | None,
        failures: list[DeploymentFailure],
    ) -> None:
        self.observer.on_attempt(
            call,
            RouterCall(
                purpose=purpose,
                deployment=answer.link.deployment.model if answer else None,
                latency_s=time.perf_counter() - started,
                input_tokens=answer.input_tokens if answer else 0,
                output_tokens=answer.output_tokens if answer else 0,
                failures=tuple(failures),
            ),
        )

    def warm_up(self) -> None:
        """Check the chains now and, if one reaches a provider, import litellm and build the
        Router if a chain needs it (seconds), not on the first call.

        A service calls this at start-up so its first request is not the slow one.
        """
        self._backends.warm_up()

    @property
    def router_built(self) -> bool:
        """Whether this gateway has built litellm's Router (diagnostics: a gateway whose
        chains are all offline or called directly never builds one)."""
        return self._backends.bundle is not None

    async def cooled_down(self) -> dict[str, list[str]]:
        """Alias -> the pinned models litellm has cooled down now, in chain order (only the
        aliases that have one; nothing before the first call or `warm_up`)."""
        bundle = self._backends.bundle
        if bundle is None:
            return {}
        cooled: dict[str, list[str]] = {}
        for alias, chain in bundle.chains.items():
            live = {link.group for link in await bundle.live_links(chain)}
            down = [link.deployment.model for link in chain if link.group not in live]
            if down:
                cooled[alias] = down
        return cooled

    def _run_sync(self, coroutine: Coroutine[Any, Any, T]) -> T:
        with self._loop_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="gateway-loop", daemon=True).start()
                self._loop = loop
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

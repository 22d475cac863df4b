"""What answers a gateway's chains, built once and only when first needed.

A chain is answered in one of three ways (`Backends.path`): `offline` (only `local/`
models, in-process: `offline.py`), `direct` (one provider deployment with no rpm/tpm limit
and no Redis-shared state, through `litellm.acompletion` itself: `direct.py`) or `router`
(everything else, through litellm's Router: `router.py`). Each costs seconds to set up
(importing litellm, building the Router), so each is built the first time a chain needs it,
or at `warm_up`, and reused by every later call. Thread-safe: `Gateway.complete` calls run
on their own event loop thread.
"""

from __future__ import annotations

import threading
from typing import Literal

from .config import ModelsConfig
from .direct import DirectCaller, calls_directly
from .router import ChainPlan, Link, RouterBundle, plan_chains

Path = Literal["offline", "direct", "router"]


class Backends:
    """The chain plan, litellm's Router and the direct caller of one gateway, built lazily."""

    def __init__(self, config: ModelsConfig, *, redis_url: str | None) -> None:
        self.config = config
        self.redis_url = redis_url
        self.bundle: RouterBundle | None = None  # the Router, once a chain has needed it
        self._plan: ChainPlan | None = None
        self._direct: DirectCaller | None = None
        self._lock = threading.Lock()

    def path(self, chain: list[Link]) -> Path:
        """How `chain` is answered (see the module doc)."""
        if all(link.deployment.is_local for link in chain):
            return "offline"
        return "direct" if calls_directly(chain, redis_url=self.redis_url) else "router"

    def plan(self) -> ChainPlan:
        if self._plan is None:
            with self._lock:
                if self._plan is None:
                    self._plan = plan_chains(self.config)
        return self._plan

    def router(self) -> RouterBundle:
        if self.bundle is None:
            plan = self.plan()
            with self._lock:
                if self.bundle is None:
                    from .router import build_router  # noqa: PLC0415 - imports litellm

                    self.bundle = build_router(plan, self.config, redis_url=self.redis_url)
        return self.bundle

    def direct(self) -> DirectCaller:
        if self._direct is None:
            with self._lock:
                if self._direct is None:
                    from .router import tune_litellm  # noqa: PLC0415 - imports litellm

                    self._direct = DirectCaller(tune_litellm())
        return self._direct

    def warm_up(self) -> None:
        """Set up now what the chains need: the Router if one needs it, else litellm alone
        if a chain is called directly, else nothing (offline chains need no litellm)."""
        paths = {self.path(chain) for chain in self.plan().chains.values() if chain}
        if "router" in paths:
            self.router()
        elif "direct" in paths:
            self.direct()

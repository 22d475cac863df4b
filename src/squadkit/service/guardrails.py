"""The service's guardrail monitor: runs `experiments.guardrails.GuardrailWatch` in the
background, and shows its halts in `/readyz` and `/metrics`.

A halt is not a failure of this process (its answers are correct: the halted arm's
subjects get the control's), so `/readyz` stays 200 and reads `halted: ...` for each halted
arm, naming the guardrail, the value observed and the bound. Metrics:

- `squad_experiment_arm_halted{experiment, arm}`: 1 while an arm of a running experiment
  is halted, else 0 (set on every replica at each check);
- `squad_experiment_halts_total{experiment, arm, guardrail}`: halts recorded by this
  process (one replica records each: sum over replicas for the fleet).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any

from ..experiments import ExperimentsFile
from ..experiments.guardrails import GuardrailCheck, GuardrailWatch
from ..inferences import InferenceStore

__all__ = ["HALTED", "GuardrailMonitor"]

log = logging.getLogger(__name__)

HALTED = "halted"
"""A readiness check that starts with this is not a failure (see the module docstring)."""

_METRICS: dict[str, Any] = {}
_MAKING = threading.Lock()


class GuardrailMonitor:
    """Checks guardrails every `interval_s` seconds while the service runs."""

    def __init__(self, experiments: ExperimentsFile, store: InferenceStore, interval_s: float):
        self.watch = GuardrailWatch(experiments, store)
        self.interval_s = interval_s
        self.last: GuardrailCheck | None = None
        self._task: asyncio.Task[None] | None = None

    def check_now(self) -> GuardrailCheck | None:
        """One check; None (the halts already known kept) when the log cannot be read."""
        try:
            result = self.watch.check()
        except Exception as error:  # a store that is down must not stop the service
            log.warning(
                "experiments: guardrails not checked (%s: %s); halted arms stay halted",
                type(error).__name__,
                str(error).splitlines()[0] if str(error) else "",
            )
            return None
        self.last = result
        _publish(self.watch.experiments, result)
        return result

    def start(self) -> None:
        """Check once now (a restart keeps its halts), then every `interval_s` seconds."""
        self.check_now()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await asyncio.to_thread(self.check_now)

    def readiness(self) -> dict[str, str]:
        """`experiment:NAME:ARM` -> `halted: ...` for each halted arm."""
        if self.last is None:
            return {}
        return {
            f"experiment:{halt.experiment}:{halt.arm}": f"{HALTED}: {halt.describe()} "
            f"since {halt.halted_at.isoformat(timespec='seconds')}; its subjects get the control"
            for halt in self.last.halted
        }


def _publish(experiments: ExperimentsFile, result: GuardrailCheck) -> None:
    halted = {(halt.experiment, halt.arm) for halt in result.halted}
    gauge = _metric("halted")
    for split in experiments.running():
        for arm in split.arms:
            gauge.labels(split.name, arm).set(1 if (split.name, arm) in halted else 0)
    for halt in result.recorded:
        _metric("halts").labels(halt.experiment, halt.arm, halt.guardrail).inc()


def _metric(name: str) -> Any:
    found = _METRICS.get(name)
    if found is not None:
        return found
    from prometheus_client import Counter, Gauge  # noqa: PLC0415 - only the service needs it

    with _MAKING:  # a second registration of one name would raise
        if name not in _METRICS:
            _METRICS[name] = (
                Gauge(
                    "squad_experiment_arm_halted",
                    "1 while an online experiment's arm is halted by a guardrail, else 0.",
                    ["experiment", "arm"],
                )
                if name == "halted"
                else Counter(
                    "squad_experiment_halts",
                    "Arms this process halted because a guardrail was crossed.",
                    ["experiment", "arm", "guardrail"],
                )
            )
        return _METRICS[name]

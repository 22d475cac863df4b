"""Which arm serves a request: deterministic, sticky, weighted, and cheap enough for every call.

A subject's bucket is the first 8 bytes of BLAKE2b(experiment name, NUL, subject key value)
read as a number in [0, 1); the arms own consecutive slices of [0, 1) in proportion to their
weights, in the file's order. So a subject sees one arm for the experiment's whole life
(until the weights change), two experiments split independently (the name is in the hash),
and no state is kept: every replica assigns the same way.

- **Subject key:** `X-Episode-Id` (default) or a request body field (`subject:
  field:<name>`). A request without it is served by the label as if no experiment ran and
  logged with the experiment's name and no arm: it is counted apart, never analysed.
- **Forced:** a caller with `label-override` sending `X-Prompt-Label` gets that label; the
  answer is logged with the experiment, the arm whose version it was (if any) and
  `forced`, and the report leaves it out.
- **Reload:** `ExperimentsFile` stats `config/experiments.yaml` at most once a second
  (`CHECK_EVERY_S`; a `stat` costs several microseconds on a busy machine, more than the
  rest of the assignment) and re-reads it when its mtime or size changed, so a reviewed
  commit of new weights or `status: stopped`, deployed as a file, takes effect within a
  second, without a restart. A file that stops
  parsing, or names a version this process does not have, stops every experiment (the
  labels serve everything) and is reported by /readyz until fixed: an arm must never
  serve something unreviewed.
- **Halted arms:** an arm whose guardrail broke (`guardrails.py`, set through
  `halt_arms`) is assigned no more: its subjects are served by the control arm, and logged
  with it, from the next request on.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from bisect import bisect_right
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

from ..errors import ConfigError, SquadError
from ..prompts import PromptRegistry, PromptVersion
from ..prompts.registry import DEFAULT_LABEL
from .config import Experiment, ExperimentsConfig, load_experiments

__all__ = ["Assignment", "ExperimentsFile", "Split", "bucket"]

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0
"""How often the service looks at the file's mtime and size (see the module docstring)."""


def bucket(experiment: str, subject: str) -> float:
    """Where `subject` falls in [0, 1) for `experiment` (see the module docstring)."""
    digest = hashlib.blake2b(
        f"{experiment}\0{subject}".encode(), digest_size=8, usedforsecurity=False
    ).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class Assignment:
    """What an experiment decided for one request, as the inference log records it."""

    experiment: str
    arm: str | None
    forced: bool = False
    version: PromptVersion | None = None
    """The version the arm serves (None: the label's own, as without an experiment)."""


@dataclass(frozen=True)
class Split:
    """One running experiment, ready to assign: cumulative weights and each arm's version."""

    name: str
    experiment: Experiment
    arms: tuple[str, ...]
    bounds: tuple[float, ...]
    versions: Mapping[str, PromptVersion]
    assigned: Mapping[str, Assignment] = field(default_factory=dict)
    """Each arm's `Assignment`, made once: the same for every request it serves."""

    @classmethod
    def of(cls, name: str, experiment: Experiment, registry: PromptRegistry) -> Split:
        """`ConfigError` when an arm's version is not among this process's prompts."""
        arms = tuple(experiment.arms)
        total = sum(arm.weight for arm in experiment.arms.values())
        bounds = tuple(w / total for w in accumulate(a.weight for a in experiment.arms.values()))
        versions = {}
        for arm_name, arm in experiment.arms.items():
            try:
                version = registry.get(experiment.prompt, version=arm.version)
            except SquadError as error:
                raise ConfigError(f"experiment '{name}' arm '{arm_name}': {error}") from None
            served = version.with_label(experiment.label)
            versions[arm_name] = served if arm.model is None else served.with_model(arm.model)
        assigned = {arm: Assignment(name, arm, version=versions[arm]) for arm in arms}
        return cls(name, experiment, arms, bounds, versions, assigned)

    def arm_for(self, subject: str) -> str:
        index = bisect_right(self.bounds, bucket(self.name, subject))
        return self.arms[min(index, len(self.arms) - 1)]

    def subject_of(self, inputs: Any, episode_id: str | None) -> str | None:
        path = self.experiment.subject_field
        if path is None:
            return episode_id
        value = inputs
        for part in path:
            value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
            if value is None:
                return None
        return str(value)

    def assign(self, inputs: Any, episode_id: str | None) -> Assignment:
        subject = self.subject_of(inputs, episode_id)
        if subject is None:
            return Assignment(self.name, None)
        return self.assigned[self.arm_for(subject)]

    def forced(self, version: PromptVersion | None) -> Assignment:
        """A request whose caller chose the label: which arm it matched, never analysed."""
        arm = next(
            (
                name
                for name, served in self.versions.items()
                if version is not None
                and (served.version, served.model) == (version.version, version.model)
            ),
            None,
        )
        return Assignment(self.name, arm, forced=True)


@dataclass
class _Loaded:
    stamp: tuple[int, int] | None
    splits: dict[tuple[str, str], Split] = field(default_factory=dict)
    problem: str | None = None


class ExperimentsFile:
    """`config/experiments.yaml` as the service assigns from it; see the module docstring."""

    def __init__(
        self, path: Path, registry: PromptRegistry, *, check_every_s: float = CHECK_EVERY_S
    ) -> None:
        self.path = path
        self.registry = registry
        self.check_every_s = check_every_s
        self._lock = threading.Lock()
        self._loaded = _Loaded(stamp=(-1, -1))
        self._loaded = self._load(self._stamp(), strict=True)
        self._checked = time.monotonic()
        self._halted: Mapping[str, Collection[str]] = {}

    def running(self) -> list[Split]:
        """The experiments running now (as the last read of the file has them)."""
        return list(self._current().splits.values())

    def halt_arms(self, halted: Mapping[str, Collection[str]]) -> None:
        """Experiment -> the arms no longer assigned (replaces what was set before)."""
        self._halted = {name: frozenset(arms) for name, arms in halted.items()}

    def halted(self, experiment: str) -> Collection[str]:
        return self._halted.get(experiment, ())

    def problem(self) -> str | None:
        """Why no experiment runs although the file declares some (for /readyz), or None."""
        return self._current().problem

    def split_for(self, prompt: str, label: str | None) -> Split | None:
        """The running experiment on `prompt` at `label` (default: the label served)."""
        splits = self._current().splits
        if not splits:
            return None
        served = label or self.registry.label_overrides.get(prompt, DEFAULT_LABEL)
        return splits.get((prompt, served))

    def assign(
        self, prompt: str, *, label: str | None, inputs: Any, episode_id: str | None
    ) -> Assignment | None:
        """The assignment of one request for `prompt`, or None when no experiment runs on
        it. With `label` (the caller forced one) the request is recorded as forced."""
        if label is None:
            split = self.split_for(prompt, None)
            if split is None:
                return None
            assignment = split.assign(inputs, episode_id)
            halted = self._halted.get(split.name)
            if halted and assignment.arm in halted:
                return split.assigned[split.experiment.control_arm]
            return assignment
        split = self.split_for(prompt, None) or self.split_for(prompt, label)
        if split is None:
            return None
        try:
            version = self.registry.get(prompt, label=label)
        except SquadError:
            version = None
        return split.forced(version)

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def _current(self) -> _Loaded:
        now = time.monotonic()
        if now - self._checked < self.check_every_s:
            return self._loaded
        self._checked = now
        stamp = self._stamp()
        if stamp == self._loaded.stamp:
            return self._loaded
        with self._lock:
            if stamp != self._loaded.stamp:
                self._loaded = self._load(stamp, strict=False)
        return self._loaded

    def _load(self, stamp: tuple[int, int] | None, *, strict: bool) -> _Loaded:
        """The file's running experiments; with `strict` (start-up) a problem is raised."""
        try:
            config = load_experiments(self.path)
            splits = _splits(config, self.registry)
        except SquadError as error:
            if strict:
                raise
            log.error("experiments file invalid, every experiment stopped: %s", error)
            return _Loaded(stamp, problem=str(error))
        running = ", ".join(sorted(split.name for split in splits.values())) or "none"
        log.info("experiments: running %s (%s)", running, self.path)
        return _Loaded(stamp, splits)


def _splits(config: ExperimentsConfig, registry: PromptRegistry) -> dict[tuple[str, str], Split]:
    return {
        (experiment.prompt, experiment.label): Split.of(name, experiment, registry)
        for name, experiment in config.experiments.items()
        if experiment.running
    }

"""The eval runner: every case of a suite through the real feature path, scored, in parallel.

For each arm (a feature or a bare prompt, at a version of the prompt, on a model), each
case is answered by the feature's own code (`feature_target`) or, for a prompt target,
rendered by the prompt registry; every model call goes through `ModelCaller` (which
applies the mode: live, record or replay, see `caller`), and the answer is scored by the
suite's scorers; repeats of a case are summarised with a stability check (one case's
attempts are `attempts`). Concurrency is bounded by a pool of workers (the suite's
`concurrency`); the progress bar is `RunProgress`.

A run is one object with a lifetime, `EvalRun`: opening it sets it up (a bad suite fails
before anything is opened or called), it owns the recordings cache while its cases run and
the spool its cases wait in until it closes, and its report is a `spool.Report`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from ..files import display_path
from ..gateway.config import ModelsConfig, load_models_config
from ..observability import persistence_redactor
from ..prompts import PromptRegistry
from .attempts import RunningArm, attempt, case_result, check_case_inputs
from .cache import ResponseCache, scrubbed
from .caller import ModelCaller
from .dataset import Case, DatasetInfo, iter_cases, scan_dataset
from .errors import EvalConfigError, RefreshIncomplete
from .progress import RunProgress
from .report import (
    ArmResult,
    CaseResult,
    EvalReport,
    Mode,
    RepeatResult,
    ScorerInfo,
    Shard,
)
from .spool import CaseSpool, Report
from .suite import Suite, Target, check_suite_models
from .summary import CaseScores

if TYPE_CHECKING:
    from pathlib import Path

    from ..settings import Settings

MODES: tuple[Mode, ...] = ("live", "record", "replay")


@dataclass(frozen=True)
class RunOptions:
    """How to run a suite; `None` fields fall back to the suite file."""

    mode: Mode = "replay"
    shard: tuple[int, int] | None = None
    concurrency: int | None = None
    repeats: int | None = None
    progress: bool | None = None  # None: only on an interactive terminal outside CI
    on_attempt: Callable[[], None] | None = None  # after each attempt (a worker's progress)
    # Record mode: write only what this run records, dropping stale recordings (a refresh).
    fresh_recordings: bool = False


def parse_shard(text: str) -> tuple[int, int]:
    """`"2/4"` -> `(2, 4)`; shards are numbered from 1."""
    index, _, count = text.partition("/")
    if index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count):
        return int(index), int(count)
    raise EvalConfigError(f"--shard '{text}': expected i/n with 1 <= i <= n, e.g. 1/4")


def shard_cases(
    cases: Iterable[tuple[int, Case]], shard: tuple[int, int] | None
) -> Iterator[tuple[int, Case]]:
    """The (dataset index, case) pairs of one shard: every n-th case, so shards stay balanced."""
    if shard is None:
        yield from cases
        return
    index, count = shard
    for i, case in cases:
        if i % count == index - 1:
            yield i, case


class EvalRun:
    """One run of a suite's arms, from its setup to the last read of its report.

    `EvalRun.open(...)` is a context manager. Opening sets the run up: the dataset is
    scanned (a bad line or a duplicate id fails here), each arm's prompt version, feature and
    model alias are resolved, and a model nobody can answer is refused, all before anything
    is opened or called. The run owns what it opens: the spool its cases wait in, on the
    run's `ExitStack` (open until the run closes, so the report's views can read the cases),
    and the recordings cache, open while the cases run (`execute`'s `with`: flushed as they
    end, by the cache's one rule, before anything reads the recordings). `execute()` runs
    every arm in this process; `workers.run_report` runs it there or in child processes.
    """

    def __init__(
        self,
        suite: Suite,
        *,
        settings: Settings,
        options: RunOptions,
        arms: list[RunningArm],
        dataset: DatasetInfo,
        models: ModelsConfig,
        stack: ExitStack,
        spool_dir: Path | None,
    ) -> None:
        self.suite = suite
        self.settings = settings
        self.options = options
        self.arms = arms
        self.dataset = dataset
        self.models = models
        self.repeats = options.repeats or suite.spec.repeats
        self.concurrency = options.concurrency or suite.spec.concurrency
        self._stack = stack
        self._spool_dir = spool_dir

    @classmethod
    @contextmanager
    def open(
        cls,
        suite: Suite,
        *,
        settings: Settings,
        options: RunOptions | None = None,
        targets: list[Target] | None = None,
        spool_dir: Path | None = None,
    ) -> Iterator[EvalRun]:
        """Set up a run of `targets` (default: the suite's target), each one arm; its cases
        wait in a spool in `spool_dir` (else the system's temporary folder)."""
        options = options or RunOptions()
        dataset = scan_dataset(suite.dataset_path)  # a bad line fails here, before any call
        registry = PromptRegistry.load(settings.prompts_dir, label_overrides={})
        models = load_models_config(settings.models_file)
        check_suite_models(suite, models)
        arms = [RunningArm.of(suite, t, registry, models) for t in targets or [suite.spec.target]]
        check_case_inputs(suite, arms)  # a case the targets cannot take is a data error
        if options.mode != "replay":
            # A model nobody can answer fails the run here, not case by case mid-run.
            from ..gateway.local_models import unknown_local_models  # noqa: PLC0415

            unknown = unknown_local_models(models)
            if unknown:
                raise EvalConfigError(unknown[0])
        with ExitStack() as stack:
            yield cls(
                suite,
                settings=settings,
                options=options,
                arms=arms,
                dataset=dataset,
                models=models,
                stack=stack,
                spool_dir=spool_dir,
            )

    @property
    def selected(self) -> int:
        """How many of the dataset's cases this run (or its shard) takes."""
        if self.options.shard is None:
            return self.dataset.count
        index, count = self.options.shard
        return len(range(index - 1, self.dataset.count, count))

    @property
    def prompt_aliases(self) -> dict[str, str]:
        """Arm name -> the model alias its prompt version names: what the gate needs to
        know whether an arm's model was overridden (no evidence then)."""
        return {arm.target.arm_name: arm.version.model for arm in self.arms}

    @cached_property
    def _redact(self) -> Callable[[str], str]:
        """What scrubs a string before it is written: cases, the header, recordings."""
        return persistence_redactor(self.settings)

    @cached_property
    def scorers(self) -> list[ScorerInfo]:
        spec = self.suite.spec
        return [ScorerInfo(name=s.name, type=s.type, pass_score=s.pass_score) for s in spec.scorers]

    async def execute(self) -> Report:
        """Run every arm in this process: at most `concurrency` cases in flight, each kept in
        the run's spool (scrubbed) as it finishes, memory holding only its scores."""
        spool = self._stack.enter_context(CaseSpool(self._spool_dir))
        fresh = self.options.mode == "record" and self.options.fresh_recordings
        with ResponseCache(
            self.suite.recordings_path, fresh=fresh, redact=self._redact, root=self.settings.root
        ) as cache:
            caller = ModelCaller(
                settings=self.settings,
                models=self.models,
                cache=cache,
                mode=self.options.mode,
                suite_name=self.suite.name,
            )
            progress = RunProgress(self.options.progress, self.options.on_attempt)
            scores = [
                await self._run_arm(position, arm, caller, progress, spool)
                for position, arm in enumerate(self.arms)
            ]
            if fresh and caller.not_recorded:
                raise _incomplete(self.suite, caller.not_recorded)
        arms = [
            arm.result(cases, self.scorers) for arm, cases in zip(self.arms, scores, strict=True)
        ]
        why = caller.fallback_why
        notes = (f"why the first deployment did not answer: {why}",) if why else ()
        header = scrubbed(self._header(arms), self._redact)
        return Report(
            header=header,
            scores=scores,
            source=spool,
            notes=notes,
            prompt_aliases=self.prompt_aliases,
        )

    async def _run_arm(
        self,
        position: int,
        arm: RunningArm,
        caller: ModelCaller,
        progress: RunProgress,
        spool: CaseSpool,
    ) -> list[CaseScores]:
        """The arm at `position`: its cases run, each kept in `spool`; scores in dataset order."""

        def keep(case: CaseResult) -> CaseScores:
            # Scores are computed; what is written from here on is scrubbed.
            return spool.add(position, scrubbed(case, self._redact))

        total = self.selected * self.repeats
        with progress.running(f"{self.suite.name} {arm.target.arm_name}", total):
            cases = await _run_cases(
                suite=self.suite,
                arm=arm,
                selected=shard_cases(iter_cases(self.suite.dataset_path), self.options.shard),
                caller=caller,
                repeats=self.repeats,
                concurrency=self.concurrency,
                scorers=self.scorers,
                progress=progress,
                keep=keep,
            )
        cases.sort(key=lambda c: c.index)
        return cases

    def _header(self, arms: list[ArmResult]) -> EvalReport:
        """The report of this run with `arms` (their cases kept apart)."""
        shard = self.options.shard
        return EvalReport(
            suite=self.suite.name,
            suite_file=display_path(self.suite.path),
            dataset=_repo_relative(self.suite, self.settings),
            dataset_hash=self.dataset.hash,
            mode=self.options.mode,
            repeats=self.repeats,
            shard=Shard(index=shard[0], count=shard[1]) if shard else None,
            scorers=self.scorers,
            arms=arms,
        )


@asynccontextmanager
async def stream_suite(
    suite: Suite,
    *,
    settings: Settings,
    options: RunOptions | None = None,
    targets: list[Target] | None = None,
    spool_dir: Path | None = None,
) -> AsyncIterator[Report]:
    """`run_suite` for large datasets, as `async with stream_suite(...) as report:` the
    dataset is read as the cases run, at most `concurrency` cases are in flight, and memory
    holds only each case's scores; the cases wait in a spool in `spool_dir` (else the
    system's temporary folder) until the block ends."""
    with EvalRun.open(
        suite, settings=settings, options=options, targets=targets, spool_dir=spool_dir
    ) as run:
        yield await run.execute()


async def run_suite(
    suite: Suite,
    *,
    settings: Settings,
    options: RunOptions | None = None,
    targets: list[Target] | None = None,
) -> EvalReport:
    """Run `suite` (or the given `targets` as arms of one comparison) and score every case."""
    async with stream_suite(suite, settings=settings, options=options, targets=targets) as report:
        return report.load()


def _incomplete(suite: Suite, reasons: list[str]) -> RefreshIncomplete:
    counted = Counter(reasons).most_common()
    shown = ", ".join(f"{count} {reason}" for reason, count in counted[:3])
    more = f" and {len(counted) - 3} more kinds" if len(counted) > 3 else ""
    return RefreshIncomplete(
        f"eval refresh of '{suite.name}' replaced nothing: {len(reasons)} call(s) were not the "
        f"model's own answer ({shown}{more}), so {display_path(suite.recordings_path)}, the "
        "baseline and the evidence are as they were; check the provider's key and status "
        "(`squad models check`), then rerun"
    )


def _repo_relative(suite: Suite, settings: Settings) -> str:
    """The dataset path as evidence records it: relative to the repository root."""
    try:
        return suite.dataset_path.resolve().relative_to(settings.root.resolve()).as_posix()
    except ValueError:
        return suite.dataset_path.as_posix()


async def _run_cases(
    *,
    suite: Suite,
    arm: RunningArm,
    selected: Iterable[tuple[int, Case]],
    caller: ModelCaller,
    repeats: int,
    concurrency: int,
    scorers: list[ScorerInfo],
    progress: RunProgress,
    keep: Callable[[CaseResult], CaseScores],
) -> list[CaseScores]:
    """Run the cases as `selected` yields them, `concurrency` attempts at a time, and `keep`
    each case as its last repeat finishes (in the order they finish).

    `concurrency` workers share one queue of attempts, read from the dataset as they are
    taken: a worker whose attempt is done takes the next one in the same step of the event
    loop. Spawning a task per case made a finished slot wait behind every answer queued at
    that moment, hop after hop (its task, the loop waiting on it, the new case's task), so
    calls went out in waves and the loop sat idle between them (README, "Ninth step").
    """
    kept: list[CaseScores] = []
    queue = _attempts(selected, repeats)

    async def work() -> None:
        for pending, repeat in queue:
            pending.answered[repeat] = await attempt(suite, arm, pending.case, repeat, caller)
            progress.advance()
            if pending.done():
                kept.append(keep(pending.result(scorers)))

    workers = [asyncio.ensure_future(work()) for _ in range(concurrency)]
    try:
        done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
        errors = [error for task in done if (error := task.exception()) is not None]
        if errors:
            raise errors[0]
    except BaseException:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    return kept


@dataclass
class _PendingCase:
    """A case whose repeats are being answered: each repeat's result, in repeat order."""

    index: int
    case: Case
    answered: list[RepeatResult | None]

    def done(self) -> bool:
        return all(result is not None for result in self.answered)

    def result(self, scorers: list[ScorerInfo]) -> CaseResult:
        attempts = [result for result in self.answered if result is not None]
        return case_result(self.index, self.case, attempts, scorers)


def _attempts(
    selected: Iterable[tuple[int, Case]], repeats: int
) -> Iterator[tuple[_PendingCase, int]]:
    """Each case's repeats in turn, the case read only when its first repeat is taken."""
    for index, case in selected:
        pending = _PendingCase(index, case, [None] * repeats)
        for repeat in range(repeats):
            yield pending, repeat

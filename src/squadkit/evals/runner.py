"""The eval runner: every case of a suite through the real feature path, scored, in parallel.

For each arm (a feature or a bare prompt, at a version of the prompt, on a model), each
case is answered by the feature's own code (`feature_target`) or, for a prompt target,
rendered by the prompt registry; every model call goes through `ModelCaller` (which
applies the mode: live, record or replay, see `caller`), and the answer is scored by the
suite's scorers; repeats of a case are summarised with a stability check (one case's
attempts are `attempts`). Concurrency is bounded by a semaphore (the suite's
`concurrency`); the progress bar is `RunProgress`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import SquadError
from ..features import find_feature
from ..files import display_path
from ..gateway.config import ModelsConfig, load_models_config
from ..observability import persistence_redactor
from ..prompts import PromptRegistry
from .attempts import RunningArm, attempt, case_result
from .cache import ResponseCache, scrubbed
from .caller import ModelCaller
from .dataset import Case, iter_cases, scan_dataset
from .errors import EvalConfigError, RefreshIncomplete
from .feature_target import PinnedRegistry
from .progress import RunProgress
from .report import (
    ArmResult,
    CaseResult,
    CaseScores,
    EvalReport,
    Mode,
    PromptInfo,
    RepeatResult,
    ScorerInfo,
    Shard,
    summarize_scores,
)
from .spool import CaseSpool, StreamedReport
from .suite import Suite, Target, check_suite_models

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


async def run_suite(
    suite: Suite,
    *,
    settings: Settings,
    options: RunOptions | None = None,
    targets: list[Target] | None = None,
) -> EvalReport:
    """Run `suite` (or the given `targets` as arms of one comparison) and score every case."""
    streamed = await stream_suite(suite, settings=settings, options=options, targets=targets)
    try:
        return streamed.load()
    finally:
        streamed.close()


async def stream_suite(
    suite: Suite,
    *,
    settings: Settings,
    options: RunOptions | None = None,
    targets: list[Target] | None = None,
    spool_dir: Path | None = None,
) -> StreamedReport:
    """`run_suite`, its cases kept on disk as they finish (in `spool_dir`, else the system's
    temporary folder): the dataset is read as the cases are run, at most `concurrency`
    cases are in flight, and memory holds only each case's scores. Close the report after
    use (it holds the spool open)."""
    options = options or RunOptions()
    dataset = scan_dataset(suite.dataset_path)  # a bad line fails here, before any call
    registry = PromptRegistry.load(settings.prompts_dir, label_overrides={})
    models = load_models_config(settings.models_file)
    check_suite_models(suite, models)
    planned = [_arm(suite, t, registry, models) for t in targets or [suite.spec.target]]
    if options.mode != "replay":
        # A model nobody can answer fails the run here, not case by case mid-run.
        from ..gateway.local_models import unknown_local_models  # noqa: PLC0415

        unknown = unknown_local_models(models)
        if unknown:
            raise EvalConfigError(unknown[0])
    redact = persistence_redactor(settings)
    repeats = options.repeats or suite.spec.repeats
    concurrency = options.concurrency or suite.spec.concurrency
    scorer_infos = [
        ScorerInfo(name=s.name, type=s.type, pass_score=s.pass_score) for s in suite.spec.scorers
    ]
    selected = dataset.count
    if options.shard is not None:
        selected = len(range(options.shard[0] - 1, dataset.count, options.shard[1]))
    spool = CaseSpool(spool_dir)
    arms = []
    scores: list[list[CaseScores]] = []
    fresh = options.mode == "record" and options.fresh_recordings
    try:
        with ResponseCache(suite.recordings_path, fresh=fresh, redact=redact) as cache:
            caller = ModelCaller(
                settings=settings,
                models=models,
                cache=cache,
                mode=options.mode,
                suite_name=suite.name,
            )
            progress = RunProgress(options.progress, options.on_attempt)
            for position, arm in enumerate(planned):
                target, version = arm.target, arm.version

                def keep(case: CaseResult, position: int = position) -> CaseScores:
                    # Scores are computed; what is written from here on is scrubbed.
                    return spool.add(position, scrubbed(case, redact))

                with progress.running(f"{suite.name} {target.arm_name}", selected * repeats):
                    cases = await _run_arm(
                        suite=suite,
                        arm=arm,
                        selected=shard_cases(iter_cases(suite.dataset_path), options.shard),
                        caller=caller,
                        repeats=repeats,
                        concurrency=concurrency,
                        scorers=scorer_infos,
                        progress=progress,
                        keep=keep,
                    )
                cases.sort(key=lambda c: c.index)
                scores.append(cases)
                arms.append(
                    ArmResult(
                        name=target.arm_name,
                        prompt=PromptInfo(
                            name=version.name,
                            version=version.version,
                            label=version.label,
                            hash=version.content_hash,
                            alias=target.model or version.model,
                        ),
                        models={
                            alias: sorted(found) for alias, found in sorted(arm.answered.items())
                        },
                        cases=[],
                        summary=summarize_scores(cases, scorer_infos),
                    )
                )
            if fresh and caller.not_recorded:
                raise _incomplete(suite, caller.not_recorded)
    except BaseException:
        spool.close()
        raise
    header = EvalReport(
        suite=suite.name,
        suite_file=display_path(suite.path),
        dataset=_repo_relative(suite, settings),
        dataset_hash=dataset.hash,
        mode=options.mode,
        repeats=repeats,
        shard=Shard(index=options.shard[0], count=options.shard[1]) if options.shard else None,
        scorers=scorer_infos,
        arms=arms,
    )
    header = scrubbed(header, redact)
    why = caller.fallback_why
    notes = (f"why the first deployment did not answer: {why}",) if why else ()
    return StreamedReport(header=header, scores=scores, spool=spool, notes=notes)


def _arm(
    suite: Suite, target: Target, registry: PromptRegistry, models: ModelsConfig
) -> RunningArm:
    """The arm of `target`: its prompt's version and, for a feature, the feature; its model
    alias is checked here, before any arm calls a model."""
    feature = None
    prompt = target.prompt
    if target.feature is not None:
        try:
            feature = find_feature(target.feature)
        except SquadError as error:
            raise EvalConfigError(f"{display_path(suite.path)}: target: {error}") from None
        prompt = feature.prompt
    version = target.prompt_version(registry, prompt or target.subject)
    alias = target.model or version.model
    if alias not in models.aliases:
        source = display_path(models.source) if models.source else "config/models.yaml"
        raise EvalConfigError(
            f"{display_path(suite.path)}: arm '{target.arm_name}': model alias '{alias}' is not "
            f"in {source} (aliases: {', '.join(sorted(models.aliases))})"
        )
    if feature is None:
        return RunningArm(target=target, version=version)
    pinned = PinnedRegistry(registry, version)
    return RunningArm(target=target, version=version, feature=feature, registry=pinned)


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


async def _run_arm(
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
    """Run the cases as `selected` yields them, `concurrency` calls at a time, and `keep`
    each case as its last repeat finishes (in the order they finish)."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(case: Case, repeat: int) -> RepeatResult:
        async with semaphore:
            result = await attempt(suite, arm, case, repeat, caller)
        progress.advance()
        return result

    async def whole(index: int, case: Case) -> CaseResult:
        attempts = await asyncio.gather(*(one(case, repeat) for repeat in range(repeats)))
        return case_result(index, case, list(attempts), scorers)

    # At most `concurrency` cases in flight: enough to keep every call slot busy, while the
    # rest of the dataset waits unread in its file.
    kept: list[CaseScores] = []
    running: set[asyncio.Task[CaseResult]] = set()
    try:
        for index, case in selected:
            running.add(asyncio.ensure_future(whole(index, case)))
            if len(running) >= concurrency:
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                kept.extend(keep(case) for case in _finished(done))
        while running:
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            kept.extend(keep(case) for case in _finished(done))
    except BaseException:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        raise
    return kept


def _finished(done: set[asyncio.Task[CaseResult]]) -> list[CaseResult]:
    """The results of finished cases; the first error among them stops the run."""
    errors = [error for task in done if (error := task.exception()) is not None]
    if errors:
        raise errors[0]
    return [task.result() for task in done]

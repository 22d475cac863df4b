"""`--workers`: one eval run split across processes, one shard each, merged into one report.

The runner spends its CPU in one process (litellm costs milliseconds of CPU per call), so a
large live run only scales with cores as several processes. `run_report` is how every
command gets the report of its `EvalRun`: in this process, or from child processes that
each open the same run for shard `i/n` and leave a report the parent merges as `squad eval
merge` does. A child's failure stays in its shard and comes back as one line (`ShardFailed`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ..errors import SquadError
from .dataset import scan_dataset
from .errors import EvalConfigError, ShardFailed
from .progress import RunProgress
from .report import read_report
from .runner import EvalRun, RunOptions
from .spool import Report, write_report_json
from .suite import Suite, Target
from .summary import merge_reports

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized

    from ..settings import Settings


# Below this many model calls per process, a worker's start and the merge cost more than
# the CPU it takes off the parent (litellm spends ~5 ms of CPU per call).
CALLS_PER_WORKER = 100

# Linux forks: the parent imports litellm once (seconds) and every child starts with it
# loaded. macOS and Windows spawn (fork is unsafe there once system frameworks are loaded):
# each child imports what it needs, like a fresh `squad` process.
START_METHOD = "fork" if sys.platform == "linux" else "spawn"


def worker_count(
    requested: int | None, suite: Suite, options: RunOptions, targets: list[Target]
) -> int:
    """Processes for a run: `requested`, or for `None` (auto) one per core when the run makes
    enough model calls to share, and one in replay mode, where no model is called."""
    cases = scan_dataset(suite.dataset_path).count
    if requested is not None:
        return max(1, min(requested, cases))
    if options.mode == "replay" or options.shard is not None:
        return 1
    calls = cases * (options.repeats or suite.spec.repeats) * len(targets)
    return max(1, min(_cores(), calls // CALLS_PER_WORKER))


def _context() -> multiprocessing.context.ForkContext | multiprocessing.context.SpawnContext:
    if START_METHOD == "fork":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def run_report(
    run: EvalRun, *, workers: int = 1, on_shard: Callable[[str], None] = lambda _: None
) -> Report:
    """The report of `run`, made in this process or split across `workers` processes.

    The runner spends its CPU in one process (litellm costs milliseconds of CPU per call),
    so a large live run only scales with cores as several processes. Child `i` opens the
    run for shard `i/n` and the reports are merged as `squad eval merge` does, so the result
    is the one report a single process would have written; a crash stays in its shard and
    is reported as `ShardFailed` naming it. The suite's concurrency is divided across the
    children. In one process the cases wait in the run's spool; the shards' reports are
    read back whole to be merged.
    """
    count = max(1, min(workers, run.dataset.count))
    if count == 1:
        return asyncio.run(run.execute())
    if run.options.shard is not None:
        raise EvalConfigError("--workers shards the run itself: give --workers or --shard")
    return _in_workers(run, count, on_shard)


def _in_workers(run: EvalRun, count: int, on_shard: Callable[[str], None]) -> Report:
    """`run` as `count` child processes, one shard each; their reports merged in memory
    (the parent's run was set up, so it knows each arm's prompt alias for the gate)."""
    suite, options = run.suite, run.options
    concurrency = math.ceil(run.concurrency / count)
    if START_METHOD == "fork" and options.mode != "replay":
        from ..gateway.router import tune_litellm  # noqa: PLC0415 - once, before the fork

        tune_litellm()
    # A spawned child starts with nothing configured: it sets up logs like this process.
    log_level = None if START_METHOD == "fork" else logging.getLevelName(logging.root.level)
    attempts = _context().Value("q", 0)  # every child's attempts so far, for the bar
    total = run.dataset.count * run.repeats * len(run.arms)
    progress = RunProgress(options.progress)
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="squad-eval-workers-") as tmp,
        progress.running(f"{suite.name} ({count} workers)", total),
    ):
        jobs = [
            _ShardJob(
                settings=run.settings,
                suite=suite,
                options=replace(
                    options, shard=(index, count), concurrency=concurrency, progress=False
                ),
                targets=[arm.target for arm in run.arms],
                report_path=Path(tmp) / f"shard-{index}.json",
                error_path=Path(tmp) / f"shard-{index}.error",
                log_level=log_level,
                attempts=attempts,
            )
            for index in range(1, count + 1)
        ]
        running: dict[int, tuple[_ShardJob, BaseProcess]] = {}
        try:
            for job in jobs:
                process = _context().Process(
                    target=_run_shard, args=(job,), name=f"squad-eval-{job.label}"
                )
                process.start()
                running[process.sentinel] = (job, process)
            while running:
                finished = wait(list(running), timeout=0.2 if progress.enabled else None)
                progress.show(attempts.value)
                for sentinel in finished:
                    job, done = running.pop(cast(int, sentinel))
                    done.join()
                    if done.exitcode != 0:
                        raise ShardFailed(
                            f"suite '{suite.name}': shard {job.label} exited {done.exitcode}"
                            + (f": {job.error()}" if job.error() else "")
                        )
                    on_shard(
                        f"{suite.name}: shard {job.label} done "
                        f"({time.perf_counter() - started:.1f} s)"
                    )
        finally:
            for _, left in running.values():
                left.kill()
                left.join()
        merged = merge_reports([read_report(job.report_path) for job in jobs])
    return replace(Report.of(merged), prompt_aliases=run.prompt_aliases)


@dataclass(frozen=True)
class _ShardJob:
    """What one worker process runs, and where it leaves its report or its error."""

    settings: Settings
    suite: Suite
    options: RunOptions
    targets: list[Target]
    report_path: Path
    error_path: Path
    log_level: str | None  # set when the child is spawned rather than forked
    attempts: Synchronized[int]  # shared with the parent: attempts made by all children

    @property
    def label(self) -> str:
        index, count = self.options.shard or (1, 1)
        return f"{index}/{count}"

    def error(self) -> str:
        """The child's one-line error, as the CLI would have printed it."""
        try:
            return self.error_path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return ""


def _run_shard(job: _ShardJob) -> None:
    """A worker process: run one shard and write its report; on failure, one line and the
    exit code the CLI gives that error (a traceback would be lost in a child)."""
    from ..observability import setup_observability, shutdown_observability  # noqa: PLC0415

    def attempted() -> None:
        with job.attempts.get_lock():
            job.attempts.value += 1

    code = 0
    try:
        if job.log_level is not None:
            setup_observability(job.settings.model_copy(update={"log_level": job.log_level}))
        with EvalRun.open(
            job.suite,
            settings=job.settings,
            options=replace(job.options, on_attempt=attempted),
            targets=job.targets,
            spool_dir=job.report_path.parent,
        ) as run:
            write_report_json(asyncio.run(run.execute()), job.report_path)
    except SquadError as error:
        job.error_path.write_text(str(error), encoding="utf-8")
        code = error.exit_code
    except BaseException as error:  # reported by the parent, naming the shard
        job.error_path.write_text(f"{type(error).__name__}: {error}", encoding="utf-8")
        code = 1
    finally:
        shutdown_observability()  # a child exits without atexit hooks: flush telemetry now
    sys.exit(code)

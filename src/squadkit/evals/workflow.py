"""What the `squad eval` commands do, as plain functions (the CLI is a thin shell over these).

run -> reports; gate -> run (or read a merged report) + verdict + evidence; baseline ->
`evals/baselines/<suite>.json`; compare -> a Markdown diff of two reports; merge -> one report
from shards. run, gate and baseline get their report from `run_report`: in this process, or
from `--workers` child processes, one shard each, merged.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ..errors import SquadError
from .dataset import load_dataset
from .errors import EvalConfigError, GateFailed, ShardFailed
from .gate import compare_arms, evaluate_gate, same_but_date, write_gate_evidence
from .paths import display_path
from .render import markdown_summary, write_reports
from .report import EvalReport, merge_reports, read_report, write_json
from .runner import RunOptions, RunProgress, run_suite
from .suite import Suite, Target, load_suite, resolve_suite, suite_paths

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized

    from ..settings import Settings


@dataclass(frozen=True)
class TargetOverride:
    """Command-line changes to a suite's target; several versions/models make a matrix."""

    labels: tuple[str, ...] = ()
    versions: tuple[int, ...] = ()
    models: tuple[str, ...] = ()
    matrix: bool = False

    def targets(self, suite: Suite) -> list[Target]:
        base = suite.spec.target
        if self.matrix:
            if not suite.spec.matrix:
                raise EvalConfigError(f"{display_path(suite.path)}: suite has no 'matrix' arms")
            return list(suite.spec.matrix)
        selectors: list[dict[str, object]] = [
            {"label": label, "version": None} for label in self.labels
        ]
        selectors += [{"version": version, "label": None} for version in self.versions]
        if not selectors:
            selectors = [{}]
        models: list[str | None] = list(self.models) or [None]
        targets = []
        for selector, model in itertools.product(selectors, models):
            update: dict[str, object] = {**selector, "name": None}
            if model is not None:
                update["model"] = model
            targets.append(base.model_copy(update=update))
        return targets


@dataclass
class Outcome:
    """What a command produced: the report, the files written and, for a gate, evidence."""

    report: EvalReport
    suite: Suite | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    evidence: Path | None = None
    notes: list[str] = field(default_factory=list)


def suites(settings: Settings, names: list[str]) -> list[Suite]:
    """The named suites, or every suite in `evals/` when none is named."""
    evals_dir = settings.evals_dir
    paths = [resolve_suite(evals_dir, n) for n in names] if names else suite_paths(evals_dir)
    if not paths:
        raise EvalConfigError(f"no suites in {display_path(evals_dir)}; add evals/<suite>.yaml")
    return [load_suite(path, evals_dir) for path in paths]


def _baseline(suite: Suite) -> EvalReport | None:
    return read_report(suite.baseline_path) if suite.baseline_path.is_file() else None


def run(
    settings: Settings,
    suite: Suite,
    options: RunOptions,
    targets: list[Target],
    out_dir: Path,
    *,
    workers: int = 1,
    on_shard: Callable[[str], None] = lambda _: None,
) -> Outcome:
    """Run a suite (every arm) and write its reports into `out_dir/<suite>/`."""
    report = run_report(settings, suite, options, targets, workers=workers, on_shard=on_shard)
    paths = write_reports(report, out_dir / suite.name, baseline=_baseline(suite))
    return Outcome(suite=suite, report=report, paths=paths)


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
    cases = len(load_dataset(suite.dataset_path).cases)
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
    settings: Settings,
    suite: Suite,
    options: RunOptions,
    targets: list[Target],
    *,
    workers: int = 1,
    on_shard: Callable[[str], None] = lambda _: None,
) -> EvalReport:
    """The report of one run, made in this process or split across `workers` processes.

    The runner spends its CPU in one process (litellm costs milliseconds of CPU per call),
    so a large live run only scales with cores as several processes. Child `i` runs shard
    `i/n` and the reports are merged as `squad eval merge` does, so the result is the one
    report a single process would have written; a crash stays in its shard and is reported
    as `ShardFailed` naming it. The suite's concurrency is divided across the children.
    """
    cases = len(load_dataset(suite.dataset_path).cases)
    count = max(1, min(workers, cases))
    if count == 1:
        return asyncio.run(run_suite(suite, settings=settings, options=options, targets=targets))
    if options.shard is not None:
        raise EvalConfigError("--workers shards the run itself: give --workers or --shard")
    concurrency = math.ceil((options.concurrency or suite.spec.concurrency) / count)
    if START_METHOD == "fork" and options.mode != "replay":
        from ..gateway.router import tune_litellm  # noqa: PLC0415 - once, before the fork

        tune_litellm()
    # A spawned child starts with nothing configured: it sets up logs like this process.
    log_level = None if START_METHOD == "fork" else logging.getLevelName(logging.root.level)
    attempts = _context().Value("q", 0)  # every child's attempts so far, for the bar
    total = cases * (options.repeats or suite.spec.repeats) * len(targets)
    progress = RunProgress(options.progress)
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="squad-eval-workers-") as tmp,
        progress.running(f"{suite.name} ({count} workers)", total),
    ):
        jobs = [
            _ShardJob(
                settings=settings,
                suite=suite,
                options=replace(
                    options, shard=(index, count), concurrency=concurrency, progress=False
                ),
                targets=targets,
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
        return merge_reports([read_report(job.report_path) for job in jobs])


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
        options = replace(job.options, on_attempt=attempted)
        report = asyncio.run(
            run_suite(job.suite, settings=job.settings, options=options, targets=job.targets)
        )
        write_json(report, job.report_path)
    except SquadError as error:
        job.error_path.write_text(str(error), encoding="utf-8")
        code = error.exit_code
    except BaseException as error:  # reported by the parent, naming the shard
        job.error_path.write_text(f"{type(error).__name__}: {error}", encoding="utf-8")
        code = 1
    finally:
        shutdown_observability()  # a child exits without atexit hooks: flush telemetry now
    sys.exit(code)


def gate(
    settings: Settings,
    suite: Suite,
    options: RunOptions,
    targets: list[Target],
    out_dir: Path,
    *,
    report_path: Path | None = None,
    evidence: bool = True,
    workers: int = 1,
    on_shard: Callable[[str], None] = lambda _: None,
) -> Outcome:
    """Run (or read) one arm, apply the gate, write reports; evidence on a pass.

    Raises `GateFailed` (exit 1) after writing the reports when the gate fails.
    """
    if report_path is not None:
        report = read_report(report_path)
        if report.suite != suite.name:
            raise EvalConfigError(
                f"{display_path(report_path)}: report is of suite '{report.suite}', "
                f"not '{suite.name}'"
            )
    else:
        if options.shard is not None:
            raise EvalConfigError(
                "the gate needs the whole dataset: run shards with `squad eval run --shard`, "
                "`squad eval merge` them, then `squad eval gate --report merged/report.json`"
            )
        if len(targets) != 1:
            raise EvalConfigError(
                "the gate checks one arm: give at most one --label/--version/--model"
            )
        report = run_report(settings, suite, options, targets, workers=workers, on_shard=on_shard)
    if report.shard is not None:
        raise EvalConfigError("the gate needs a whole run, not one shard: merge the shards first")
    baseline = _baseline(suite)
    notes: list[str] = []
    if baseline is None:
        notes.append(
            f"no baseline at {display_path(suite.baseline_path)}: only thresholds were checked; "
            f"create one with `squad eval baseline {suite.name}`"
        )
    elif baseline.dataset_hash != report.dataset_hash:
        raise EvalConfigError(
            f"{display_path(suite.baseline_path)}: baseline was made on another version of "
            f"{report.dataset}; regenerate it with `squad eval baseline {suite.name}`"
        )
    result = evaluate_gate(
        report,
        suite.spec.gate,
        baseline,
        baseline_name=display_path(suite.baseline_path) if baseline else None,
    )
    report = report.model_copy(update={"gate": result})
    paths = write_reports(report, out_dir / suite.name, baseline=baseline)
    outcome = Outcome(suite=suite, report=report, paths=paths, notes=notes)
    if result.verdict == "fail":
        raise GateFailed(
            f"eval gate failed for suite '{suite.name}' ({result.arm}): "
            + "; ".join(result.reasons)
            + f". Report: {display_path(paths['html'])}",
            summary=markdown_summary(report, baseline),
        )
    arm = report.arm(result.arm)
    if evidence and arm.prompt.alias != _prompt_alias(
        settings, arm.prompt.name, arm.prompt.version
    ):
        notes.append("no evidence written: the run overrode the prompt's model alias")
    elif evidence:
        outcome.evidence = write_gate_evidence(
            report, result, suite=suite.name, evidence_dir=suite.evidence_dir
        )
    return outcome


def _prompt_alias(settings: Settings, name: str, version: int) -> str:
    from ..prompts import PromptRegistry  # noqa: PLC0415

    registry = PromptRegistry.load(settings.prompts_dir, label_overrides={})
    return registry.get(name, version=version).model


def baseline(
    settings: Settings,
    suite: Suite,
    options: RunOptions,
    targets: list[Target],
    *,
    from_report: Path | None = None,
    workers: int = 1,
    on_shard: Callable[[str], None] = lambda _: None,
) -> Outcome:
    """Write `evals/baselines/<suite>.json` from a fresh run (or an existing whole report)."""
    if from_report is not None:
        report = read_report(from_report)
    else:
        if len(targets) != 1:
            raise EvalConfigError(
                "a baseline is one arm: give at most one --label/--version/--model"
            )
        report = run_report(settings, suite, options, targets, workers=workers, on_shard=on_shard)
    if report.shard is not None or len(report.arms) != 1:
        raise EvalConfigError("a baseline must be one whole arm: merge shards, run one target")
    report = report.model_copy(update={"gate": None})
    path = write_json(report, suite.baseline_path)
    return Outcome(suite=suite, report=report, paths={"baseline": path})


def refresh(
    settings: Settings, suite: Suite, out_dir: Path, *, concurrency: int | None = None
) -> list[Outcome]:
    """Re-record every arm (target + matrix), rewrite the baseline, gate every arm.

    The one command to run after a prompt, dataset or model change: stale recordings are
    dropped, the baseline comes from the suite's target, and each arm that passes the gate
    gets its evidence. The recordings file is replaced in one atomic rename once every arm
    is recorded, so an interrupted refresh leaves the old recordings whole.
    """
    targets = _unique([suite.spec.target, *suite.spec.matrix])
    recorded = asyncio.run(
        run_suite(
            suite,
            settings=settings,
            options=RunOptions(
                mode="record", concurrency=concurrency, progress=None, fresh_recordings=True
            ),
            targets=targets,
        )
    )
    outcomes = []
    first = recorded.model_copy(update={"arms": recorded.arms[:1]})
    if not _baseline_unchanged(first, suite.baseline_path):
        write_json(first, suite.baseline_path)
    replay = RunOptions(mode="replay", concurrency=concurrency)
    for target in targets:
        outcomes.append(gate(settings, suite, replay, [target], out_dir / target.arm_name))
    return outcomes


def _baseline_unchanged(report: EvalReport, path: Path) -> bool:
    """Whether `path` already holds `report` but for its date (then git stays clean)."""
    try:
        return same_but_date(read_report(path), report)
    except SquadError:
        return False


def _unique(targets: list[Target]) -> list[Target]:
    seen: set[tuple[str, str | None, int | None, str | None]] = set()
    unique = []
    for target in targets:
        key = (
            target.prompt,
            target.label or (None if target.version else "production"),
            target.version,
            target.model,
        )
        if key not in seen:
            seen.add(key)
            unique.append(target)
    return unique


def compare(
    base_path: Path, new_path: Path, *, margin: float = 0.02, confidence: float = 0.95
) -> str:
    """Markdown comparison of two reports (first arm of each): deltas with bootstrap intervals."""
    base, new = read_report(base_path), read_report(new_path)
    if base.suite != new.suite:
        raise EvalConfigError(
            f"cannot compare suite '{base.suite}' ({display_path(base_path)}) with "
            f"'{new.suite}' ({display_path(new_path)})"
        )
    scorers = [s for s in new.arm().summary.scorers if s in base.arm().summary.scorers]
    checks, unstable = compare_arms(
        base.arm(), new.arm(), scorers, margin=margin, confidence=confidence, resamples=2000, seed=0
    )
    lines = [
        f"## Compare `{base.suite}`: {base.arm().name} -> {new.arm().name}",
        "",
        f"Base {display_path(base_path)}, new {display_path(new_path)}; "
        f"{checks[0].n if checks else 0} shared cases, margin {margin}, "
        f"confidence {confidence}.",
        "",
        "| Scorer | Base | New | Delta | CI | Holm p | |",
        "| --- | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for c in checks:
        lines.append(
            f"| {c.scorer} | {c.baseline_mean:.3f} | {c.new_mean:.3f} | {c.delta:+.3f} | "
            f"{c.ci_low:+.3f}..{c.ci_high:+.3f} | {c.p_adjusted:.4f} | "
            f"{'REGRESSED' if c.regressed else ''} |"
        )
    if unstable:
        lines += ["", f"Unstable cases left out: {', '.join(unstable)}"]
    if base.dataset_hash != new.dataset_hash:
        lines += ["", "Note: the two runs used different dataset versions (shared ids compared)."]
    return "\n".join(lines) + "\n"


def merge(paths: list[Path], out_dir: Path) -> Outcome:
    """Merge shard reports into one report (and its views) in `out_dir`."""
    reports = [read_report(p) for p in paths]
    merged = merge_reports(reports)
    written = write_reports(merged, out_dir)
    return Outcome(report=merged, paths=written)


def summary_text(outcome: Outcome) -> str:
    return markdown_summary(outcome.report)

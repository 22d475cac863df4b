"""What the `squad eval` commands do, as plain functions (the CLI is a thin shell over these).

run -> reports; gate -> run (or read a merged report) + verdict + evidence; baseline ->
`evals/baselines/<suite>.json`; merge -> one report from shards. run, gate and baseline get
their report from `open_report`: an `EvalRun` whose report `workers.run_report` makes (in
this process, or from `--workers` child processes, one shard each, merged), or a report
file; the `with` block that opened it owns its cases. Gating a plan's versions is
`plan_gate.gate_plan`; compare (a Markdown diff of two reports) is `compare.compare`,
re-exported here.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SquadError
from ..files import display_path
from ..gateway.config import load_models_config
from .compare import compare
from .errors import EvalConfigError, GateFailed
from .gate import evaluate_gate, same_but_date, write_gate_evidence
from .render import markdown_summary, write_reports
from .report import EvalReport, merge_reports, read_report, write_json
from .runner import EvalRun, RunOptions, run_suite
from .spool import Report, read_streamed, write_report_json
from .suite import Suite, Target, load_suite, resolve_suite, suite_paths
from .workers import run_report, worker_count

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = [  # compare, run_report and worker_count live in `compare` and `workers`
    "Outcome",
    "TargetOverride",
    "baseline",
    "compare",
    "gate",
    "judge",
    "merge",
    "open_baseline",
    "open_report",
    "refresh",
    "run",
    "run_report",
    "suites",
    "summary_text",
    "worker_count",
]


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
    """What a command produced: the report, the files written and, for a gate, evidence.

    `result` holds the report's header and every case's scores (what the commands print);
    `report` is the whole report, read back from the `report.json` (or baseline) written.
    """

    result: Report
    suite: Suite | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    evidence: Path | None = None
    notes: list[str] = field(default_factory=list)
    failure: str | None = None  # a failed gate's one-line message

    @cached_property
    def report(self) -> EvalReport:
        return read_report(self.paths.get("json") or self.paths["baseline"])


def suites(settings: Settings, names: list[str]) -> list[Suite]:
    """The named suites, or every suite in `evals/` when none is named."""
    evals_dir = settings.evals_dir
    paths = [resolve_suite(evals_dir, n) for n in names] if names else suite_paths(evals_dir)
    if not paths:
        raise EvalConfigError(f"no suites in {display_path(evals_dir)}; add evals/<suite>.yaml")
    models = load_models_config(settings.models_file)
    return [load_suite(path, evals_dir, models=models) for path in paths]


@contextmanager
def open_baseline(suite: Suite) -> Iterator[Report | None]:
    """The committed baseline, read case by case while the `with` block runs (None: none)."""
    if not suite.baseline_path.is_file():
        yield None
        return
    with read_streamed(suite.baseline_path) as baseline:
        yield baseline


@contextmanager
def open_report(
    settings: Settings,
    suite: Suite,
    options: RunOptions,
    targets: list[Target],
    *,
    report_path: Path | None = None,
    workers: int = 1,
    on_shard: Callable[[str], None] = lambda _: None,
    spool_dir: Path | None = None,
) -> Iterator[Report]:
    """The report a command works on while the `with` block runs: the whole report at
    `report_path` (of `suite`), else a run of `targets` whose cases wait in `spool_dir`."""
    if report_path is not None:
        with read_streamed(report_path) as report:
            if report.suite != suite.name:
                raise EvalConfigError(
                    f"{display_path(report_path)}: report is of suite '{report.suite}', "
                    f"not '{suite.name}'"
                )
            yield report
        return
    with EvalRun.open(
        suite, settings=settings, options=options, targets=targets, spool_dir=spool_dir
    ) as run:
        yield run_report(run, workers=workers, on_shard=on_shard)


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
    """Run a suite (every arm) and write its reports into `out_dir/<suite>/`.

    The cases wait in a spool beside the reports while the run goes on; the reports are
    written from it case by case, so memory holds the scores, not the cases.
    """
    folder = out_dir / suite.name
    with (
        open_report(
            settings, suite, options, targets, workers=workers, on_shard=on_shard, spool_dir=folder
        ) as report,
        open_baseline(suite) as baseline,  # read after the run, as its views need it
    ):
        paths = write_reports(report, folder, baseline=baseline)
    return Outcome(suite=suite, result=report, paths=paths)


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
    if report_path is None and options.shard is not None:
        raise EvalConfigError(
            "the gate needs the whole dataset: run shards with `squad eval run --shard`, "
            "`squad eval merge` them, then `squad eval gate --report merged/report.json`"
        )
    if report_path is None and len(targets) != 1:
        raise EvalConfigError("the gate checks one arm: give at most one --label/--version/--model")
    with (
        open_report(
            settings,
            suite,
            options,
            targets,
            report_path=report_path,
            workers=workers,
            on_shard=on_shard,
            spool_dir=out_dir / suite.name,
        ) as report,
        open_baseline(suite) as baseline,
    ):
        outcome = judge(settings, suite, report, baseline, out_dir / suite.name, evidence=evidence)
        if outcome.failure is not None:
            raise GateFailed(outcome.failure, summary=markdown_summary(outcome.result, baseline))
    return outcome


def judge(
    settings: Settings,
    suite: Suite,
    report: Report,
    baseline: Report | None,
    out_dir: Path,
    *,
    evidence: bool = True,
) -> Outcome:
    """Apply the gate to the first arm of a whole report, write its views into `out_dir`;
    a pass writes evidence. A fail is `Outcome.failure` (the message `gate` raises)."""
    if report.header.shard is not None:
        raise EvalConfigError("the gate needs a whole run, not one shard: merge the shards first")
    notes: list[str] = []
    if baseline is None:
        notes.append(
            f"no baseline at {display_path(suite.baseline_path)}: only thresholds were checked; "
            f"create one with `squad eval baseline {suite.name}`"
        )
    elif baseline.header.dataset_hash != report.header.dataset_hash:
        raise EvalConfigError(
            f"{display_path(suite.baseline_path)}: baseline was made on another version of "
            f"{report.header.dataset}; regenerate it with `squad eval baseline {suite.name}`"
        )
    result = evaluate_gate(
        report,
        suite.spec.gate,
        baseline,
        baseline_name=display_path(suite.baseline_path) if baseline else None,
    )
    report = report.with_gate(result)
    paths = write_reports(report, out_dir, baseline=baseline)
    outcome = Outcome(suite=suite, result=report, paths=paths, notes=notes)
    if result.verdict == "fail":
        why = list(report.notes) if result.answered_by_fallback else []
        outcome.failure = (
            f"eval gate failed for suite '{suite.name}' ({result.arm}): "
            + "; ".join([*result.reasons, *why])
            + f". Report: {display_path(paths['html'])}"
        )
        return outcome
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
    if from_report is None and len(targets) != 1:
        raise EvalConfigError("a baseline is one arm: give at most one --label/--version/--model")
    opened = (
        read_streamed(from_report)
        if from_report is not None
        else open_report(settings, suite, options, targets, workers=workers, on_shard=on_shard)
    )
    with opened as report:
        if report.header.shard is not None or len(report.arms) != 1:
            raise EvalConfigError("a baseline must be one whole arm: merge shards, run one target")
        ungated = report.with_gate(None)
        path = write_report_json(ungated, suite.baseline_path)
    return Outcome(suite=suite, result=ungated, paths={"baseline": path})


def refresh(
    settings: Settings, suite: Suite, out_dir: Path, *, concurrency: int | None = None
) -> list[Outcome]:
    """Re-record every version worth gating, rewrite the baseline, gate each of them.

    The one command to run after a prompt, dataset or model change. It records the suite's
    target and matrix arms, every version a label of the target's prompt points to, and
    every version newer than those (a change in review), so each can be gated in replay and
    promoted afterwards. Stale recordings are dropped, the baseline comes from the suite's
    target, and each arm that passes the gate gets its evidence. The recordings file is
    replaced in one atomic rename once every arm is recorded, so an interrupted refresh
    leaves the old recordings whole.
    """
    targets = _refresh_targets(settings, suite)
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


def _refresh_targets(settings: Settings, suite: Suite) -> list[Target]:
    """Target, matrix, each labelled version and each newer one, each version once."""
    from ..prompts import PromptRegistry  # noqa: PLC0415

    registry = PromptRegistry.load(settings.prompts_dir, label_overrides={})
    base = suite.spec.target
    prompt = base.prompt_name()
    labelled = sorted(set(registry.labels.labels_of(prompt).values()))
    # Unreleased: newer than every version a label serves (in review, locked or not).
    unreleased = [
        v.version for v in registry.versions(prompt) if v.version > max(labelled, default=0)
    ]
    pinned = {"name": None, "label": None, "model": None}
    candidates = [
        base,
        *suite.spec.matrix,
        *(base.model_copy(update={**pinned, "version": n}) for n in [*labelled, *unreleased]),
    ]
    seen: set[tuple[str, int | str | None, str | None]] = set()
    chosen = []
    for target in candidates:
        name = target.prompt_name()
        number = target.version or registry.labels.version_for(name, target.label or "production")
        key = (target.subject, number or target.label, target.model)
        if key not in seen:
            seen.add(key)
            chosen.append(target)
    return chosen


def awaiting_first_recording(settings: Settings, suite: Suite) -> str | None:
    """The note for a suite nobody has recorded yet whose target a provider answers first
    (`prompts.evidence.awaiting_first_recording`), or None: replaying it has nothing to
    answer from, and the offline model must not stand in for the provider."""
    if suite.recordings_path.exists() or suite.baseline_path.exists():
        return None
    from ..prompts import PromptRegistry  # noqa: PLC0415
    from ..prompts.evidence import awaiting_first_recording as awaiting  # noqa: PLC0415

    registry = PromptRegistry.load(settings.prompts_dir, label_overrides={})
    version = suite.spec.target.prompt_version(registry)
    models = load_models_config(settings.models_file)
    return awaiting(version, evidence_dir=suite.evidence_dir, models=models)


def merge(paths: list[Path], out_dir: Path) -> Outcome:
    """Merge shard reports into one report (and its views) in `out_dir`."""
    reports = [read_report(p) for p in paths]
    merged = Report.of(merge_reports(reports))
    written = write_reports(merged, out_dir)
    return Outcome(result=merged, paths=written)


def summary_text(outcome: Outcome) -> str:
    return markdown_summary(outcome.result)

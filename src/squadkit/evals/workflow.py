"""What the `squad eval` commands do, as plain functions (the CLI is a thin shell over these).

run -> reports; gate -> run (or read a merged report) + verdict + evidence; baseline ->
`evals/baselines/<suite>.json`; merge -> one report from shards. Each works on a report it
opens for a `with` block (`outcome.open_report`: an `EvalRun`'s, made in this process or by
`--workers` child processes, or a report file's). The gate is a plan of one entry, gated
by `plan_gate.gate_plan` like a plan's versions; compare (a Markdown diff of two reports)
is `compare.compare`, re-exported here.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SquadError
from ..files import display_path
from ..gateway.config import load_models_config
from . import floors
from .compare import compare
from .errors import EvalConfigError, GateFailed, GateInconclusive
from .floors import Floor, propose_floors
from .gate import same_but_date
from .outcome import Outcome, open_baseline, open_report
from .plan import EvalPlan, PlannedGate
from .plan_gate import gate_plan, judge
from .render import markdown_summary, write_reports
from .report import EvalReport, read_report, write_json
from .runner import RunOptions, run_suite
from .spool import Report, read_streamed, write_report_json
from .suite import Suite, Target, load_suite, resolve_suite, suite_paths
from .summary import merge_reports
from .workers import run_report, worker_count

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = [  # re-exported: compare, judge, Outcome, open_*, run_report, worker_count
    "Outcome",
    "TargetOverride",
    "approve",
    "baseline",
    "compare",
    "gate",
    "judge",
    "merge",
    "open_baseline",
    "open_report",
    "power",
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


def suites(settings: Settings, names: list[str]) -> list[Suite]:
    """The named suites, or every suite in `evals/` when none is named."""
    evals_dir = settings.evals_dir
    paths = [resolve_suite(evals_dir, n) for n in names] if names else suite_paths(evals_dir)
    if not paths:
        raise EvalConfigError(f"no suites in {display_path(evals_dir)}; add evals/<suite>.yaml")
    models = load_models_config(settings.models_file)
    return [load_suite(path, evals_dir, models=models) for path in paths]


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

    A plan of one entry, gated as a plan's versions are (`plan_gate.gate_plan`). Raises
    `GateFailed` (exit 1) after writing the reports when the gate fails, and
    `GateInconclusive` (exit 3) when its data decide neither way.
    """
    if report_path is None and options.shard is not None:
        raise EvalConfigError(
            "the gate needs the whole dataset: run shards with `squad eval run --shard`, "
            "`squad eval merge` them, then `squad eval gate --report merged/report.json`"
        )
    if report_path is None and len(targets) != 1:
        raise EvalConfigError("the gate checks one arm: give at most one --label/--version/--model")
    target = suite.spec.target if report_path is not None else targets[0]
    entry = PlannedGate(suite=suite.name, target=target, version=None, reasons=("gated",))
    gated = gate_plan(
        settings,
        suite,
        EvalPlan(gates=(entry,)),
        options,
        out_dir,
        report_path=report_path,
        evidence=evidence,
        workers=workers,
        on_shard=on_shard,
        single=True,
    )
    (outcome,) = gated.outcomes
    if outcome.failure is not None:
        error = GateInconclusive if outcome.inconclusive else GateFailed
        raise error(outcome.failure, summary=gated.summary)
    return outcome


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
    settings: Settings,
    suite: Suite,
    out_dir: Path,
    *,
    concurrency: int | None = None,
    write_floors: bool = False,
    on_floors: Callable[[Suite, list[Floor], bool], None] = lambda *_: None,
) -> list[Outcome]:
    """Re-record every version worth gating, rewrite the baseline, gate each of them.

    The one command to run after a prompt, dataset or model change. It records the suite's
    target and matrix arms, every version a label of the target's prompt points to, and
    every version newer than those (a change in review), so each can be gated in replay and
    promoted afterwards. Stale recordings are dropped, the baseline comes from the suite's
    target, and each arm that passes the gate gets its evidence. The recordings file is
    replaced in one atomic rename once every arm is recorded, so an interrupted refresh
    leaves the old recordings whole. The floors the new baseline supports (`floors`) go to
    `on_floors` before any gate: with `write_floors` they are written into the suite file
    first and the arms gated with them; else they are shown when a provider recorded the
    baseline and they differ from the suite's (which may be the offline model's).
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
    proposed = propose_floors(suite, first)
    if write_floors:
        on_floors(suite, proposed, True)
        if floors.write_floors(suite, proposed):
            suite = load_suite(suite.path, suite.evals_dir)
    elif floors.recorded_by_provider(first) and any(f.proposed != f.current for f in proposed):
        on_floors(suite, proposed, False)
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


def power(
    suite: Suite,
    *,
    margin: float | None,
    confidence: float | None,
    disagreements: list[float],
) -> str:
    """`squad eval power`: the cases the gate needs at a margin, from the committed baseline
    (`power.power_rows`); a missing baseline or margin is an `EvalConfigError` (exit 2)."""
    from .power import power_rows, power_table  # noqa: PLC0415

    regression = suite.spec.gate.regression
    if margin is None and regression is None:
        raise EvalConfigError(
            f"{display_path(suite.path)}: the suite has no gate.regression; give --margin"
        )
    chosen_margin = margin if margin is not None else regression.margin if regression else 0.0
    chosen_confidence = (
        confidence if confidence is not None else regression.confidence if regression else 0.95
    )
    if not 0 < chosen_margin < 1 or not 0.5 < chosen_confidence < 1:
        raise EvalConfigError("--margin must be in (0, 1) and --confidence in (0.5, 1)")
    if not suite.baseline_path.is_file():
        raise EvalConfigError(
            f"{display_path(suite.baseline_path)}: no baseline for suite '{suite.name}': the "
            f"power estimate reads its scores; record one with `squad eval baseline {suite.name}`"
        )
    with open_baseline(suite) as base:
        assert base is not None  # noqa: S101 - checked just above
        cases = base.arm_scores()
        names = (
            suite.spec.gate.regression_scorers() if regression else list(base.arm().summary.scorers)
        )
        scores = {
            name: [c.scores[name] for c in cases if name in c.scores]
            for name in names
            if name in base.arm().summary.scorers
        }
    rows = power_rows(
        scores, margin=chosen_margin, confidence=chosen_confidence, disagreements=disagreements
    )
    return power_table(
        suite.name, len(cases), rows, margin=chosen_margin, confidence=chosen_confidence
    )


def approve(suite: Suite, report_path: Path, *, approved_by: str, reason: str) -> Path:
    """`squad eval approve`: write the approval of the inconclusive gate in `report_path`.

    The report's recorded hash must be the hash of its own content (a hand-edited report
    cannot be approved), and it must be a report of `suite`.
    """
    from .approval import new_approval, write_approval  # noqa: PLC0415
    from .gate import report_hash  # noqa: PLC0415

    if not approved_by.strip() or not reason.strip():
        raise EvalConfigError("an approval names who approves (--by) and why (--reason)")
    report = read_report(report_path)
    where = display_path(report_path)
    if report.suite != suite.name:
        raise EvalConfigError(f"{where}: report is of suite '{report.suite}', not '{suite.name}'")
    gate = report.gate
    if gate is None:
        raise EvalConfigError(f"{where}: field 'gate': not a gated report; run `squad eval gate`")
    if gate.verdict == "inconclusive" and gate.report_hash != report_hash(gate, report):
        raise EvalConfigError(
            f"{where}: field 'gate.report_hash': does not match the report's content; "
            "run the gate again"
        )
    try:
        approval = new_approval(gate, report, approved_by=approved_by, reason=reason)
    except EvalConfigError as error:
        raise EvalConfigError(f"{where}: field 'gate.verdict': {error}") from None
    return write_approval(suite.evals_dir / "approvals", approval)


def merge(paths: list[Path], out_dir: Path) -> Outcome:
    """Merge shard reports into one report (and its views) in `out_dir`."""
    reports = [read_report(p) for p in paths]
    merged = Report.of(merge_reports(reports))
    written = write_reports(merged, out_dir)
    return Outcome(result=merged, paths=written)


def summary_text(outcome: Outcome) -> str:
    return markdown_summary(outcome.result)

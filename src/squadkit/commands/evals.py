"""`squad eval`: run, gate, plan, baseline, refresh, compare, merge (and, from
`eval_decisions`, floors, power, approve, judge-agreement).

A thin shell over `evals.workflow`; every failure is a typed `SquadError` that `cli.main`
prints as one line: exit 1 when the gate fails, 2 for a suite, dataset or recording problem,
3 when the gate is inconclusive (the data decide neither way: not a pass).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from . import eval_decisions
from .eval_options import (
    ConcurrencyOpt,
    LabelOpt,
    ModelOpt,
    ModeOpt,
    OutOpt,
    PlanOpt,
    RepeatsOpt,
    SuitesArg,
    VersionOpt,
    WorkersOpt,
    echo_err,
    echo_summary,
    eval_settings,
    parse_workers,
    plan_file,
    refuse_or_note_label_pins,
    report_folder,
    run_options,
    show_outcome,
    target_override,
)

if TYPE_CHECKING:
    from ..evals.floors import Floor
    from ..evals.plan import EvalPlan
    from ..evals.runner import RunOptions
    from ..evals.suite import Suite, Target
    from ..evals.workflow import TargetOverride
    from ..settings import Settings

app = typer.Typer(
    name="eval",
    help="Evaluate prompts and models: run suites, gate changes, keep baselines.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command()
def run(
    suites: SuitesArg = None,
    *,
    mode: ModeOpt = "replay",
    out: OutOpt = Path("reports"),
    shard: Annotated[
        str | None, typer.Option("--shard", help="Run shard i of n (e.g. 1/4) for CI matrices.")
    ] = None,
    label: LabelOpt = None,
    version: VersionOpt = None,
    model: ModelOpt = None,
    matrix: Annotated[
        bool, typer.Option("--matrix", help="Run the suite's matrix arms (A/B comparison).")
    ] = False,
    concurrency: ConcurrencyOpt = None,
    repeats: RepeatsOpt = None,
    workers: WorkersOpt = "auto",
    plan: PlanOpt = None,
    max_error_share: Annotated[
        float | None,
        typer.Option(
            "--max-error-share",
            min=0,
            max=1,
            help="live/record: fail (exit 1) when more than this share of calls got no answer "
            "(default: the suite's max_error_share, 0.05); none answered always fails.",
        ),
    ] = None,
) -> None:
    """Run suites and write JSON, Markdown, JUnit and HTML reports (several targets: A/B)."""
    from ..evals import workflow  # noqa: PLC0415
    from ..evals.answered import unanswered  # noqa: PLC0415
    from ..evals.errors import CallsUnanswered  # noqa: PLC0415

    settings = eval_settings()
    refuse_or_note_label_pins(settings)
    options = run_options(mode, shard, concurrency, repeats)
    override = target_override(label, version, model, matrix)
    planned = _plan(plan, override)
    requested = parse_workers(workers)
    out = report_folder(out, settings)
    out_dir = out / f"shard-{options.shard[0]}-of-{options.shard[1]}" if options.shard else out
    failures: list[str] = []
    for suite in workflow.suites(settings, suites or []):
        targets = (planned.targets(suite.name) if planned else []) or override.targets(suite)
        outcome = workflow.run(
            settings,
            suite,
            options,
            targets,
            out_dir,
            workers=workflow.worker_count(requested, suite, options, targets),
            on_shard=echo_err,
        )
        show_outcome(outcome)
        failure = unanswered(outcome.result, suite, max_share=max_error_share)
        if failure is not None:
            failures.append(failure)
    if failures:
        raise CallsUnanswered(" / ".join(failures))


@app.command()
def gate(
    suites: SuitesArg = None,
    *,
    mode: ModeOpt = "replay",
    out: OutOpt = Path("reports"),
    label: LabelOpt = None,
    version: VersionOpt = None,
    model: ModelOpt = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Gate an existing (merged) report instead of running."),
    ] = None,
    evidence: Annotated[
        bool,
        typer.Option(
            "--evidence/--no-evidence", help="On a pass, write evals/evidence/<prompt>/v<N>.json."
        ),
    ] = True,
    concurrency: ConcurrencyOpt = None,
    repeats: RepeatsOpt = None,
    workers: WorkersOpt = "auto",
    plan: PlanOpt = None,
) -> None:
    """Run, then apply thresholds and the regression check vs the baseline (exit 0/1/2/3).

    Exit 0 pass (or an inconclusive gate a committed approval accepts), 1 fail, 2 a usage,
    suite or data problem, 3 inconclusive: the data show neither that any drop is within the
    margin nor a drop beyond it; the message says how many cases would decide.

    With --plan, gates every version the plan lists for each suite and prints them beside
    the versions their labels serve today; exit 1 when any of them fails (3 when every one
    that did not pass is inconclusive).
    """
    from ..evals import GateFailed, workflow  # noqa: PLC0415
    from ..evals.errors import GateInconclusive  # noqa: PLC0415

    settings = eval_settings()
    refuse_or_note_label_pins(settings)
    options = run_options(mode, None, concurrency, repeats)
    override = target_override(label, version, model)
    planned = _plan(plan, override)
    requested = parse_workers(workers)
    gating = _Gating(settings, options, report_folder(out, settings), report, evidence, requested)
    failures: list[tuple[str, bool]] = []
    for suite in workflow.suites(settings, suites or []):
        if options.mode == "replay" and report is None:
            note = workflow.awaiting_first_recording(settings, suite)
            if note is not None:
                typer.echo(note, err=True)  # e.g. a fresh repo for a keyed provider
                continue
        if planned is None:
            gating.plain(suite, override.targets(suite))  # a failure stops at its suite
        else:
            failures += gating.plan(suite, planned)
    if failures:
        message = " / ".join(text for text, _ in failures)
        raise (GateInconclusive if all(i for _, i in failures) else GateFailed)(message)


@dataclass(frozen=True)
class _Gating:
    """How `squad eval gate` gates each suite and prints it. Both are the one gate path
    (`plan_gate.gate_plan`): the plain gate is a plan of one entry, printed as one report;
    a plan prints its side-by-side summary and fails once every suite is gated."""

    settings: Settings
    options: RunOptions
    out: Path
    report: Path | None
    evidence: bool
    requested_workers: int | None  # None: auto

    def plain(self, suite: Suite, targets: list[Target]) -> None:
        from ..evals import GateFailed, workflow  # noqa: PLC0415

        workers = self._workers(suite, targets)
        try:
            outcome = workflow.gate(
                self.settings,
                suite,
                self.options,
                targets,
                self.out,
                report_path=self.report,
                evidence=self.evidence,
                workers=workers,
                on_shard=echo_err,
            )
        except GateFailed as failed:
            echo_summary(failed.summary)  # the table a pass prints, then the one-line error
            raise
        show_outcome(outcome)
        if outcome.evidence is not None:
            typer.echo(f"evidence: {outcome.evidence}")

    def plan(self, suite: Suite, plan: EvalPlan) -> list[tuple[str, bool]]:
        """Gate the plan's versions of `suite`; its failure, if any, for the final error
        (and whether it is only inconclusive)."""
        from ..evals import plan_gate  # noqa: PLC0415

        workers = self._workers(suite, plan.targets(suite.name) or [suite.spec.target])
        outcome = plan_gate.gate_plan(
            self.settings,
            suite,
            plan,
            self.options,
            self.out,
            report_path=self.report,
            evidence=self.evidence,
            workers=workers,
            on_shard=echo_err,
        )
        echo_summary(outcome.summary)
        typer.echo(f"summary: {outcome.summary_path}")
        for gated in outcome.outcomes:
            for note in gated.notes:
                typer.echo(f"note: {note}", err=True)
            if gated.evidence is not None:
                typer.echo(f"evidence: {gated.evidence}")
        return [(outcome.failure, outcome.inconclusive)] if outcome.failure else []

    def _workers(self, suite: Suite, targets: list[Target]) -> int:
        from ..evals import workflow  # noqa: PLC0415

        if self.report is not None:
            return 1  # nothing runs
        return workflow.worker_count(self.requested_workers, suite, self.options, targets)


def _plan(path: Path | None, override: TargetOverride) -> EvalPlan | None:
    from ..evals.errors import EvalConfigError  # noqa: PLC0415
    from ..evals.plan import read_plan  # noqa: PLC0415

    if path is None:
        return None
    if override.labels or override.versions or override.models or override.matrix:
        raise EvalConfigError("--plan names the versions: leave out --label/--version/--model")
    return read_plan(path)


@app.command()
def plan(
    suites: SuitesArg = None,
    *,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="Git ref the change is compared with (a pull request's base); without it, "
            "each suite's target.",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Where to write the plan (JSON).")] = Path(
        "reports/plan.json"
    ),
) -> None:
    """Write which prompt versions the eval gate must pass: changed, added, gated-labelled."""
    from ..evals import workflow  # noqa: PLC0415
    from ..evals.plan import plan_gates, write_plan  # noqa: PLC0415

    settings = eval_settings()
    out = plan_file(out, settings)
    found = plan_gates(settings.prompts_dir, workflow.suites(settings, suites or []), base=base)
    path = write_plan(found, out)
    typer.echo(found.describe())
    typer.echo(f"plan: {path}")


@app.command()
def baseline(
    suites: SuitesArg = None,
    *,
    mode: ModeOpt = "replay",
    label: LabelOpt = None,
    version: VersionOpt = None,
    model: ModelOpt = None,
    from_report: Annotated[
        Path | None, typer.Option("--from", help="Use this whole report instead of running.")
    ] = None,
    workers: WorkersOpt = "auto",
) -> None:
    """Write evals/baselines/<suite>.json from a run of the suite's target."""
    from ..evals import workflow  # noqa: PLC0415

    settings = eval_settings()
    refuse_or_note_label_pins(settings)
    options = run_options(mode, None, None, None)
    override = target_override(label, version, model)
    requested = parse_workers(workers)
    for suite in workflow.suites(settings, suites or []):
        targets = override.targets(suite)
        count = 1 if from_report else workflow.worker_count(requested, suite, options, targets)
        outcome = workflow.baseline(
            settings,
            suite,
            options,
            targets,
            from_report=from_report,
            workers=count,
            on_shard=echo_err,
        )
        summary = outcome.result.arm().summary
        means = ", ".join(f"{n} {s.mean:.3f}" for n, s in summary.scorers.items())
        typer.echo(f"baseline: {outcome.paths['baseline']} ({summary.cases} cases; {means})")


@app.command()
def refresh(
    suites: SuitesArg = None,
    *,
    out: OutOpt = Path("reports/refresh"),
    concurrency: ConcurrencyOpt = None,
    write_floors: Annotated[
        bool,
        typer.Option(
            "--write-floors",
            help="Set the suite's thresholds from the new baseline (`squad eval floors`) "
            "before gating: a real provider's first recording.",
        ),
    ] = False,
) -> None:
    """Re-record answers, rewrite the baseline and the evidence (after a prompt/data change).

    Calls the models (mode record): every arm of the suite (target and matrix) is recorded,
    the target's run becomes evals/baselines/<suite>.json, and each arm is gated in replay;
    passing arms get evals/evidence/<prompt>/v<N>.json. Commit all three.
    """
    from ..evals import workflow  # noqa: PLC0415
    from ..evals.floors import describe_floors, unwritten_note  # noqa: PLC0415

    def show(suite: Suite, floors: list[Floor], written: bool) -> None:
        if written:
            typer.echo(describe_floors(suite, floors) + "\n  written to the suite file")
        else:
            typer.echo(describe_floors(suite, floors) + "\n" + unwritten_note(suite), err=True)

    settings = eval_settings()
    refuse_or_note_label_pins(settings)
    out = report_folder(out, settings)
    for suite in workflow.suites(settings, suites or []):
        outcomes = workflow.refresh(
            settings, suite, out, concurrency=concurrency, write_floors=write_floors, on_floors=show
        )
        for outcome in outcomes:
            gate_result = outcome.result.gate
            verdict = gate_result.verdict if gate_result else "?"
            typer.echo(f"{suite.name} [{outcome.result.arms[0].name}]: gate {verdict}")
            if outcome.evidence is not None:
                typer.echo(f"  evidence: {outcome.evidence}")
        typer.echo(
            f"{suite.name}: baseline {suite.baseline_path}, recordings {suite.recordings_path}"
        )


@app.command()
def compare(
    base: Annotated[Path, typer.Argument(help="Baseline report (e.g. evals/baselines/x.json).")],
    new: Annotated[Path, typer.Argument(help="New report (e.g. reports/x/report.json).")],
    margin: Annotated[float, typer.Option(help="Drop treated as a regression.")] = 0.02,
) -> None:
    """Per-scorer deltas of NEW vs BASE with paired-bootstrap intervals (Markdown)."""
    from ..evals import workflow  # noqa: PLC0415

    typer.echo(workflow.compare(base, new, margin=margin))


@app.command()
def merge(
    reports: Annotated[list[Path], typer.Argument(help="Shard reports (report.json files).")],
    out: OutOpt = Path("reports/merged"),
) -> None:
    """Merge `--shard` reports into the report an unsharded run would have written."""
    from ..evals import workflow  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    show_outcome(workflow.merge(reports, report_folder(out, Settings())))


app.command()(eval_decisions.floors)  # the decisions around a gate, in --help order
app.command()(eval_decisions.power)
app.command()(eval_decisions.approve)
app.command("judge-agreement")(eval_decisions.judge_agreement)

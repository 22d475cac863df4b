"""`squad eval`: run, gate, baseline, compare, merge.

A thin shell over `evals.workflow`; every failure is a typed `SquadError` that `cli.main`
prints as one line: exit 1 when the gate fails, 2 for a suite, dataset or recording problem.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ..evals.runner import RunOptions
    from ..evals.workflow import Outcome, TargetOverride
    from ..settings import Settings

app = typer.Typer(
    name="eval",
    help="Evaluate prompts and models: run suites, gate changes, keep baselines.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

SuitesArg = Annotated[
    list[str] | None, typer.Argument(help="Suite names or files (default: every evals/*.yaml).")
]
ModeOpt = Annotated[
    str,
    typer.Option(
        "--mode",
        help="replay: recordings only (no key, no network); record: call models and store "
        "answers; live: call models, store nothing.",
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", help="Folder for the reports.")]
LabelOpt = Annotated[
    list[str] | None, typer.Option("--label", help="Prompt label to evaluate (repeatable).")
]
VersionOpt = Annotated[
    list[int] | None, typer.Option("--version", help="Prompt version to evaluate (repeatable).")
]
ModelOpt = Annotated[
    list[str] | None, typer.Option("--model", help="Model alias override (repeatable).")
]
ConcurrencyOpt = Annotated[
    int | None,
    typer.Option("--concurrency", min=1, max=1000, help="Parallel calls (default: suite's)."),
]
RepeatsOpt = Annotated[
    int | None,
    typer.Option("--repeats", min=1, max=50, help="Samples per case (default: suite's)."),
]
WorkersOpt = Annotated[
    str,
    typer.Option(
        "--workers",
        help="Processes to split a run across, concurrency divided among them; auto: one per "
        "core when the run makes enough model calls (1 in replay mode).",
    ),
]


def _settings() -> Settings:
    """Settings for this command, with logs and telemetry set up as the service sets them."""
    from ..observability import setup_observability  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    settings = Settings()
    # An eval run's record is its report: one log line per model call (the service's
    # default) would bury the summary, so batch runs log warnings unless asked otherwise.
    quiet = "SQUAD_LOG_LEVEL" not in os.environ
    setup_observability(settings.model_copy(update={"log_level": "WARNING"}) if quiet else settings)
    return settings


def _label_pins(settings: Settings) -> None:
    """`SQUAD_PROMPT_LABEL__<NAME>` pins what a *service* serves; an eval evaluates what the
    suite (or --label/--version) names, so a pin is ignored here, out loud. A pin naming a
    label the prompt lacks is refused (exit 2) as `squad serve` refuses it.
    """
    from ..errors import ConfigError  # noqa: PLC0415
    from ..prompts import PromptRegistry  # noqa: PLC0415
    from ..prompts.labels import LABEL_ENV_PREFIX, label_overrides_from_env  # noqa: PLC0415

    if not label_overrides_from_env(os.environ):
        return
    registry = PromptRegistry.load(settings.prompts_dir)
    problems = registry.pin_problems()
    if problems:
        raise ConfigError(problems[0])
    for name, label in sorted(registry.label_overrides.items()):
        typer.echo(
            f"note: {LABEL_ENV_PREFIX}{name.upper()}={label} is ignored: it pins what a service "
            f"serves, and an eval evaluates what the suite names; add --label {label} to "
            "evaluate that label",
            err=True,
        )


def _options(
    mode: str, shard: str | None, concurrency: int | None, repeats: int | None
) -> RunOptions:
    from ..evals.errors import EvalConfigError  # noqa: PLC0415
    from ..evals.runner import MODES, RunOptions, parse_shard  # noqa: PLC0415

    if mode not in MODES:
        raise EvalConfigError(f"--mode '{mode}': choose one of {', '.join(MODES)}")
    return RunOptions(
        mode=mode,  # checked against MODES just above
        shard=parse_shard(shard) if shard is not None else None,
        concurrency=concurrency,
        repeats=repeats,
    )


def _override(
    labels: list[str] | None,
    versions: list[int] | None,
    models: list[str] | None,
    matrix: bool = False,
) -> TargetOverride:
    from ..evals.workflow import TargetOverride  # noqa: PLC0415

    return TargetOverride(
        labels=tuple(labels or ()),
        versions=tuple(versions or ()),
        models=tuple(models or ()),
        matrix=matrix,
    )


def _echo_summary(text: str) -> None:
    """Print a gate's Markdown summary; append it to the GitHub job summary when there is one."""
    typer.echo(text)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with Path(step_summary).open("a", encoding="utf-8") as file:
            file.write(text + "\n")


def _show(outcome: Outcome) -> None:
    """Print the short summary; append it to the GitHub job summary when there is one."""
    from ..evals.render import markdown_summary  # noqa: PLC0415

    _echo_summary(markdown_summary(outcome.result))
    for name, path in outcome.paths.items():
        typer.echo(f"{name}: {path}")
    for note in outcome.notes:
        typer.echo(f"note: {note}", err=True)


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
) -> None:
    """Run suites and write JSON, Markdown, JUnit and HTML reports (several targets: A/B)."""
    from ..evals import workflow  # noqa: PLC0415

    settings = _settings()
    _label_pins(settings)
    options = _options(mode, shard, concurrency, repeats)
    override = _override(label, version, model, matrix)
    requested = _workers(workers)
    out_dir = out / f"shard-{options.shard[0]}-of-{options.shard[1]}" if options.shard else out
    for suite in workflow.suites(settings, suites or []):
        targets = override.targets(suite)
        outcome = workflow.run(
            settings,
            suite,
            options,
            targets,
            out_dir,
            workers=workflow.worker_count(requested, suite, options, targets),
            on_shard=_echo_err,
        )
        _show(outcome)


def _echo_err(line: str) -> None:
    typer.echo(line, err=True)


def _workers(text: str) -> int | None:
    """`--workers`: a number of processes, or `auto` (`None`; `0` means the same)."""
    from ..evals.errors import EvalConfigError  # noqa: PLC0415

    if text in ("auto", "0"):
        return None
    if not text.isdigit():
        raise EvalConfigError(f"--workers '{text}': give a number of processes, or auto")
    cores = os.cpu_count() or 1
    if int(text) > cores and os.environ.get("SQUAD_EVAL_OVERSUBSCRIBE") != "1":
        raise EvalConfigError(
            f"--workers {text}: this machine has {cores} core(s) and each worker is a process "
            f"with its own litellm (about 250 MB); use at most {cores}, or set "
            "SQUAD_EVAL_OVERSUBSCRIBE=1 to run more anyway"
        )
    return int(text)


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
) -> None:
    """Run, then apply thresholds and the regression check vs the baseline (exit 0/1/2)."""
    from ..evals import GateFailed, workflow  # noqa: PLC0415
    from ..prompts.evidence import NOT_RECORDED, never_recorded  # noqa: PLC0415

    settings = _settings()
    _label_pins(settings)
    options = _options(mode, None, concurrency, repeats)
    override = _override(label, version, model)
    requested = _workers(workers)
    if mode == "replay" and report is None and never_recorded(settings.evals_dir):
        typer.echo(NOT_RECORDED, err=True)  # a fresh repo for a keyed provider: see the note
        return
    for suite in workflow.suites(settings, suites or []):
        targets = override.targets(suite)
        try:
            outcome = workflow.gate(
                settings,
                suite,
                options,
                targets,
                out,
                report_path=report,
                evidence=evidence,
                workers=1 if report else workflow.worker_count(requested, suite, options, targets),
                on_shard=_echo_err,
            )
        except GateFailed as failed:
            _echo_summary(failed.summary)  # the table a pass prints, then the one-line error
            raise
        _show(outcome)
        if outcome.evidence is not None:
            typer.echo(f"evidence: {outcome.evidence}")


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

    settings = _settings()
    _label_pins(settings)
    options = _options(mode, None, None, None)
    override = _override(label, version, model)
    requested = _workers(workers)
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
            on_shard=_echo_err,
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
) -> None:
    """Re-record answers, rewrite the baseline and the evidence (after a prompt/data change).

    Calls the models (mode record): every arm of the suite (target and matrix) is recorded,
    the target's run becomes evals/baselines/<suite>.json, and each arm is gated in replay;
    passing arms get evals/evidence/<prompt>/v<N>.json. Commit all three.
    """
    from ..evals import workflow  # noqa: PLC0415

    settings = _settings()
    _label_pins(settings)
    for suite in workflow.suites(settings, suites or []):
        for outcome in workflow.refresh(settings, suite, out, concurrency=concurrency):
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

    _show(workflow.merge(reports, out))

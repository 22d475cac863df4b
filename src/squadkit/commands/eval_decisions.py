"""`squad eval floors | power | approve | judge-agreement`: the decisions around a gate,
kept apart from running one (`evals.py`): which thresholds a first recording supports, how
many cases a margin needs, a reviewed approval of an inconclusive gate, and whether each
`llm_judge` agrees with people enough to gate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .eval_options import ModeOpt, WorkersOpt, eval_settings, parse_workers, run_options


def floors(
    suite: Annotated[str, typer.Argument(help="Suite name (evals/<suite>.yaml).")],
    write: Annotated[
        bool, typer.Option("--write", help="Rewrite the thresholds in evals/<suite>.yaml.")
    ] = False,
) -> None:
    """Propose the suite's thresholds from its committed baseline: each scorer's lower 95%
    bound minus the regression margin, rounded down. --write puts them in the suite file."""
    from ..evals import workflow  # noqa: PLC0415
    from ..evals.floors import describe_floors, propose_floors, write_floors  # noqa: PLC0415
    from ..files import display_path  # noqa: PLC0415

    (found,) = workflow.suites(eval_settings(), [suite])
    proposed = propose_floors(found)
    typer.echo(describe_floors(found, proposed))
    if write:
        changed = write_floors(found, proposed)
        where = display_path(found.path)
        typer.echo(f"written to {where}" if changed else f"{where}: already so")
    elif any(f.proposed != f.current for f in proposed):
        typer.echo(f"(not written: add --write to put them in {display_path(found.path)})")


def power(
    suite: Annotated[str, typer.Argument(help="Suite name (evals/<suite>.yaml) or path.")],
    *,
    margin: Annotated[
        float | None, typer.Option("--margin", help="Margin to decide at (default: the suite's).")
    ] = None,
    disagreement: Annotated[
        list[float] | None,
        typer.Option(
            "--disagreement",
            help="Share of cases a change alters, 0-1 (repeatable; default 0.05, 0.1, 0.2).",
        ),
    ] = None,
    confidence: Annotated[
        float | None, typer.Option("--confidence", help="Default: the suite's.")
    ] = None,
) -> None:
    """How many cases the gate needs to decide at a margin, from the committed baseline."""
    from ..evals import workflow  # noqa: PLC0415
    from ..evals.errors import EvalConfigError  # noqa: PLC0415

    settings = eval_settings()
    (found,) = workflow.suites(settings, [suite])
    shares = disagreement or [0.05, 0.1, 0.2]
    if any(not 0 < share <= 1 for share in shares):
        raise EvalConfigError("--disagreement is a share of cases: give values in (0, 1]")
    typer.echo(workflow.power(found, margin=margin, confidence=confidence, disagreements=shares))


def approve(
    suite: Annotated[str, typer.Argument(help="Suite name (evals/<suite>.yaml) or path.")],
    *,
    report: Annotated[Path, typer.Option("--report", help="The inconclusive gate's report.json.")],
    by: Annotated[str, typer.Option("--by", help="Who reviewed and approves.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the result is accepted.")],
) -> None:
    """Write evals/approvals/<prompt>/v<N>.yaml accepting an inconclusive gate (commit it)."""
    from ..evals import workflow  # noqa: PLC0415

    settings = eval_settings()
    (found,) = workflow.suites(settings, [suite])
    path = workflow.approve(found, report, approved_by=by, reason=reason)
    typer.echo(
        f"approval: {path} (commit it; the gate accepts it while the prompt, dataset, "
        "recordings and baseline stay as they were)"
    )


def judge_agreement(
    suite: Annotated[str, typer.Argument(help="Suite name (evals/<suite>.yaml) or path.")],
    *,
    mode: ModeOpt = "replay",
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Read the judges' scores from this report.json."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="text, markdown or json.", case_sensitive=False)
    ] = "text",
    workers: WorkersOpt = "auto",
) -> None:
    """Each llm_judge scorer against the human labels of the dataset's cases: Cohen's kappa
    with a seeded bootstrap interval, the confusion matrix and n; with gate.judge_agreement
    in the suite, whether the judge gates or is advisory."""
    from ..evals import workflow  # noqa: PLC0415
    from ..evals.agreement import measure_suite  # noqa: PLC0415
    from ..evals.errors import EvalConfigError  # noqa: PLC0415
    from ..evals.render_agreement import Format, render_agreement  # noqa: PLC0415
    from ..files import display_path  # noqa: PLC0415

    formats: dict[str, Format] = {"text": "text", "markdown": "markdown", "json": "json"}
    chosen = formats.get(fmt.lower())
    if chosen is None:
        raise EvalConfigError(f"--format: '{fmt}' is not one of text, markdown, json")
    settings = eval_settings()
    (found,) = workflow.suites(settings, [suite])
    options = run_options(mode, None, None, None)
    requested = parse_workers(workers)
    count = 1 if report else workflow.worker_count(requested, found, options, [found.spec.target])
    measured = measure_suite(settings, found, options, report_path=report, workers=count)
    requirement = found.spec.gate.judge_agreement
    seed = requirement.seed if requirement else 20_240_601
    dataset = display_path(found.dataset_path)
    typer.echo(render_agreement(found.name, dataset, measured, seed=seed, fmt=chosen), nl=False)

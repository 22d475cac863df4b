"""`squad experiments report NAME`: what an online experiment has shown, from the inference log;
`squad experiments stop NAME`: end it (and promote its winner).

Reads config/experiments.yaml (the experiment), config/feedback.yaml (the primary metric's
range) and the inference log (SQUAD_INFERENCE_LOG_URL; default the .squad/ SQLite file).
Prints Markdown (for a terminal or a pull request comment) or JSON. Exit 0 with a verdict,
1 when a guardrail is breached (a failed check), 2 for an unknown experiment, an invalid
file, or a log that cannot be read (unreachable, or older than revision 0003: run
`squad inference-log migrate`, or start the service once).

`stop` rewrites config/experiments.yaml in place (`experiments.stop`); exit 2 for an
unknown experiment or arm, and the promotion's own exit code when `--promote` is refused.
"""

from __future__ import annotations

from typing import Annotated, Literal

import typer

experiments_app = typer.Typer(
    help="Online experiments of config/experiments.yaml (needs the inference log).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@experiments_app.command("report")
def report(
    name: Annotated[str, typer.Argument(help="The experiment's name in config/experiments.yaml.")],
    output: Annotated[
        Literal["markdown", "json"],
        typer.Option("--format", help="markdown (default) or json."),
    ] = "markdown",
) -> None:
    """Per arm: answers, the primary metric with its anytime-valid interval, guardrails,
    latency and cost; one verdict and what to do."""
    from ..errors import CheckFailed  # noqa: PLC0415
    from ..experiments import find_experiment  # noqa: PLC0415
    from ..experiments.report import experiment_report  # noqa: PLC0415
    from ..experiments.verdict import decide, report_json, report_markdown  # noqa: PLC0415
    from ..inferences import InferenceStore, default_sqlite_url, load_feedback_config  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    settings = Settings()
    experiment = find_experiment(settings.config_dir / "experiments.yaml", name)
    feedback = load_feedback_config(settings.config_dir / "feedback.yaml")
    store = InferenceStore(settings.inference_log_url or default_sqlite_url(settings.root))
    try:  # read only: a reporting role needs no right to alter the schema
        result = experiment_report(name, experiment, store=store, feedback=feedback)
    finally:
        store.dispose()
    typer.echo(report_json(result) if output == "json" else report_markdown(result), nl=False)
    verdict = decide(result)
    if verdict.kind == "guardrail-breached":
        raise CheckFailed(f"experiment '{name}': {verdict.decision}")


@experiments_app.command("stop")
def stop(
    name: Annotated[str, typer.Argument(help="The experiment's name in config/experiments.yaml.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why it stops; a comment above its status.")
    ],
    winner: Annotated[
        str | None,
        typer.Option("--winner", help="The arm that won: prints the promotion that makes it so."),
    ] = None,
    promote: Annotated[
        bool,
        typer.Option("--promote", help="With --winner: run that promotion (evidence checked)."),
    ] = False,
) -> None:
    """Set the experiment's status to stopped (comments and layout kept); the label stays
    where it is unless the winner is promoted."""
    from ..errors import ConfigError  # noqa: PLC0415
    from ..experiments import find_experiment, stop_experiment  # noqa: PLC0415
    from ..experiments.stop import stop_reason  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    reason = stop_reason(reason)
    if promote and winner is None:
        raise ConfigError("--promote needs --winner ARM: the arm whose version to promote")
    path = Settings().config_dir / "experiments.yaml"
    experiment = find_experiment(path, name, winner)
    if promote and winner is not None:  # before the stop: refused evidence stops nothing
        from .prompts import promote as promote_version  # noqa: PLC0415

        promote_version(
            experiment.prompt,
            str(experiment.arms[winner].version),
            experiment.label,
            reason=f"experiment {name}: {reason}",
        )
    stopped = stop_experiment(path, name, reason=reason, winner=winner)
    state = "stopped" if stopped.was_running else "already stopped"
    typer.echo(f"experiment '{name}': {state} ({experiment.prompt}:{experiment.label})")
    if stopped.promote_command and not promote:
        typer.echo(f"promote the winner: uv run {stopped.promote_command}")

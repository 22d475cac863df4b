"""What every `squad eval` command shares: its options, settings and how it prints.

Kept apart from the commands (`evals.py`) so each file stays one screenful of its own job.
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
PlanOpt = Annotated[
    Path | None,
    typer.Option(
        "--plan",
        help="An eval plan (`squad eval plan --out`): run or gate every version it lists.",
    ),
]
WorkersOpt = Annotated[
    str,
    typer.Option(
        "--workers",
        help="Processes to split a run across, concurrency divided among them; auto: one per "
        "core when the run makes enough model calls (1 in replay mode).",
    ),
]


def report_folder(out: Path, settings: Settings, option: str = "--out") -> Path:
    """`out` if reports may be written there: outside the squad's `prompts/` and `evals/`
    (reports are build output, not data the team reviews) and in a writable place.

    Checked before anything runs, without creating the folder: an eval that ran for minutes
    must not fail at its last step, and a refused command leaves nothing behind.
    """
    _outside_data_folders(out, settings, option)
    _writable(Path(os.path.abspath(out)), out, option, "reports")
    return out


def plan_file(out: Path, settings: Settings, option: str = "--out") -> Path:
    """`out` if an eval plan may be written there: the same places as reports (a plan is
    build output too), its folder writable and the file itself not a folder."""
    from ..evals.errors import EvalConfigError  # noqa: PLC0415

    _outside_data_folders(out, settings, option)
    if out.is_dir():
        raise EvalConfigError(f"{option} {out}: a folder; name the plan's file (e.g. plan.json)")
    _writable(Path(os.path.abspath(out)).parent, out, option, "the plan")
    return out


def _outside_data_folders(out: Path, settings: Settings, option: str) -> None:
    from ..evals.errors import EvalConfigError  # noqa: PLC0415

    where = Path(os.path.abspath(out))
    for folder in (settings.prompts_dir, settings.evals_dir):
        data = Path(os.path.abspath(folder))
        if where.is_relative_to(data) or where.resolve().is_relative_to(data.resolve()):
            raise EvalConfigError(
                f"{option} {out}: inside the squad's data folder {folder.name}/; write "
                "reports elsewhere (the default is reports/)"
            )


def _writable(folder: Path, out: Path, option: str, what: str) -> None:
    """Refuse `out` unless a folder can be made in `folder` (or its nearest existing parent)."""
    import tempfile  # noqa: PLC0415

    from ..evals.errors import EvalConfigError  # noqa: PLC0415

    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(0, "a file is in the way", str(existing))
        tempfile.TemporaryDirectory(dir=existing).cleanup()  # can a folder be made there?
    except OSError as error:
        raise EvalConfigError(
            f"{option} {out}: cannot write {what} there ({error.strerror or error}); choose "
            "a writable folder"
        ) from None


def eval_settings() -> Settings:
    """Settings for this command, with logs and telemetry set up as the service sets them."""
    from ..observability import setup_observability  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    settings = Settings()
    # An eval run's record is its report: one log line per model call (the service's
    # default) would bury the summary, so batch runs log warnings unless asked otherwise.
    quiet = "SQUAD_LOG_LEVEL" not in os.environ
    setup_observability(settings.model_copy(update={"log_level": "WARNING"}) if quiet else settings)
    return settings


def refuse_or_note_label_pins(settings: Settings) -> None:
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


def run_options(
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


def target_override(
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


def echo_summary(text: str) -> None:
    """Print a gate's Markdown summary; append it to the GitHub job summary when there is one."""
    typer.echo(text)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with Path(step_summary).open("a", encoding="utf-8") as file:
            file.write(text + "\n")


def show_outcome(outcome: Outcome) -> None:
    """Print the short summary; append it to the GitHub job summary when there is one."""
    from ..evals.render import markdown_summary  # noqa: PLC0415

    echo_summary(markdown_summary(outcome.result))
    for name, path in outcome.paths.items():
        typer.echo(f"{name}: {path}")
    for note in outcome.notes:
        typer.echo(f"note: {note}", err=True)


def echo_err(line: str) -> None:
    typer.echo(line, err=True)


def parse_workers(text: str) -> int | None:
    """`--workers`: a number of processes, or `auto` (`None`; `0` means the same)."""
    from ..evals.errors import EvalConfigError  # noqa: PLC0415

    oversubscribe = os.environ.get("SQUAD_EVAL_OVERSUBSCRIBE", "")
    if oversubscribe not in ("", "0", "1"):
        raise EvalConfigError(
            f"SQUAD_EVAL_OVERSUBSCRIBE={oversubscribe!r}: set it to 1 (more workers than "
            "cores allowed) or 0, or unset it"
        )
    if text in ("auto", "0"):
        return None
    if not text.isdigit():
        raise EvalConfigError(f"--workers '{text}': give a number of processes, or auto")
    cores = os.cpu_count() or 1
    if int(text) > cores and oversubscribe != "1":
        raise EvalConfigError(
            f"--workers {text}: this machine has {cores} core(s) and each worker is a process "
            f"with its own litellm (about 250 MB); use at most {cores}, or set "
            "SQUAD_EVAL_OVERSUBSCRIBE=1 to run more anyway"
        )
    return int(text)

"""The `squad` command line: a thin shell over the capabilities.

Every expected failure is a `SquadError`; `main` prints it as one line on stderr and exits
with its code (0 ok, 1 a check or gate failed, 2 usage/config/data error, 3 an eval gate
the data cannot decide: inconclusive). `--debug` shows
the traceback instead.
"""

import gc
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from .errors import SquadError

app = typer.Typer(
    name="squad",
    help="Run, check and evaluate the squad's AI features.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_debug = False


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")
    ] = False,
) -> None:
    global _debug  # noqa: PLW0603 - one process-wide switch read by main()
    _debug = debug


@app.command()
def info() -> None:
    """Show where the CLI looks for config, prompts and evals."""
    from .settings import Settings  # noqa: PLC0415 - keep `squad --help` fast

    settings = Settings()
    typer.echo(f"package:     {__package__} {_package_version()}")
    typer.echo(f"environment: {settings.environment}")
    typer.echo(f"root:        {settings.root}")
    typer.echo(f"models:      {settings.models_file}")
    typer.echo(f"prompts:     {settings.prompts_dir}")
    typer.echo(f"evals:       {settings.evals_dir}")


from .commands import prompts as _prompts_commands  # noqa: E402 - groups follow the root app

app.add_typer(_prompts_commands.app, name="prompts")

from .commands.models import models_app  # noqa: E402 - groups follow the root app

app.add_typer(models_app, name="models")

from .commands.evals import app as _eval_app  # noqa: E402 - groups follow the root app

app.add_typer(_eval_app, name="eval")


def _add_serve_command() -> None:
    """`squad serve`, `squad callers`, `squad inference-log`, `squad harvest`, `squad
    review` and `squad experiments` exist only where the service extra is installed
    (`squadkit[service]`)."""
    from importlib.util import find_spec  # noqa: PLC0415

    if find_spec("fastapi") is not None:
        from .commands.callers import callers_app  # noqa: PLC0415
        from .commands.experiments import experiments_app  # noqa: PLC0415
        from .commands.harvest import harvest, review  # noqa: PLC0415
        from .commands.inference_log import inference_log_app  # noqa: PLC0415
        from .commands.serve import serve  # noqa: PLC0415

        app.command("serve")(serve)
        app.add_typer(callers_app, name="callers")
        app.add_typer(inference_log_app, name="inference-log")
        app.command("harvest")(harvest)
        app.command("review")(review)
        app.add_typer(experiments_app, name="experiments")


_add_serve_command()


def _package_version() -> str:
    try:
        return version(__package__ or "")
    except PackageNotFoundError:
        return "(not installed)"


def main() -> None:
    """Run the CLI; ends with `SystemExit` (an error is one line and its exit code).

    Safe to call in-process (tests do); the `squad` command is `entry_point`.
    """
    try:
        app()
    except SquadError as error:
        if _debug:
            raise
        typer.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except ValueError as error:  # pydantic's ValidationError of the SQUAD_* settings
        if _debug or type(error).__name__ != "ValidationError":
            raise
        message = settings_error(error)
        if message is None:
            raise
        typer.echo(f"error: {message}", err=True)
        sys.exit(2)


def settings_error(error: ValueError) -> str | None:
    """One line naming the environment variable of an invalid setting, else None."""
    title = getattr(error, "title", None)
    errors = getattr(error, "errors", None)
    if title != "Settings" or errors is None:
        return None
    first = errors()[0]
    field = "_".join(str(part) for part in first["loc"]).upper()
    variable = field if field.startswith("SQUAD_") else f"SQUAD_{field}"
    return (
        f"{variable}={first.get('input')!r}: {first['msg']}; fix it in the environment or "
        ".env (docs: squadkit.settings.Settings)"
    )


def entry_point() -> None:
    """The `squad` console script and `python -m squadkit.cli`: `main`, then a normal exit.

    Exit handlers (the log and telemetry flush) and threads run their course as usual. The
    one thing skipped is the interpreter's final garbage collections over what is alive at
    the end: `gc.freeze()` leaves those objects out of them. With litellm loaded that is
    millions of objects and about two seconds of collecting memory the process is about to
    give back; only the process's own entry point does it, in-process callers of `main`
    keep a normal collector.
    """
    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":  # `python -m <package>.cli`
    entry_point()

"""`squad callers`: declare who may call the service (config/callers.yaml).

`add` prints the new token once, alone on the last line, so a script can take it with
`tail -n 1`; only its SHA-256 is written, so a lost token is replaced, never recovered.
"""

from __future__ import annotations

from typing import Annotated

import typer

callers_app = typer.Typer(
    help="Declare the service's callers and their scopes (config/callers.yaml).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@callers_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The calling system, e.g. core-platform.")],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            help="A feature's name, feedback, label-override, metrics or docs (repeatable).",
        ),
    ],
) -> None:
    """Declare caller NAME with its scopes; print its new token once (last line)."""
    from ..files import display_path  # noqa: PLC0415
    from ..plugins import squad_features  # noqa: PLC0415 - imports the squad's package
    from ..service.callers import SERVICE_SCOPES, add_caller  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    path = Settings().callers_file
    token = add_caller(path, name, scope, [*SERVICE_SCOPES, *squad_features()])
    typer.echo(f"added caller '{name}' ({', '.join(scope)}) to {display_path(path)}")
    typer.echo("its token follows; it is shown only this once, store it in the caller's secrets:")
    typer.echo(token)


@callers_app.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="The caller to lock out.")]) -> None:
    """Mark caller NAME revoked: its token gets 401 from the next request on."""
    from ..files import display_path  # noqa: PLC0415
    from ..service.callers import revoke_caller  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    path = Settings().callers_file
    revoke_caller(path, name)
    typer.echo(f"revoked caller '{name}' in {display_path(path)}")


@callers_app.command("list")
def list_callers() -> None:
    """Print each caller, its scopes and whether it is revoked (never a token)."""
    from ..plugins import squad_features  # noqa: PLC0415 - imports the squad's package
    from ..service.callers import SERVICE_SCOPES, check_scopes, load_callers  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    path = Settings().callers_file
    callers = load_callers(path)
    check_scopes(path, callers, [*SERVICE_SCOPES, *squad_features()])
    for caller in callers:
        state = "  (revoked)" if caller.revoked else ""
        typer.echo(f"{caller.name}: {', '.join(sorted(caller.scopes))}{state}")

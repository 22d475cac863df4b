"""`squad inference-log`: the service's inference log store, outside a running service.

The service migrates and prunes at every start; these do the same on demand: `migrate`
before a deploy that should not wait on it (or when replicas start with no rights to
alter the schema), `prune` from a scheduled job when a process runs for weeks. `show`
looks up one answer a caller quotes by its `X-Inference-Id` (the wrong-answer runbook).
"""

from __future__ import annotations

from typing import Annotated

import typer

inference_log_app = typer.Typer(
    help="The service's inference log (SQUAD_INFERENCE_LOG_URL; default .squad/ SQLite).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@inference_log_app.command("migrate")
def migrate() -> None:
    """Create or upgrade the log's tables to the newest revision (Alembic)."""
    from ..inferences import InferenceStore, default_sqlite_url  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    settings = Settings()
    store = InferenceStore(settings.inference_log_url or default_sqlite_url(settings.root))
    with store.reaching("migrate"):
        revision = store.migrate()
    typer.echo(f"inference log {store.safe_url}: at revision {revision}")


@inference_log_app.command("prune")
def prune(
    days: Annotated[
        float | None,
        typer.Option(
            "--days",
            min=0.0,
            help="Keep this many days (default SQUAD_INFERENCE_LOG_RETENTION_DAYS).",
        ),
    ] = None,
) -> None:
    """Delete the inferences older than the retention."""
    from ..inferences import InferenceStore, default_sqlite_url  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    settings = Settings()
    keep = settings.inference_log_retention_days if days is None else days
    store = InferenceStore(settings.inference_log_url or default_sqlite_url(settings.root))
    with store.reaching("prune"):
        store.migrate()
        removed = store.prune(keep)
    typer.echo(
        f"inference log {store.safe_url}: {removed} inference(s) older than {keep} day(s) deleted"
    )


@inference_log_app.command("show")
def show(
    inference_id: Annotated[
        str, typer.Argument(help="The answer's id (its X-Inference-Id response header).")
    ],
) -> None:
    """Print one inference, one line per field (inputs and output only if kept), and its
    feedback."""
    from ..errors import ConfigError  # noqa: PLC0415
    from ..inferences import InferenceStore, default_sqlite_url  # noqa: PLC0415
    from ..inferences.lookup import describe_inference  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    settings = Settings()
    store = InferenceStore(settings.inference_log_url or default_sqlite_url(settings.root))
    with store.reaching("read"):  # no migration: a lookup never alters the schema
        lines = describe_inference(store, inference_id.strip())
    if lines is None:
        raise ConfigError(
            f"inference log {store.safe_url}: no inference '{inference_id}'; check the id "
            "(the X-Inference-Id header of the answer) and SQUAD_INFERENCE_LOG_URL, or it "
            "was pruned (SQUAD_INFERENCE_LOG_RETENTION_DAYS)"
        )
    typer.echo("\n".join(lines))

"""`squad models`: show and check the model aliases of config/models.yaml."""

from __future__ import annotations

import datetime as dt

import typer

models_app = typer.Typer(
    help="Show and check model aliases (config/models.yaml).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

# A pinned model retiring within this many days is worth a warning now.
DEPRECATION_WARNING_DAYS = 90


@models_app.command("list")
def list_models() -> None:
    """Print each alias's resolved chain, in fallback order."""
    from ..gateway import load_models_config  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    config = load_models_config(Settings().models_file)
    for alias, alias_config in config.aliases.items():
        typer.echo(f"{alias}:")
        for index, deployment in enumerate(alias_config.deployments, start=1):
            key = ""
            if deployment.api_key_env:
                state = "missing" if deployment.missing_key() else "set"
                key = f"  (key {deployment.api_key_env}: {state})"
            typer.echo(f"  {index}. {deployment.model}{key}")


@models_app.command("check")
def check_models() -> None:
    """Validate config/models.yaml; warn on missing keys and near deprecation dates.

    Exit 0 when every alias has a usable deployment, 2 otherwise.
    """
    from ..errors import ConfigError  # noqa: PLC0415
    from ..gateway import load_models_config  # noqa: PLC0415
    from ..gateway.local_models import unknown_local_models  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    path = Settings().models_file
    config = load_models_config(path)
    warnings: list[str] = []
    errors: list[str] = unknown_local_models(config)
    today = dt.date.today()
    for alias, alias_config in config.aliases.items():
        deployments = alias_config.deployments
        usable = [d for d in deployments if not d.missing_key()]
        for position, deployment in enumerate(deployments):
            if deployment.missing_key() and position < len(deployments) - 1:
                warnings.append(
                    f"{path}: alias '{alias}': {deployment.model} is skipped, "
                    f"{deployment.api_key_env} is not set; later deployments will answer"
                )
            retires = _deprecation_date(deployment.model)
            if retires is not None and (retires - today).days <= DEPRECATION_WARNING_DAYS:
                when = "was retired" if retires <= today else "retires"
                warnings.append(
                    f"{path}: alias '{alias}': {deployment.model} {when} on {retires}; "
                    "pin a newer version"
                )
        if not usable:
            names = ", ".join(sorted({str(d.api_key_env) for d in deployments}))
            errors.append(f"{path}: alias '{alias}': no usable deployment; set {names}")
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    if errors:
        raise ConfigError("; ".join(errors))
    typer.echo(f"ok: {len(config.aliases)} aliases in {path}")


def _deprecation_date(model: str) -> dt.date | None:
    """litellm's `deprecation_date` for a pinned model, from its bundled (offline) cost map."""
    if model.startswith("local/"):
        return None
    from ..gateway.router import tune_litellm  # noqa: PLC0415 - imports litellm

    litellm = tune_litellm()
    name = model.partition("/")[2]
    info = litellm.model_cost.get(model) or litellm.model_cost.get(name) or {}
    raw = info.get("deprecation_date")
    try:
        return dt.date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None

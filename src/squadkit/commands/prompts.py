"""`squad prompts`: list, show, new, lock, check, diff, promote, rollback.

A thin shell over `prompts/`; every failure is a typed `SquadError` that `cli.main` prints
as one line with its exit code.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import ConfigError, SquadError
from ..files import display_path, read_text

if TYPE_CHECKING:
    from ..gateway.config import ModelsConfig
    from ..prompts import Problem, PromptRegistry, PromptVersion, RegressionPolicy
    from ..settings import Settings

app = typer.Typer(
    name="prompts",
    help="Versioned prompts: list, show, new, lock, check, diff, promote, rollback.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

_SELECTOR = re.compile(r"^(?P<name>[^@:]+)(?:@v?(?P<version>\d+)|:(?P<label>[^@:]+))?$")


def _settings() -> Settings:
    from ..settings import Settings  # noqa: PLC0415

    return Settings()


def _registry(settings: Settings) -> PromptRegistry:
    from ..prompts import PromptRegistry  # noqa: PLC0415

    return PromptRegistry.load(settings.prompts_dir)


def _models(settings: Settings) -> ModelsConfig:
    from ..gateway.config import load_models_config  # noqa: PLC0415

    return load_models_config(settings.models_file)


@app.command("list")
def list_prompts() -> None:
    """List prompts with their versions and labels."""
    registry = _registry(_settings())
    for name in registry.names():
        versions = ", ".join(f"v{v.version}" for v in registry.versions(name))
        labels = registry.labels.labels_of(name)
        shown = "  ".join(f"{label}=v{number}" for label, number in sorted(labels.items()))
        typer.echo(f"{name:<24} {versions:<20} {shown}")


@app.command()
def show(
    selector: Annotated[
        str, typer.Argument(help="NAME (latest), NAME@VERSION or NAME:LABEL.", metavar="PROMPT")
    ],
) -> None:
    """Show one prompt version: where it is, its hash, labels, and its file."""
    registry = _registry(_settings())
    version = _select(registry, selector)
    labels = [
        label
        for label, number in sorted(registry.labels.labels_of(version.name).items())
        if number == version.version
    ]
    typer.echo(f"# {version.ident}  {version.path}")
    typer.echo(f"# hash:   {version.content_hash}")
    typer.echo(f"# model:  {version.model}")
    typer.echo(f"# labels: {', '.join(labels) or '(none)'}")
    typer.echo(read_text(version.path).rstrip())


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Prompt name (snake_case).")],
    model: Annotated[
        str | None, typer.Option(help="Model alias for a brand-new prompt's v1.")
    ] = None,
) -> None:
    """Copy the latest version into the next version file, unlocked, ready to edit."""
    from ..prompts import new_version  # noqa: PLC0415

    settings = _settings()
    if model is not None:
        aliases = _models(settings).aliases
        if model not in aliases:
            raise ConfigError(
                f"--model {model}: no such alias in {settings.models_file} "
                f"(aliases: {', '.join(sorted(aliases))}); add it there first"
            )
    path = new_version(settings.prompts_dir, name, model=model)
    typer.echo(f"created {path}; edit it, review it, then `squad prompts lock`")


@app.command()
def lock() -> None:
    """Record the hash of every new version in prompts/prompts.lock."""
    from ..prompts import lock_prompts  # noqa: PLC0415

    added = lock_prompts(_settings().prompts_dir)
    if added:
        for key in added:
            typer.echo(f"locked {key}")
    else:
        typer.echo("nothing to lock: every version is already locked")


@app.command()
def check(
    base: Annotated[
        str | None,
        typer.Option(
            help="Git ref to compare with (CI: the pull request's base): fail when "
            "gated_labels no longer lists a label it listed there.",
            metavar="REF",
        ),
    ] = None,
) -> None:
    """Fail (exit 1) on any changed, missing or unlocked version, bad label or alias,
    a gated label or a running experiment's arm (config/experiments.yaml) without valid
    passing eval evidence, a labelled version whose input_schema limits differ from its
    feature's input model (the API), or (with --base) a label that stopped being gated."""
    from ..features import served_prompts  # noqa: PLC0415
    from ..prompts import (  # noqa: PLC0415
        PromptCheckError,
        check_prompts,
        input_limit_problems,
        scan_prompts,
    )
    from ..prompts.labels import label_overrides_from_env  # noqa: PLC0415

    settings = _settings()
    models = _models(settings)
    served = served_prompts(label_overrides_from_env(os.environ), input_schemas=True)
    problems = check_prompts(
        settings.prompts_dir,
        models=models,
        evidence_dir=settings.evals_dir / "evidence",
        root=settings.root,
        served=served,
    )
    problems += input_limit_problems(settings.prompts_dir, served)
    if base:
        problems += _ungated(settings, base)
    experiments, arms = _experiment_problems(settings, models)
    problems += experiments
    replayed = sorted({*_gated_versions(settings), *arms})
    problems += _unreproduced(settings, models, replayed, problems)
    if problems:
        raise PromptCheckError(problems)
    from ..prompts import read_labels  # noqa: PLC0415
    from ..prompts.check import unrecorded_notes  # noqa: PLC0415
    from ..prompts.labels import LABELS_FILE  # noqa: PLC0415

    scan = scan_prompts(settings.prompts_dir)
    labels = read_labels(settings.prompts_dir / LABELS_FILE)
    count = sum(len(versions) for versions in scan.versions.values())
    typer.echo(f"ok: {len(scan.versions)} prompts, {count} versions, all locked and labelled")
    evidence_dir = settings.evals_dir / "evidence"
    for note in unrecorded_notes(scan, labels, models=models, evidence_dir=evidence_dir):
        typer.echo(note, err=True)
    if not labels.gated_labels:
        typer.echo(
            f"note: {settings.prompts_dir / LABELS_FILE}: gated_labels is empty, so no label "
            "needs eval evidence to move; list production (and staging) there to gate them",
            err=True,
        )


def _ungated(settings: Settings, base: str) -> list[Problem]:
    """Labels gated at `base` that the working tree's labels file no longer gates."""
    from ..prompts import read_labels  # noqa: PLC0415
    from ..prompts.base import labels_at, ungated_since  # noqa: PLC0415
    from ..prompts.labels import LABELS_FILE  # noqa: PLC0415

    at_base = labels_at(settings.prompts_dir, base)
    if at_base is None:
        return []
    path = settings.prompts_dir / LABELS_FILE
    return ungated_since(path, read_labels(path), at_base, base)


def _experiment_problems(
    settings: Settings, models: ModelsConfig
) -> tuple[list[Problem], list[tuple[str, int]]]:
    """Running experiments' arms without what a promotion needs, and the arms' versions
    (their evidence is replayed like a gated label's)."""
    from ..experiments.check import (  # noqa: PLC0415
        arm_versions,
        experiment_problems,
        metric_problems,
    )
    from ..experiments.config import load_experiments  # noqa: PLC0415

    path = settings.config_dir / "experiments.yaml"
    config = load_experiments(path)
    if not config.experiments:  # a repo without the service has no file, and no extra
        return [], []
    try:
        from ..inferences import load_feedback_config  # noqa: PLC0415 - the service extra
    except ImportError:
        raise ConfigError(
            f"{display_path(path)}: experiments run in the service; install squadkit[service]"
        ) from None
    feedback = load_feedback_config(settings.config_dir / "feedback.yaml")
    problems = metric_problems(path, config, feedback) + experiment_problems(
        path,
        config,
        prompts_dir=settings.prompts_dir,
        models=models,
        evidence_dir=settings.evals_dir / "evidence",
        root=settings.root,
    )
    return problems, arm_versions(config)


def _gated_versions(settings: Settings, name: str | None = None) -> list[tuple[str, int]]:
    """The (prompt, version) pairs gated labels point at (of one prompt, with `name`)."""
    from ..prompts import read_labels  # noqa: PLC0415
    from ..prompts.labels import LABELS_FILE  # noqa: PLC0415

    return read_labels(settings.prompts_dir / LABELS_FILE).gated_versions(name)


def _unreproduced(
    settings: Settings,
    models: ModelsConfig,
    versions: list[tuple[str, int]],
    known: list[Problem],
) -> list[Problem]:
    """Evidence of `versions` that passes every other rule but does not reproduce from the
    committed recordings (`evals.verify`); evidence already in `known` is not replayed."""
    from ..prompts.evidence import evidence_path  # noqa: PLC0415

    evidence_dir = settings.evals_dir / "evidence"
    flagged = {problem.path for problem in known}
    candidates = [
        (name, number)
        for name, number in versions
        if (path := evidence_path(evidence_dir, name, number)).is_file()
        and path not in flagged
        and (settings.prompts_dir / name / f"v{number}.yaml").is_file()
    ]
    if not candidates:
        return []
    from ..evals.verify import verify_evidence  # noqa: PLC0415 - replays only on a cache miss

    return verify_evidence(settings, candidates, models=models)


@app.command()
def diff(
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    old: Annotated[int, typer.Argument(help="Older version number.")],
    new: Annotated[int, typer.Argument(help="Newer version number.")],
) -> None:
    """Show what changed between two versions: messages, schemas and params."""
    from ..prompts import diff_versions  # noqa: PLC0415

    registry = _registry(_settings())
    text = diff_versions(registry.get(name, version=old), registry.get(name, version=new))
    typer.echo(text or f"{name}: v{old} and v{new} have the same messages, schemas and params")


@app.command()
def promote(
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    version: Annotated[str, typer.Argument(help="Version to promote (3 or v3).")],
    label: Annotated[str, typer.Option("--label", "-l", help="Label to move.")],
    force: Annotated[
        bool, typer.Option(help="Promote without valid evidence (needs --reason).")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why; recorded in the label history.")] = None,
) -> None:
    """Point a label at a version; gated labels need passing eval evidence."""
    from ..prompts import promote as promote_label  # noqa: PLC0415

    settings = _settings()
    number = _version_number(version)
    policy = _regression_policy(settings, name, number)
    models = _models(settings)
    move = promote_label(
        settings.prompts_dir,
        name,
        number,
        label,
        models=models,
        evidence_dir=settings.evals_dir / "evidence",
        root=settings.root,
        force=force,
        reason=reason,
        policy=policy,
        unreproduced=_promotion_unreproduced(settings, models, name, number, label),
    )
    if move is None:
        typer.echo(f"{name}:{label} already points to v{number}")
        return
    was = "unset" if move.from_version is None else f"v{move.from_version}"
    forced = " (forced: evidence not valid or below the served version)" if move.forced else ""
    typer.echo(f"{name}:{label} -> v{number} (was {was}){forced}")
    if policy is not None and move.from_version is not None:
        _echo_comparison(settings, name, number, move.from_version, policy)


def _promotion_unreproduced(
    settings: Settings, models: ModelsConfig, name: str, number: int, label: str
) -> list[Problem]:
    """For a gated label: the candidate's evidence and that of every version the prompt's
    gated labels serve, re-derived from the recordings; what does not reproduce."""
    from ..prompts import evidence_problems, read_labels  # noqa: PLC0415
    from ..prompts.labels import LABELS_FILE  # noqa: PLC0415

    try:
        labels = read_labels(settings.prompts_dir / LABELS_FILE)
        if label not in labels.gated_labels or labels.version_for(name, label) == number:
            return []
        candidate = _registry(settings).get(name, version=number)
    except SquadError:
        return []  # promote itself says what is wrong
    static = evidence_problems(
        candidate, evidence_dir=settings.evals_dir / "evidence", models=models, root=settings.root
    )
    if static:
        return []  # promote refuses on these already; a replay would add nothing
    versions = [(name, number), *_gated_versions(settings, name)]
    return _unreproduced(settings, models, versions, [])


def _regression_policy(settings: Settings, name: str, version: int) -> RegressionPolicy | None:
    """The candidate's suite's regression scorers and margin (None without evidence/suite)."""
    from ..evals import load_suite  # noqa: PLC0415
    from ..prompts import RegressionPolicy, evidence_path, read_evidence  # noqa: PLC0415

    try:
        evidence = read_evidence(evidence_path(settings.evals_dir / "evidence", name, version))
        suite = load_suite(settings.evals_dir / f"{evidence.suite}.yaml")
    except SquadError:
        return None  # promote itself says what is missing
    if suite.spec.gate.regression is None:
        return None
    scorers = tuple(suite.spec.gate.regression_scorers())
    return RegressionPolicy(scorers=scorers, margin=suite.spec.gate.regression.margin)


def _echo_comparison(
    settings: Settings, name: str, version: int, served: int, policy: RegressionPolicy
) -> None:
    from ..prompts import compare_with_served, evidence_path, read_evidence  # noqa: PLC0415

    evidence_dir = settings.evals_dir / "evidence"
    try:
        candidate = read_evidence(evidence_path(evidence_dir, name, version))
        before = read_evidence(evidence_path(evidence_dir, name, served))
    except SquadError:
        return
    changes = compare_with_served(candidate, before, policy)
    if changes:
        typer.echo(f"  vs v{served}: " + "; ".join(str(change) for change in changes))


@app.command()
def rollback(
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    label: Annotated[str, typer.Option("--label", "-l", help="Label to move back.")],
) -> None:
    """Move a label back to where it pointed before its last promotion."""
    from ..prompts import rollback as rollback_label  # noqa: PLC0415

    move = rollback_label(_settings().prompts_dir, name, label)
    now = "unset" if move.from_version is None else f"v{move.from_version}"
    typer.echo(f"{name}:{label} -> {now} (was v{move.to_version})")


def _version_number(text: str) -> int:
    match = re.fullmatch(r"v?([1-9][0-9]*)", text.strip())
    if match is None:
        raise ConfigError(f"version '{text}' is not a version number (e.g. 3 or v3)")
    return int(match.group(1))


def _select(registry: PromptRegistry, selector: str) -> PromptVersion:
    match = _SELECTOR.match(selector.strip())
    if match is None:
        raise ConfigError(f"'{selector}' is not NAME, NAME@VERSION or NAME:LABEL")
    name = match.group("name")
    if match.group("version"):
        return registry.get(name, version=int(match.group("version")))
    if match.group("label"):
        return registry.get(name, label=match.group("label"))
    return registry.latest(name)

"""`squad harvest` and `squad review`: production answers into the eval dataset, by review.

A thin shell over `squadkit.harvest`: harvest writes `evals/review/<suite>.jsonl`; review
lists it, accepts/edits/rejects one candidate, writes the static review page, or applies
the decisions file that page downloads. Every problem is one line (exit 2).
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..evals.suite import Suite
    from ..harvest import Candidate, Decision
    from ..settings import Settings

SuiteArg = Annotated[str, typer.Argument(help="The suite (evals/<suite>.yaml) to grow.")]


def _suite(settings: Settings, name: str) -> Suite:
    from ..evals.suite import load_suite, resolve_suite  # noqa: PLC0415

    return load_suite(resolve_suite(settings.evals_dir, name), settings.evals_dir)


def _since(value: str | None) -> datetime | None:
    """`7d`, `12h` (before now) or an ISO 8601 date or time (UTC unless it says)."""
    if value is None:
        return None
    relative = re.fullmatch(r"(\d+)([dh])", value.strip())
    if relative:
        amount = int(relative.group(1))
        delta = timedelta(days=amount) if relative.group(2) == "d" else timedelta(hours=amount)
        return datetime.now(UTC) - delta
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"--since {value!r}: not a date; give 7d, 12h, 2026-12-01 or 2026-12-01T08:00"
        ) from None
    # The log's times are UTC (SQLite keeps them without an offset): compare in UTC.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _thresholds(values: list[str] | None) -> dict[str, float]:
    found: dict[str, float] = {}
    for value in values or []:
        name, _, number = value.partition("=")
        try:
            found[name.strip()] = float(number)
        except ValueError:
            raise ConfigError(
                f"--below {value!r}: give METRIC=NUMBER (e.g. --below rating=3)"
            ) from None
    return found


def harvest(
    suite_name: SuiteArg,
    *,
    since: Annotated[
        str | None, typer.Option("--since", help="Only inferences since: 7d, 12h or a date.")
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            min=1,
            help="Most flagged candidates (feedback first); --sample adds to them.",
        ),
    ] = 200,
    sample: Annotated[
        int,
        typer.Option("--sample", min=0, help="Random inferences added per prompt version."),
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random sample.")] = 0,
    min_score: Annotated[
        float,
        typer.Option("--min-score", help="An online score below this picks an inference."),
    ] = 0.5,
    below: Annotated[
        list[str] | None,
        typer.Option(
            "--below",
            help="METRIC=NUMBER: a number feedback below it is negative (default: the "
            "middle of the metric's range in config/feedback.yaml). Repeatable.",
        ),
    ] = None,
) -> None:
    """Pick production answers worth reviewing into evals/review/<suite>.jsonl."""
    from ..files import display_path  # noqa: PLC0415
    from ..harvest import (  # noqa: PLC0415
        HarvestOptions,
        dataset_known,
        select_candidates,
        write_candidates,
    )
    from ..inferences import (  # noqa: PLC0415
        InferenceStore,
        default_sqlite_url,
        load_feedback_config,
    )
    from ..settings import Settings  # noqa: PLC0415

    settings = Settings()
    suite = _suite(settings, suite_name)
    options = HarvestOptions(
        feature=suite.spec.target.subject,
        since=_since(since),
        limit=limit,
        sample=sample,
        seed=seed,
        min_score=min_score,
        below=_thresholds(below),
    )
    known, _ = dataset_known(suite)
    config = load_feedback_config(settings.config_dir / "feedback.yaml")
    store = InferenceStore(settings.inference_log_url or default_sqlite_url(settings.root))
    try:
        result = select_candidates(store, config, known, options)
    finally:
        store.dispose()
    path = write_candidates(suite, result.candidates)
    reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(result.picked.items()))
    typer.echo(
        f"harvest {suite.name}: {len(result.candidates)} candidate(s) from {result.scanned} "
        f"inference(s) of '{options.feature}' ({reasons or 'none picked'}); skipped: "
        f"{result.in_dataset} already in the dataset, {result.rejected_before} rejected "
        f"before, {result.duplicates} duplicate(s), {result.without_content} without "
        f"content, {result.over_limit} over --limit"
        + (f", {result.unreadable} not JSON after redaction" if result.unreadable else "")
        + f" -> {display_path(path)}"
    )


def review(
    suite_name: SuiteArg,
    *,
    accept: Annotated[
        str | None, typer.Option("--accept", help="Accept this inference (id or prefix).")
    ] = None,
    edit: Annotated[
        str | None,
        typer.Option("--edit", help="Accept this inference with --expected/--expected-file."),
    ] = None,
    reject: Annotated[
        str | None, typer.Option("--reject", help="Reject this inference (never offered again).")
    ] = None,
    expected: Annotated[
        str | None, typer.Option("--expected", help="The expected answer, a JSON object.")
    ] = None,
    expected_file: Annotated[
        Path | None, typer.Option("--expected-file", help="The expected answer, from a file.")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the static review page here.")
    ] = None,
    apply: Annotated[
        Path | None,
        typer.Option("--apply", help="Apply a decisions file the review page downloaded."),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who reviewed (recorded in the dataset).")
    ] = None,
) -> None:
    """List the candidates of a harvest, decide on them, or write the review page."""
    from ..files import atomic_write, display_path  # noqa: PLC0415
    from ..harvest import (  # noqa: PLC0415
        apply_decisions,
        read_candidates,
        read_decisions,
        review_page,
        review_path,
    )
    from ..settings import Settings  # noqa: PLC0415

    given = {"--accept": accept, "--edit": edit, "--reject": reject, "--html": html}
    actions = [name for name, value in (given | {"--apply": apply}).items() if value is not None]
    if len(actions) > 1:
        raise ConfigError(f"{' and '.join(actions)}: give one of them at a time")
    answer = "--expected" if expected is not None else "--expected-file"
    if (expected is not None or expected_file is not None) and not (accept or edit):
        raise ConfigError(f"{answer}: goes with --edit ID (or --accept ID)")
    settings = Settings()
    suite = _suite(settings, suite_name)
    candidates = read_candidates(suite)
    if html is not None:
        page = review_page(suite.name, candidates)
        try:
            atomic_write(_page_path(html, settings), page)
        except OSError as error:
            raise ConfigError(
                f"--html {html}: cannot write the page there ({error.strerror or error}); "
                "choose a writable path"
            ) from None
        typer.echo(f"review page of {len(candidates)} candidate(s) -> {display_path(html)}")
        return
    if not actions:
        _list(candidates, display_path(review_path(suite)))
        return
    if not by or not by.strip():
        raise ConfigError(f"{actions[0]}: say who reviewed with --by NAME (kept in the dataset)")
    if apply is not None:
        decisions, source = read_decisions(apply, suite), display_path(apply)
    else:
        one = _one(
            candidates,
            accept=accept,
            edit=edit,
            reject=reject,
            expected=expected,
            expected_file=expected_file,
        )
        decisions, source = [one], actions[0]
    applied = apply_decisions(
        suite, decisions, by=by.strip(), today=datetime.now(UTC).date(), source=source
    )
    typer.echo(
        f"review {suite.name}: {len(applied.accepted)} case(s) added to "
        f"{display_path(suite.dataset_path)}, {applied.rejected} rejected, "
        f"{applied.already_in_dataset} already in the dataset; the suite's evidence is "
        "stale until the gate runs again (docs/evals.md, 'Harvesting production cases')"
        if applied.accepted
        else f"review {suite.name}: no case added, {applied.rejected} rejected, "
        f"{applied.already_in_dataset} already in the dataset"
    )


def _page_path(html: Path, settings: Settings) -> Path:
    """`html`, refused inside `prompts/`, `evals/` or `config/`: the page holds production
    content, and the data folders hold what the team reviews and commits."""
    where = Path(os.path.abspath(html))
    for folder in (settings.prompts_dir, settings.evals_dir, settings.config_dir):
        data = Path(os.path.abspath(folder))
        if where.is_relative_to(data) or where.resolve().is_relative_to(data.resolve()):
            raise ConfigError(
                f"--html {html}: inside the squad's data folder {folder.name}/; the page holds "
                "production content: write it elsewhere (e.g. reports/review.html)"
            )
    return html


def _list(candidates: list[Candidate], where: str) -> None:
    if not candidates:
        typer.echo(f"no candidate waits in {where}; run `squad harvest SUITE` first")
        return
    for candidate in candidates:
        version = f"{candidate.prompt}@v{candidate.prompt_version}"
        typer.echo(
            f"{candidate.inference_id}  {version}  {','.join(candidate.reasons)}  "
            f"expected={json.dumps(candidate.proposed_expected, ensure_ascii=False)}"
        )


def _one(
    candidates: list[Candidate],
    *,
    accept: str | None,
    edit: str | None,
    reject: str | None,
    expected: str | None,
    expected_file: Path | None,
) -> Decision:
    """The decision of `--accept`, `--edit` or `--reject` on one candidate."""
    from ..files import display_path, read_text  # noqa: PLC0415
    from ..harvest import Decision  # noqa: PLC0415

    given = accept or edit or reject or ""
    matches = [c for c in candidates if c.inference_id.startswith(given)]
    if len(matches) != 1:
        what = "no candidate" if not matches else f"{len(matches)} candidates"
        raise ConfigError(
            f"inference {given!r}: {what} in the review file match; `squad review SUITE` lists them"
        )
    inference_id = matches[0].inference_id
    if reject is not None:
        return Decision(inference_id=inference_id, decision="reject")
    if expected is not None and expected_file is not None:
        raise ConfigError("--expected and --expected-file: give one of them")
    text, where = expected, "--expected"
    if expected_file is not None:
        try:
            text, where = read_text(expected_file), display_path(expected_file)
        except FileNotFoundError:
            raise ConfigError(f"--expected-file {expected_file}: not found") from None
    if text is None:
        if edit is not None:
            raise ConfigError("--edit: give the expected answer with --expected or --expected-file")
        return Decision(inference_id=inference_id, decision="accept")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"{where}: not valid JSON ({error.msg} at column {error.colno})"
        ) from None
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: the expected answer must be a JSON object")
    return Decision(inference_id=inference_id, decision="edit", expected=value)

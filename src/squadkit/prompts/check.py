"""`squad prompts check` and `squad prompts lock`: the registry's rules, one problem per line.

Rules: every version file is valid; every locked file is unchanged and present; every
version is locked; every label points at an existing version; every label a feature is
served at points at a version (an empty or truncated `labels.yaml` must not pass while the
service cannot answer); every model alias exists in `config/models.yaml`; every gated label
points at a version with valid passing evidence; and (`input_limit_problems`) every labelled
version of a feature's prompt limits its inputs exactly as the feature's input model, the
API's request, does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..files import read_text, serialised_in_folder
from ..yaml_lines import line_in_text
from .errors import Problem, PromptCheckError
from .evidence import awaiting_first_recording, evidence_problems
from .hashing import file_hash
from .input_limits import limit_differences
from .labels import LABELS_FILE, LabelsFile, read_labels
from .lock import LOCK_FILE, lock_key, read_lock, write_lock
from .registry import PromptScan, scan_prompts

if TYPE_CHECKING:
    from ..gateway.config import ModelsConfig


@dataclass(frozen=True)
class ServedPrompt:
    """A prompt a feature renders and the label a process serves it at (production, or a pin).

    `input_schema` is the JSON schema of the feature's input model (its API request), when
    the caller asked for it (`served_prompts(..., input_schemas=True)`)."""

    feature: str
    prompt: str
    label: str
    input_schema: Mapping[str, Any] | None = field(default=None, compare=False)


def check_prompts(
    prompts_dir: Path,
    *,
    models: ModelsConfig,
    evidence_dir: Path,
    root: Path,
    served: Sequence[ServedPrompt] = (),
) -> list[Problem]:
    """Every problem in the prompts folder; an empty list means the check passes.

    Evidence is not required of a prompt awaiting its first recording with a provider key
    (`awaiting_first_recording`); `unrecorded_notes` says which. `served` are the squad's
    features' prompts at the labels the service asks for: each must resolve to a version.
    """
    scan = scan_prompts(prompts_dir)
    lock = read_lock(prompts_dir / LOCK_FILE)
    labels_path = prompts_dir / LABELS_FILE
    labels = read_labels(labels_path)
    label_problems, gated = _label_problems(scan, labels, labels_path)
    return [
        *scan.problems,
        *_lock_problems(scan, lock, prompts_dir),
        *label_problems,
        *_served_problems(scan, labels, labels_path, served),
        *_alias_problems(scan, models),
        *_evidence_problems(scan, gated, models, evidence_dir, root),
    ]


def unrecorded_notes(
    scan: PromptScan, labels: LabelsFile, *, models: ModelsConfig, evidence_dir: Path
) -> list[str]:
    """One note per prompt whose gated labels wait for a first recording with a key."""
    gated = [
        scan.versions[name][number]
        for name, number in labels.gated_versions()
        if number in scan.versions.get(name, {})
    ]
    found = (awaiting_first_recording(v, evidence_dir=evidence_dir, models=models) for v in gated)
    return sorted({note for note in found if note})


def _lock_problems(scan: PromptScan, lock: dict[str, str], prompts_dir: Path) -> list[Problem]:
    problems = []
    for key, locked_hash in sorted(lock.items()):
        path = prompts_dir / key
        if not path.is_file():
            problems.append(
                Problem(
                    path,
                    "locked version is missing; restore it from git (released versions are "
                    f"kept), or delete its line from {LOCK_FILE} if removal is deliberate",
                )
            )
        elif (current := file_hash(path)) != locked_hash:
            name = key.partition("/")[0]
            problems.append(
                Problem(
                    path,
                    f"changed since it was locked ({locked_hash[:15]}... locked, "
                    f"{current[:15]}... now); locked versions are immutable: restore it "
                    f"and put the change in a new version (`squad prompts new {name}`)",
                )
            )
    problems.extend(
        Problem(path, "version is not locked; once reviewed, run `squad prompts lock`")
        for key, path in sorted(scan.files.items())
        if key not in lock
    )
    return problems


def _label_problems(
    scan: PromptScan, labels: LabelsFile, labels_path: Path
) -> tuple[list[Problem], dict[tuple[str, int], list[str]]]:
    """Labels pointing nowhere, and which existing versions gated labels point at."""
    problems = []
    gated: dict[tuple[str, int], list[str]] = {}
    text = read_text(labels_path) if labels_path.is_file() else ""
    for name, by_label in sorted(labels.labels.items()):
        known = any(key.startswith(f"{name}/") for key in scan.files)
        for label, number in sorted(by_label.items()):
            if not known:
                problems.append(
                    Problem(
                        labels_path,
                        f"label {name}:{label} names an unknown prompt",
                        line_in_text(text, ("labels", name, label)),
                    )
                )
            elif lock_key(name, number) not in scan.files:
                problems.append(
                    Problem(
                        labels_path,
                        f"label {name}:{label} points to v{number}, which does not exist",
                        line_in_text(text, ("labels", name, label)),
                    )
                )
            elif label in labels.gated_labels and number in scan.versions.get(name, {}):
                gated.setdefault((name, number), []).append(label)
    return problems, gated


def _served_problems(
    scan: PromptScan, labels: LabelsFile, labels_path: Path, served: Sequence[ServedPrompt]
) -> list[Problem]:
    """A feature whose prompt, at the label it is served at, resolves to no version."""
    problems = []
    for need in served:
        if need.prompt not in scan.versions and not any(
            key.startswith(f"{need.prompt}/") for key in scan.files
        ):
            problems.append(
                Problem(
                    labels_path.parent / need.prompt,
                    f"feature '{need.feature}' renders prompt '{need.prompt}', which has no "
                    f"version; add one (`squad prompts new {need.prompt}`)",
                )
            )
        elif labels.version_for(need.prompt, need.label) is None:
            problems.append(
                Problem(
                    labels_path,
                    f"feature '{need.feature}' is served at {need.prompt}:{need.label}, but no "
                    f"version has that label, so every request would fail; point it at a "
                    f"version (`squad prompts promote {need.prompt} N --label {need.label}`)",
                )
            )
    return problems


def input_limit_problems(prompts_dir: Path, served: Sequence[ServedPrompt]) -> list[Problem]:
    """Each labelled version of a feature's prompt whose `input_schema` limits its inputs
    otherwise than the feature's input model (the API's request) does (`input_limits`).

    Every version a label points at can be served (`X-Prompt-Label`, pins), so each is
    compared; unlabelled drafts are not, until a label moves to them."""
    scan = scan_prompts(prompts_dir)
    labels = read_labels(prompts_dir / LABELS_FILE)
    problems = []
    for need in served:
        if need.input_schema is None:
            continue
        for label, number in sorted(labels.labels_of(need.prompt).items()):
            version = scan.versions.get(need.prompt, {}).get(number)
            if version is None or version.input_schema is None:
                continue  # reported by the label rules / a prompt that limits nothing
            differences = limit_differences(need.input_schema, version.input_schema)
            if differences:
                problems.append(
                    Problem(
                        version.path,
                        f"input_schema (served as {need.prompt}:{label}) differs from the "
                        f"input model of feature '{need.feature}', the API's request: "
                        f"{'; '.join(differences)}; make the feature's model equal to it (or "
                        f"put the new limits in a new version, `squad prompts new {need.prompt}`)",
                        line_in_text(read_text(version.path), ("input_schema",)),
                    )
                )
    return problems


def _alias_problems(scan: PromptScan, models: ModelsConfig) -> list[Problem]:
    known = ", ".join(sorted(models.aliases))
    return [
        Problem(
            version.path,
            f"model alias '{version.model}' is not defined in "
            f"{models.source or 'config/models.yaml'} (aliases: {known})",
            line_in_text(read_text(version.path), ("model",)),
        )
        for versions in scan.versions.values()
        for version in versions.values()
        if version.model not in models.aliases
    ]


def _evidence_problems(
    scan: PromptScan,
    gated: dict[tuple[str, int], list[str]],
    models: ModelsConfig,
    evidence_dir: Path,
    root: Path,
) -> list[Problem]:
    problems: list[Problem] = []
    for (name, number), labels in sorted(gated.items()):
        version = scan.versions[name][number]
        if awaiting_first_recording(version, evidence_dir=evidence_dir, models=models):
            continue
        needs = (
            f"gated label {name}:{labels[0]} needs it"
            if len(labels) == 1
            else f"gated labels {', '.join(f'{name}:{label}' for label in labels)} need it"
        )
        problems.extend(
            Problem(problem.path, f"{problem.message} ({needs})", problem.line)
            for problem in evidence_problems(
                version, evidence_dir=evidence_dir, models=models, root=root
            )
        )
    return problems


@serialised_in_folder
def lock_prompts(prompts_dir: Path) -> list[str]:
    """Lock every valid, unlocked version; returns the lock keys added.

    Refuses (exit 1) while a locked file is changed or missing: locking must never bless an
    edit to a released version. Refuses (exit 2) while a version file is invalid.
    """
    scan = scan_prompts(prompts_dir)
    if scan.problems:
        raise PromptCheckError(scan.problems)
    lock_path = prompts_dir / LOCK_FILE
    lock = read_lock(lock_path)
    tampered = [
        Problem(
            prompts_dir / key,
            "locked version is missing or changed; restore it before locking new versions",
        )
        for key, locked_hash in sorted(lock.items())
        if key not in scan.files or file_hash(scan.files[key]) != locked_hash
    ]
    if tampered:
        raise PromptCheckError(tampered)
    added = [key for key in sorted(scan.files) if key not in lock]
    if added or not lock_path.exists():
        for key in added:
            lock[key] = file_hash(scan.files[key])
        write_lock(lock_path, lock)
    return added

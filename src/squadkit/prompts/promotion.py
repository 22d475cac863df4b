"""Moving labels: `promote` (gated by eval evidence) and `rollback` (one step back).

Both rewrite `prompts/labels.yaml` and keep its history as a stack: promote pushes a move,
rollback pops the last move of that label and restores where it pointed before.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .errors import PromotionRefused, PromptFileError, PromptNotFound
from .evidence import evidence_problems
from .hashing import file_hash
from .labels import LABEL_PATTERN, LABELS_FILE, LabelMove, LabelsFile, read_labels, write_labels
from .lock import LOCK_FILE, lock_key, read_lock
from .registry import scan_prompts

if TYPE_CHECKING:
    from ..gateway.config import ModelsConfig


def promote(
    prompts_dir: Path,
    name: str,
    version: int,
    label: str,
    *,
    models: ModelsConfig,
    evidence_dir: Path,
    root: Path,
    force: bool = False,
    reason: str | None = None,
    now: datetime | None = None,
) -> LabelMove | None:
    """Point `name:label` at `version`; returns the recorded move (None if already there).

    The version must be locked. A gated label also needs valid passing evidence, unless
    `force` is given with a `reason`, both recorded in the history.
    """
    if force and not (reason and reason.strip()):
        raise ConfigError('--force needs --reason "why"; the reason is kept in labels.yaml')
    if not re.match(LABEL_PATTERN, label):
        raise ConfigError(f"label '{label}' must be lowercase letters, digits, '-' or '_'")
    scan = scan_prompts(prompts_dir)
    key = lock_key(name, version)
    path = scan.files.get(key)
    if path is None:
        have = sorted(k for k in scan.files if k.startswith(f"{name}/"))
        raise PromptNotFound(
            f"{prompts_dir / key}: no such prompt version"
            + (f" (have: {', '.join(have)})" if have else f"; no prompt named '{name}'")
        )
    target = scan.versions.get(name, {}).get(version)
    if target is None:
        problem = next(p for p in scan.problems if p.path == path)
        raise PromptFileError(problem)
    lock = read_lock(prompts_dir / LOCK_FILE)
    if lock.get(key) != file_hash(path):
        state = "is not locked" if key not in lock else "changed since it was locked"
        raise PromotionRefused(
            f"{path}: {name}@v{version} {state}; only locked versions can be promoted "
            "(review it, then `squad prompts lock`)"
        )
    labels_path = prompts_dir / LABELS_FILE
    labels = read_labels(labels_path)
    current = labels.version_for(name, label)
    if current == version:
        return None
    forced = False
    if label in labels.gated_labels:
        problems = evidence_problems(target, evidence_dir=evidence_dir, models=models, root=root)
        if problems and not force:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise PromotionRefused(
                f"{problems[0]}{more}; refusing to point gated label {name}:{label} at "
                f'v{version} (override with --force --reason "...")'
            )
        forced = bool(problems)
    move = LabelMove(
        prompt=name,
        label=label,
        from_version=current,
        to_version=version,
        at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        forced=forced,
        reason=reason.strip() if reason else None,
    )
    by_label = labels.labels_of(name) | {label: version}
    write_labels(
        labels_path,
        LabelsFile(
            gated_labels=labels.gated_labels,
            labels=labels.labels | {name: by_label},
            history=[*labels.history, move],
        ),
    )
    return move


def rollback(prompts_dir: Path, name: str, label: str) -> LabelMove:
    """Undo the last recorded move of `name:label`; returns the move undone."""
    labels_path = prompts_dir / LABELS_FILE
    labels = read_labels(labels_path)
    index = next(
        (
            i
            for i in range(len(labels.history) - 1, -1, -1)
            if (labels.history[i].prompt, labels.history[i].label) == (name, label)
        ),
        None,
    )
    if index is None:
        raise ConfigError(
            f"{labels_path}: no recorded move of {name}:{label} to roll back; "
            "point the label at a version with `squad prompts promote`"
        )
    move = labels.history[index]
    current = labels.version_for(name, label)
    if current != move.to_version:
        raise ConfigError(
            f"{labels_path}: {name}:{label} is {_v(current)} but its last recorded move was "
            f"to v{move.to_version} (edited by hand?); set it with `squad prompts promote`"
        )
    by_label = labels.labels_of(name)
    if move.from_version is None:
        del by_label[label]
    else:
        by_label[label] = move.from_version
    history = [m for i, m in enumerate(labels.history) if i != index]
    write_labels(
        labels_path,
        LabelsFile(
            gated_labels=labels.gated_labels,
            labels=labels.labels | {name: by_label},
            history=history,
        ),
    )
    return move


def _v(number: int | None) -> str:
    return "unset" if number is None else f"v{number}"

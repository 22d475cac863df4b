"""Moving labels: `promote` (gated by eval evidence) and `rollback` (one step back).

Both rewrite `prompts/labels.yaml` and keep its history as a stack: promote pushes a move,
rollback pops the last move of that label and restores where it pointed before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..files import serialised_in_folder
from .errors import Problem, PromotionRefused, PromptFileError, PromptNotFound
from .evidence import Evidence, evidence_path, evidence_problems, read_evidence
from .hashing import file_hash
from .labels import (
    LABEL_MAX_LENGTH,
    LABELS_FILE,
    LabelMove,
    LabelsFile,
    is_label,
    read_labels,
    write_labels,
)
from .lock import LOCK_FILE, lock_key, read_lock
from .registry import scan_prompts

if TYPE_CHECKING:
    from ..gateway.config import ModelsConfig


@dataclass(frozen=True)
class RegressionPolicy:
    """What `promote` compares between a candidate and the version its label serves now:
    the suite's regression scorers and margin (the CLI reads them from the suite)."""

    scorers: tuple[str, ...]
    margin: float


@dataclass(frozen=True)
class ScoreChange:
    scorer: str
    served: float
    candidate: float
    margin: float

    @property
    def regressed(self) -> bool:
        return self.candidate - self.served < -self.margin - 1e-12

    def __str__(self) -> str:
        change = self.candidate - self.served
        return f"{self.scorer} {self.candidate:.3f} vs {self.served:.3f} ({change:+.3f})"


def compare_with_served(
    candidate: Evidence, served: Evidence, policy: RegressionPolicy
) -> list[ScoreChange]:
    """Each policy scorer's mean in both evidence files (both made on the same dataset)."""
    changes = []
    for scorer in policy.scorers:
        old = served.scores.get(scorer, {}).get("mean")
        new = candidate.scores.get(scorer, {}).get("mean")
        if isinstance(old, int | float) and isinstance(new, int | float):
            changes.append(ScoreChange(scorer, float(old), float(new), policy.margin))
    return changes


def _regression_against_served(
    evidence_dir: Path,
    name: str,
    label: str,
    *,
    current: int,
    version: int,
    policy: RegressionPolicy,
) -> str | None:
    """Why promoting `version` over the served `current` is refused, or None."""
    candidate = read_evidence(evidence_path(evidence_dir, name, version))
    served_path = evidence_path(evidence_dir, name, current)
    if not served_path.is_file():
        return (
            f"{served_path}: no evidence for v{current}, which {name}:{label} serves now, so "
            f"v{version} cannot be compared with it; gate it with "
            f"`squad eval gate {candidate.suite} --version {current}`"
        )
    served = read_evidence(served_path)
    if served.dataset_hash != candidate.dataset_hash:
        return (
            f"{served_path}: evidence of v{current} was made on another version of "
            f"{served.dataset}; gate it again (`squad eval gate {candidate.suite} --version "
            f"{current}`) to compare it with v{version}"
        )
    drops = [str(c) for c in compare_with_served(candidate, served, policy) if c.regressed]
    if not drops:
        return None
    return (
        f"{name}@v{version} scores below v{current}, which {name}:{label} serves now, by more "
        f"than the suite's margin {policy.margin}: {'; '.join(drops)}"
    )


@serialised_in_folder
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
    policy: RegressionPolicy | None = None,
    unreproduced: Sequence[Problem] = (),
) -> LabelMove | None:
    """Point `name:label` at `version`; returns the recorded move (None if already there).

    The version must be locked. A gated label also needs valid passing evidence and, with a
    `policy`, evidence that scores no lower than the version the label serves now by more
    than the policy's margin, unless `force` is given with a `reason` (both recorded).
    `unreproduced` are the evidence files the caller re-derived from the recordings and
    found not to reproduce (`squadkit.evals.verify`; this layer cannot replay): for a gated
    label they refuse the move like invalid evidence.
    """
    if force and not (reason and reason.strip()):
        raise ConfigError('--force needs --reason "why"; the reason is kept in labels.yaml')
    if not is_label(label):
        raise ConfigError(
            f"label '{label}' must start with a lowercase letter, then lowercase letters, "
            f"digits, '-' or '_', at most {LABEL_MAX_LENGTH} in all"
        )
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
        problems = problems or list(unreproduced)
        if problems and not force:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise PromotionRefused(
                f"{problems[0]}{more}; refusing to point gated label {name}:{label} at "
                f'v{version} (override with --force --reason "...")'
            )
        refused = None
        if not problems and policy is not None and current is not None:
            refused = _regression_against_served(
                evidence_dir, name, label, current=current, version=version, policy=policy
            )
            if refused and not force:
                raise PromotionRefused(f'{refused}; override with --force --reason "..."')
        forced = bool(problems) or refused is not None
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


@serialised_in_folder
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

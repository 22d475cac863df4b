"""The prompt registry: every version of every prompt under `prompts/`, and their labels.

`PromptRegistry.load(prompts_dir)` reads the folder (cached per file), and
`registry.get("triage", label="production")` returns the `PromptVersion` that label serves.
A process can pin a label per prompt with `SQUAD_PROMPT_LABEL__<NAME>=<label>` (canaries):
every request for that prompt's labels then gets the pinned label's version.

An online experiment (`squadkit.experiments`) serves an arm's version at a label for one
request: the service sets `assigned_versions` around the feature's call, and `get` returns
the assigned version for that prompt and label, so the squad's feature code is unchanged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from ..files import display_path
from .errors import Problem, PromptFileError, PromptNotFound
from .labels import LABEL_ENV_PREFIX, LABELS_FILE, LabelsFile, label_overrides_from_env, read_labels
from .loader import VERSION_FILE, ValidatedCache, load_version_file
from .lock import LOCK_FILE, lock_key
from .version import PROMPT_NAME_PATTERN, PromptVersion

DEFAULT_LABEL = "production"
_NAME = re.compile(PROMPT_NAME_PATTERN)

assigned_versions: ContextVar[Mapping[tuple[str, str], PromptVersion] | None] = ContextVar(
    "squad_assigned_versions", default=None
)
"""(prompt, label) -> the version an experiment serves there for the request being served."""


@dataclass
class PromptScan:
    """What is on disk: valid versions, every version file (valid or not), and problems."""

    versions: dict[str, dict[int, PromptVersion]] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)  # lock key -> path
    problems: list[Problem] = field(default_factory=list)


def _outside(path: Path, inside: Path) -> bool:
    """A symlink (or one on the way) that leads out of `prompts/`: locked and loaded, its
    target could change outside the review that the lock stands for."""
    return not path.resolve().is_relative_to(inside)


def _symlink_out(path: Path) -> Problem:
    return Problem(
        path,
        "is a symlink that leads out of prompts/; copy the file in (prompts are reviewed "
        "and locked where they live)",
        kind="invalid",
    )


def scan_prompts(prompts_dir: Path) -> PromptScan:
    """Read every `prompts/<name>/v<N>.yaml`; unusable files become problems, not exceptions."""
    if not prompts_dir.is_dir():
        raise PromptNotFound(
            f"{prompts_dir}: prompts folder not found; run from the repository root "
            "or set SQUAD_ROOT"
        )
    scan = PromptScan()
    validated = ValidatedCache(prompts_dir)
    inside = prompts_dir.resolve()
    for folder in sorted(prompts_dir.iterdir()):
        if not folder.is_dir() or folder.name.startswith((".", "_")):
            continue
        if _outside(folder, inside):
            scan.problems.append(_symlink_out(folder))
            continue
        if folder.suffix in (".yaml", ".yml", ".lock"):  # labels.yaml or the lock as a folder
            scan.problems.append(
                Problem(
                    folder,
                    "a folder where a file belongs: prompts/ holds labels.yaml and "
                    "prompts.lock as files, and one folder per prompt",
                    kind="invalid",
                )
            )
            continue
        if not _NAME.match(folder.name):
            scan.problems.append(
                Problem(
                    folder,
                    "prompt folder names must be lowercase snake_case (letters, digits, '_')",
                    kind="invalid",
                )
            )
            continue
        found: dict[int, PromptVersion] = {}
        for path in sorted(folder.glob("*.y*ml")):
            match = VERSION_FILE.match(path.name)
            if match is None:
                scan.problems.append(
                    Problem(
                        path,
                        "prompt version files must be named v<N>.yaml (v1.yaml, v2.yaml, ...)",
                        kind="invalid",
                    )
                )
                continue
            if _outside(path, inside):
                scan.problems.append(_symlink_out(path))
                continue
            number = int(match.group(1))
            scan.files[lock_key(folder.name, number)] = path
            result = load_version_file(path, validated)
            if isinstance(result, Problem):
                scan.problems.append(result)
            else:
                found[number] = result
        if found:
            scan.versions[folder.name] = dict(sorted(found.items()))
    validated.save()
    return scan


class PromptRegistry:
    """Read-only view of the prompts folder: versions by name, and labels."""

    def __init__(
        self,
        prompts_dir: Path,
        versions: dict[str, dict[int, PromptVersion]],
        labels: LabelsFile,
        label_overrides: Mapping[str, str],
    ) -> None:
        self.prompts_dir = prompts_dir
        self._versions = versions
        self.labels = labels
        self.label_overrides = dict(label_overrides)
        # The version each label served, kept: a request's `get` then reuses one object
        # and what it caches (the input validator), instead of a new copy per call.
        self._served: dict[tuple[str, int, str], PromptVersion] = {}

    @classmethod
    def load(
        cls, prompts_dir: Path, *, label_overrides: Mapping[str, str] | None = None
    ) -> PromptRegistry:
        """Load and validate every version; the first unusable file is a `PromptFileError`.

        `label_overrides` (prompt -> label) default to the `SQUAD_PROMPT_LABEL__<NAME>`
        environment variables.
        """
        scan = scan_prompts(prompts_dir)
        if scan.problems:
            first = scan.problems[0]
            more = len(scan.problems) - 1
            suffix = f" (and {more} more: run `squad prompts check`)" if more else ""
            raise PromptFileError(
                Problem(first.path, first.message + suffix, line=first.line, kind="invalid")
            )
        labels = read_labels(prompts_dir / LABELS_FILE)
        if label_overrides is None:
            label_overrides = label_overrides_from_env(os.environ)
        return cls(prompts_dir, scan.versions, labels, label_overrides)

    @property
    def lock_path(self) -> Path:
        return self.prompts_dir / LOCK_FILE

    @property
    def labels_path(self) -> Path:
        return self.prompts_dir / LABELS_FILE

    def names(self) -> list[str]:
        return sorted(self._versions)

    def versions(self, name: str) -> list[PromptVersion]:
        """Every version of `name`, oldest first."""
        return list(self._known(name).values())

    def latest(self, name: str) -> PromptVersion:
        return self.versions(name)[-1]

    def get(
        self, name: str, *, label: str | None = None, version: int | None = None
    ) -> PromptVersion:
        """The version a label serves (default `production`) or an exact version."""
        if label is not None and version is not None:
            raise ValueError("pass either label= or version=, not both")
        versions = self._known(name)
        if version is not None:
            if version not in versions:
                raise PromptNotFound(
                    f"{self.prompts_dir / name}: {name} has no v{version} "
                    f"(versions: {_list(versions)})"
                )
            return versions[version]
        requested = label or DEFAULT_LABEL
        served = self.label_overrides.get(name, requested)
        assigned = assigned_versions.get()
        if assigned is not None and (found := assigned.get((name, served))) is not None:
            return found
        number = self.labels.version_for(name, served)
        if number is not None and (kept := self._served.get((name, number, served))) is not None:
            return kept  # the checks below let it through before
        pinned = (
            f" (pinned by {LABEL_ENV_PREFIX}{name.upper()})" if name in self.label_overrides else ""
        )
        if number is None:
            known = ", ".join(sorted(self.labels.labels_of(name))) or "(none)"
            raise PromptNotFound(
                f"{display_path(self.labels_path)}: {name} has no label '{served}'{pinned}; "
                f"labels: {known}"
            )
        if number not in versions:
            raise PromptNotFound(
                f"{display_path(self.labels_path)}: label {name}:{served}{pinned} points to "
                f"v{number}, "
                f"which does not exist (versions: {_list(versions)})"
            )
        served_version = versions[number].with_label(served)
        self._served[(name, number, served)] = served_version
        return served_version

    def pin_problems(self) -> list[str]:
        """One line per `SQUAD_PROMPT_LABEL__<NAME>` pin this registry cannot serve.

        Commands that read the pins refuse to start on the first (exit 2); the service's
        `/readyz` reports them, so a process started another way is not ready.
        """
        problems = []
        for name, label in sorted(self.label_overrides.items()):
            variable = f"{LABEL_ENV_PREFIX}{name.upper()}={label}"
            if name not in self._versions:
                problems.append(
                    f"{variable}: no prompt '{name}' in {self.prompts_dir} "
                    f"(prompts: {', '.join(self.names()) or '(none)'}); unset it or fix the name"
                )
                continue
            number = self.labels.version_for(name, label)
            if number is None or number not in self._versions[name]:
                known = ", ".join(sorted(self.labels.labels_of(name))) or "(none)"
                problems.append(
                    f"{variable}: {name} has no label '{label}' in {self.labels_path} "
                    f"(labels: {known}); unset it or promote a version to '{label}'"
                )
        return problems

    def _known(self, name: str) -> dict[int, PromptVersion]:
        try:
            return self._versions[name]
        except KeyError:
            known = ", ".join(self.names()) or "(none)"
            raise PromptNotFound(
                f"{self.prompts_dir}: unknown prompt '{name}'; prompts: {known}"
            ) from None


def _list(versions: Mapping[int, object]) -> str:
    return ", ".join(f"v{number}" for number in versions) or "(none)"

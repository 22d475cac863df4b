"""`prompts/labels.yaml`: which version each label of each prompt serves, and its history.

Code asks for a label (`production`, `staging`, any label a team adds), never a version, so
promotion and rollback are a one-line change to this file, made by `squad prompts promote`
and `squad prompts rollback`. The history is a stack of label moves: promote pushes,
rollback pops, so a promote followed by a rollback leaves the file exactly as it was (git
keeps the full audit trail). Labels in `gated_labels` need passing eval evidence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from ..errors import ConfigError
from ..files import atomic_write, read_text
from ..yaml_lines import InvalidYaml, line_in_text, load_yaml
from .errors import Problem, PromptFileError

LABELS_FILE = "labels.yaml"
LABEL_MAX_LENGTH = 64
LABEL_PATTERN = rf"^[a-z][a-z0-9_\-]{{0,{LABEL_MAX_LENGTH - 1}}}$"
"""What a label is, wherever one is named: the labels and gated labels of `labels.yaml`, its
history, `squad prompts promote`, and the service's `X-Prompt-Label` header, whose contract
pattern is this string. One rule, so a label the service's contract accepts is one a team
can create, and the reverse. The length is in the pattern, so the pattern alone is the rule
(the same in JSON Schema, pydantic and Python: anchored, no flags)."""
Label = Annotated[str, Field(pattern=LABEL_PATTERN)]
LABEL_ENV_PREFIX = "SQUAD_PROMPT_LABEL__"
_HEADER = (
    "# Which version of each prompt a label serves. Move labels with `squad prompts promote`\n"
    "# and `squad prompts rollback`: they check eval evidence and keep the history below.\n"
    "# Labels in gated_labels need passing eval evidence (evals/evidence/). A process can\n"
    "# pin a label per prompt for canaries, e.g. SQUAD_PROMPT_LABEL__TRIAGE=staging.\n"
)


VersionNumber = Annotated[StrictInt, Field(ge=1)]
"""A version a label points at: `true` (which YAML reads as 1) or `1.5` are refused."""


class LabelMove(BaseModel):
    """One recorded label move; `from` is None when the label was new."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    prompt: str
    label: Label
    from_version: VersionNumber | None = Field(alias="from")
    to_version: VersionNumber = Field(alias="to")
    at: str = Field(description="UTC time of the move, ISO 8601.")
    forced: bool = False
    reason: str | None = None


class LabelsFile(BaseModel):
    """The whole of `prompts/labels.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gated_labels: list[Label] = Field(
        default_factory=lambda: ["production", "staging"],
        description="Labels that may only point at versions with passing eval evidence.",
    )
    labels: dict[str, dict[Label, VersionNumber]] = Field(default_factory=dict)
    history: list[LabelMove] = Field(default_factory=list)

    def version_for(self, prompt: str, label: str) -> int | None:
        return self.labels.get(prompt, {}).get(label)

    def labels_of(self, prompt: str) -> dict[str, int]:
        return dict(self.labels.get(prompt, {}))

    def gated_versions(self, prompt: str | None = None) -> list[tuple[str, int]]:
        """The (prompt, version) pairs a gated label points at (of `prompt` only, if given)."""
        return sorted(
            {
                (name, number)
                for name, by_label in self.labels.items()
                for label, number in by_label.items()
                if label in self.gated_labels and prompt in (None, name)
            }
        )


def is_label(value: str) -> bool:
    """Whether `value` is a label name (`LABEL_PATTERN`, matched as a whole)."""
    return re.fullmatch(LABEL_PATTERN, value) is not None


def read_labels(path: Path) -> LabelsFile:
    """Read and validate the labels file; an absent file has no labels.

    `prompts/labels.yaml` leading out of the repository (the folder holding `prompts/`) is
    refused: what serves production must be what the repository reviews."""
    try:
        text = read_text(path, root=path.parent.parent)
    except UnicodeDecodeError as error:
        raise PromptFileError(
            Problem(path, f"not UTF-8 text (byte {error.start}); save it as UTF-8", kind="invalid")
        ) from None
    except FileNotFoundError:
        return LabelsFile()
    return parse_labels(text, path)


def parse_labels(text: str, path: Path) -> LabelsFile:
    """Validate the text of a labels file (read from disk, or from git at another commit);
    `path` is the name problems carry."""
    try:
        data = load_yaml(text, path)
    except InvalidYaml as error:
        raise PromptFileError(
            Problem(path, f"invalid YAML: {error.problem}", line=error.line, kind="invalid")
        ) from None
    if data is None:
        return LabelsFile()
    if not isinstance(data, dict):
        raise PromptFileError(
            Problem(path, "expected a mapping with 'labels' and 'history'", kind="invalid")
        )
    try:
        return LabelsFile.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        line = line_in_text(text, tuple(first["loc"]))
        raise PromptFileError(
            Problem(path, f"field '{where}': {first['msg']}", line=line, kind="invalid")
        ) from None


def write_labels(path: Path, labels: LabelsFile) -> None:
    """Write the file in one canonical layout (so promote + rollback is byte-for-byte exact)."""
    body: dict[str, Any] = {
        "gated_labels": list(labels.gated_labels),
        "labels": {
            prompt: dict(sorted(by_label.items()))
            for prompt, by_label in sorted(labels.labels.items())
            if by_label
        },
        "history": [
            move.model_dump(by_alias=True, exclude_defaults=True) for move in labels.history
        ],
    }
    text = yaml.safe_dump(body, sort_keys=False, default_flow_style=False, allow_unicode=True)
    atomic_write(path, _HEADER + text)


def label_overrides_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Per-process label pins: `SQUAD_PROMPT_LABEL__TRIAGE=staging` serves `triage`'s
    staging version wherever code asks for any label of `triage` (canaries).

    A value that is no label name (`LABEL_PATTERN`) is a `ConfigError` naming the variable:
    no label could ever be promoted to it, so it is a typo, not a label still to create.
    """
    pins = {}
    for key, value in sorted(environ.items()):
        if not key.startswith(LABEL_ENV_PREFIX) or not value.strip():
            continue
        label = value.strip()
        if not is_label(label):
            shown = repr(label[:40]) + ("..." if len(label) > 40 else "")
            raise ConfigError(
                f"{key}={shown}: not a label name: a lowercase letter, then up to "
                f"{LABEL_MAX_LENGTH - 1} lowercase letters, digits, '_' or '-' (as in "
                f"prompts/{LABELS_FILE}); fix it or unset it"
            )
        pins[key[len(LABEL_ENV_PREFIX) :].lower()] = label
    return pins

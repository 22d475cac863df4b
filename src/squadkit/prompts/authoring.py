"""Writing prompts: start the next version of a prompt, and compare two versions."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from ..files import read_text
from .loader import VERSION_FILE
from .version import PROMPT_NAME_PATTERN, PromptVersion

_SKELETON = """\
name: {name}
version: 1
description: What this prompt does, for whom, and what it must never do.
model: {model}
params:
  temperature: 0
input_schema:
  type: object
  additionalProperties: false
  required: [text]
  properties:
    text: {{type: string, minLength: 1, maxLength: 4000}}
messages:
  - role: system
    content: |
      You are ...
  - role: user
    content: |
      {{{{ text }}}}
"""


MAX_PROMPT_NAME = 64


def new_version(prompts_dir: Path, name: str, *, model: str | None = None) -> Path:
    """Copy the latest version of `name` to the next version file (unlocked, ready to edit).

    A prompt with no versions yet gets a v1 skeleton using the gateway alias `model`.
    """
    if not re.match(PROMPT_NAME_PATTERN, name):
        raise ConfigError(
            f"prompt name '{name}' must be lowercase snake_case (letters, digits, '_')"
        )
    if len(name) > MAX_PROMPT_NAME:  # a folder name, and part of metric labels and spans
        raise ConfigError(
            f"prompt name '{name}' is {len(name)} characters; keep it to {MAX_PROMPT_NAME} or fewer"
        )
    folder = prompts_dir / name
    numbers = sorted(
        int(match.group(1))
        for path in (folder.iterdir() if folder.is_dir() else [])
        if (match := VERSION_FILE.match(path.name))
    )
    if not numbers:
        if not model:
            raise ConfigError(
                f"{folder}: no versions of '{name}' yet; pass --model ALIAS "
                "(an alias from config/models.yaml) to start v1"
            )
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "v1.yaml"
        target.write_text(_SKELETON.format(name=name, model=model), encoding="utf-8")
        return target
    latest = numbers[-1]
    source = folder / f"v{latest}.yaml"
    text = read_text(source)
    updated, count = re.subn(
        rf"^version:[ \t]*{latest}[ \t]*$", f"version: {latest + 1}", text, count=1, flags=re.M
    )
    if count == 0:
        raise ConfigError(f"{source}: no top-level 'version: {latest}' line to bump")
    target = folder / f"v{latest + 1}.yaml"
    target.write_text(updated, encoding="utf-8")
    return target


def diff_versions(old: PromptVersion, new: PromptVersion) -> str:
    """A unified diff of two versions' model, params, schemas and messages ("" if equal)."""
    lines = difflib.unified_diff(
        _outline(old), _outline(new), fromfile=old.ident, tofile=new.ident, lineterm=""
    )
    return "\n".join(lines)


def _outline(version: PromptVersion) -> list[str]:
    """A version as comparable text: one section per part, formatting differences removed."""
    lines = [f"model: {version.model}", f"description: {version.description.strip()}"]
    sections: list[tuple[str, Any]] = [
        ("params", version.params),
        ("input_schema", version.input_schema),
        ("output_schema", version.output_schema),
    ]
    for title, value in sections:
        lines.append(f"{title}:")
        dumped = yaml.safe_dump(value, sort_keys=True, default_flow_style=False).rstrip()
        lines.extend(f"  {line}" for line in dumped.splitlines())
    for index, message in enumerate(version.spec.message_templates()):
        lines.append(f"messages[{index}] ({message.role}):")
        lines.extend(f"  {line}" for line in message.content.rstrip().splitlines())
    return lines

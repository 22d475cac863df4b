"""`prompts/prompts.lock`: the content hash of every released prompt version.

A locked version is immutable. Changing a prompt means a new version file, a review and
`squad prompts lock`; the lock makes an edit to a released file visible to `check` and CI.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..files import atomic_write, read_text
from ..yaml_lines import InvalidYaml, line_in_text, load_yaml
from .errors import Problem, PromptFileError

LOCK_FILE = "prompts.lock"
_KEY = re.compile(r"^[a-z][a-z0-9_]*/v[1-9][0-9]*\.yaml$")
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
_HEADER = (
    "# Content hashes of released prompt versions, written by `squad prompts lock`.\n"
    "# A locked version is immutable: put a change in a new version (`squad prompts new`).\n"
)


def read_lock(path: Path) -> dict[str, str]:
    """`{"<name>/v<N>.yaml": "sha256:<hex>"}`; an absent lock file locks nothing."""
    try:
        text = read_text(path, root=path.parent.parent)  # the repository holding prompts/
    except UnicodeDecodeError as error:
        raise PromptFileError(
            Problem(path, f"not UTF-8 text (byte {error.start}); save it as UTF-8", kind="invalid")
        ) from None
    except FileNotFoundError:
        return {}
    try:
        data = load_yaml(text, path)
    except InvalidYaml as error:
        raise PromptFileError(
            Problem(
                path,
                f"invalid YAML: {error.problem}; regenerate it with `squad prompts lock`",
                line=error.line,
                kind="invalid",
            )
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PromptFileError(
            Problem(path, "expected a mapping of '<name>/v<N>.yaml: sha256:<hex>'", kind="invalid")
        )
    for key, value in data.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise PromptFileError(
                Problem(
                    path,
                    f"entry '{key}' is not '<name>/v<N>.yaml'",
                    line=line_in_text(text, (key,)),
                    kind="invalid",
                )
            )
        if not isinstance(value, str) or not _HASH.match(value):
            raise PromptFileError(
                Problem(
                    path,
                    f"entry '{key}': '{value}' is not a 'sha256:<64 hex digits>' hash",
                    line=line_in_text(text, (key,)),
                    kind="invalid",
                )
            )
    return dict(data)


def write_lock(path: Path, entries: dict[str, str]) -> None:
    """Write the lock sorted by prompt and version, so diffs show only what changed."""
    lines = [f"{key}: {entries[key]}\n" for key in sorted(entries, key=_sort_key)]
    atomic_write(path, _HEADER + "".join(lines))


def lock_key(name: str, version: int) -> str:
    return f"{name}/v{version}.yaml"


def _sort_key(key: str) -> tuple[str, int]:
    name, _, file = key.partition("/")
    return name, int(file[1:].removesuffix(".yaml"))

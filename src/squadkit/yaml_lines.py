"""Every YAML file the library reads is read here: one loader, one error, line numbers.

`load_yaml` is PyYAML's safe loader (libyaml's when PyYAML was built with it, as the wheels
are: about ten times faster) that also refuses a mapping key given twice. PyYAML would keep
the last one silently, so an alias defined twice in `config/models.yaml` or a label set
twice in `prompts/labels.yaml` would change what runs without anyone seeing it. Every
problem is one `InvalidYaml` naming the file and line.

Pydantic reports a validation error's location as a path
(`aliases.triage.deployments.0.timeout_s`); users need a line number: `line_of` and
`line_in_text` find it in the composed node tree.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import yaml
from yaml.constructor import ConstructorError

from .errors import ConfigError
from .files import display_path, read_text, repository_of

if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:  # libyaml's parser when PyYAML was built with it; the constructor is Python either way
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_MERGE_TAG = "tag:yaml.org,2002:merge"


class InvalidYaml(ConfigError):
    """A YAML file does not parse, or gives one mapping key twice (exit 2)."""

    def __init__(self, path: Path, problem: str, line: int | None = None) -> None:
        self.path = path
        self.problem = problem
        self.line = line
        super().__init__(f"{path}{f':{line}' if line else ''}: invalid YAML: {problem}")


class UniqueKeyLoader(_SafeLoader):
    """The safe loader, refusing a key that appears twice in one mapping.

    Keys brought in by a merge (`<<: *defaults`) may be overridden, as YAML intends.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    seen = first.get(key)
                except TypeError:  # an unhashable key: the constructor names it below
                    continue
                if seen is not None:
                    raise ConstructorError(
                        None,
                        None,
                        f"key '{key}' appears twice in one mapping (first on line {seen}); "
                        "keep one",
                        key_node.start_mark,
                    )
                first[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, path: Path) -> Any:
    """The data of the YAML `text` read from `path`; `InvalidYaml` names file and line."""
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        raise _invalid(path, error) from None


class TeamYaml(NamedTuple):
    """A team file as read: its text (for `line_in_text`) and its data."""

    text: str
    data: Any


def read_team_yaml(
    path: Path,
    *,
    error: type[ConfigError] = ConfigError,
    missing: str | None = None,
    unreadable: Callable[[OSError], str] | None = None,
) -> TeamYaml:
    """Read the team's YAML file `path` (`read_text`: capped, kept in the repository) and
    parse it; every problem is one `error` naming the file as the user sees it.

    `missing` is the message (after the file's name) when the file does not exist, and
    `unreadable(os_error)` the one when it cannot be read; without them that `OSError`
    propagates. Not UTF-8 and invalid YAML have one message for every file.
    """
    where = display_path(path)
    try:
        text = read_text(path, root=repository_of(path))
    except UnicodeDecodeError as problem:
        raise error(f"{where}: not UTF-8 text (byte {problem.start}); save it as UTF-8") from None
    except OSError as problem:
        if missing is not None and isinstance(problem, FileNotFoundError):
            raise error(f"{where}: {missing}") from None
        if unreadable is None:
            raise
        raise error(f"{where}: {unreadable(problem)}") from None
    try:
        return TeamYaml(text, load_yaml(text, Path(where)))
    except InvalidYaml as problem:
        if isinstance(problem, error):
            raise
        raise error(str(problem)) from None


def _invalid(path: Path, error: yaml.YAMLError) -> InvalidYaml:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
    if context and context_mark is not None:
        problem += f" ({context} started on line {context_mark.line + 1})"
    return InvalidYaml(path, problem, mark.line + 1 if mark is not None else None)


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node that `loc` reaches (best effort).

    A part that matches no key (a discriminated union's tag, say) leaves the walk on the
    current node, so the rest of the path can still narrow the line down.
    """
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    line = key.start_mark.line + 1
                    node = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def line_in_text(text: str, loc: tuple[Any, ...]) -> int | None:
    """`line_of` for YAML text that has not been composed yet (error paths only)."""
    try:
        node = yaml.compose(text, Loader=_SafeLoader)
    except yaml.YAMLError:
        return None
    return line_of(node, loc)


def replace_scalars(text: str, path: Path, values: dict[tuple[str, ...], str]) -> str:
    """`text` with the scalar at each key path of `values` replaced by its new text, and
    every other byte (comments, order, spacing) as it was.

    For files a team edits and comments by hand (an eval suite's thresholds): PyYAML's
    dump would drop every comment. Each path must reach a plain scalar in nested mappings;
    `InvalidYaml` names the file and the first path that does not.
    """
    try:  # the Python loader: its marks count characters (libyaml's count bytes)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise _invalid(path, error) from None
    spans: list[tuple[int, int, str]] = []
    for keys, new in values.items():
        node: yaml.Node | None = root
        for key in keys:
            if not isinstance(node, yaml.MappingNode):
                node = None
                break
            node = next((v for k, v in node.value if k.value == key), None)
        if not isinstance(node, yaml.ScalarNode) or node.style not in (None, ""):
            raise InvalidYaml(path, f"'{'.'.join(keys)}' is not a plain value to rewrite")
        spans.append((node.start_mark.index, node.end_mark.index, new))
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text

"""Each render's docs name only commands that render has.

A render without the service has no `make serve` and no `squad serve`; its README and
docs/ must not send a reader to them. Every `make X` and `squad X [Y]` written as a command
(in a code span or block of README.md and docs/**/*.md) must exist in that render: make
targets in its Makefile and make/*.mk, squad commands in squadkit's CLI as the render
installs it (the service's commands exist only with the `service` extra, as in
`squadkit.cli`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer

from squadkit.cli import app
from tests.template.conftest import Rendered

VARIANTS = [
    pytest.param({"include_service": True, "default_provider": "local"}, id="service-local"),
    pytest.param({"include_service": False, "default_provider": "local"}, id="no-service-local"),
    pytest.param({"include_service": True, "default_provider": "openai"}, id="service-openai"),
    pytest.param({"include_service": False, "default_provider": "openai"}, id="no-service-openai"),
]
SERVICE_COMMANDS = {"serve", "callers", "inference-log", "harvest", "review", "experiments"}
"""What `squadkit.cli` adds only where the service extra (FastAPI) is installed."""

_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)
# A command is at the start of a line or code span, or after a shell separator or `uv run`:
# prose inside a block ("# the squad owns ...") is not a command.
_START = r"(?:^|(?<=[`$;&|(])|(?<=\brun\s))[ \t]*(?:[A-Z_]+=\S*[ \t]+)*"
_MAKE = re.compile(_START + r"make\s+(?:-\S+\s+)*(?:[A-Z_]+=\S*\s+)*([a-z][a-z0-9-]*)", re.M)
_SQUAD = re.compile(_START + r"squad\s+([a-z][a-z-]*)(?:[ \t]+([a-z][a-z-]*))?", re.M)
_TARGET = re.compile(r"^([a-z][a-z0-9-]*)\s*:(?!=)", re.M)


def _docs(rendered: Rendered) -> Iterator[Path]:
    yield rendered.path / "README.md"
    yield from sorted((rendered.path / "docs").rglob("*.md"))


def _code(path: Path) -> Iterator[tuple[int, str]]:
    """Each code span or block of `path` with the line it starts on."""
    text = path.read_text(encoding="utf-8")
    for match in _CODE.finditer(text):
        yield text.count("\n", 0, match.start()) + 1, match.group().strip("`")


def _make_targets(rendered: Rendered) -> set[str]:
    makefiles = [rendered.path / "Makefile", *sorted((rendered.path / "make").glob("*.mk"))]
    return {target for path in makefiles for target in _TARGET.findall(path.read_text())}


def _squad_commands(rendered: Rendered) -> dict[str, set[str]]:
    """Each top-level command of `squad` in this render, with its subcommands (if a group)."""
    pyproject = tomllib.loads((rendered.path / "pyproject.toml").read_text(encoding="utf-8"))
    squadkit = next(d for d in pyproject["project"]["dependencies"] if d.startswith("squadkit"))
    service = re.match(r"squadkit\[[^\]]*\bservice\b", squadkit) is not None
    commands = {}
    for name, command in _subcommands(typer.main.get_command(app)).items():
        if name in SERVICE_COMMANDS and not service:
            continue
        commands[name] = set(_subcommands(command))
    return commands


def _subcommands(command: object) -> dict[str, object]:
    """A command group's commands by name (none for a plain command)."""
    return dict(getattr(command, "commands", {}))


def _unknown(rendered: Rendered) -> list[str]:
    targets = _make_targets(rendered)
    commands = _squad_commands(rendered)
    found = []
    for path in _docs(rendered):
        where = path.relative_to(rendered.path)
        for line, code in _code(path):
            found += [
                f"{where}:{line}: make {target}"
                for target in _MAKE.findall(code)
                if target not in targets
            ]
            for command, sub in _SQUAD.findall(code):
                if command not in commands:
                    found.append(f"{where}:{line}: squad {command}")
                elif commands[command] and sub and sub not in commands[command]:
                    found.append(f"{where}:{line}: squad {command} {sub}")
    return found


def test_the_extractor_finds_commands_in_code_and_not_in_prose(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Run `make serve` or `uv run squad eval run triage`; the squad serve team\n"
        "```bash\nPROMPT=triage make promote  # the squad owns it\nsquad callers add x\n```\n",
        encoding="utf-8",
    )
    code = [text for _, text in _code(page)]
    assert [m for c in code for m in _MAKE.findall(c)] == ["serve", "promote"]
    assert [m for c in code for m in _SQUAD.findall(c)] == [("eval", "run"), ("callers", "add")]


@pytest.mark.parametrize("answers", VARIANTS)
def test_docs_name_only_commands_the_render_has(
    answers: dict[str, object], render_once: Callable[..., Rendered]
) -> None:
    rendered = render_once(**answers)

    assert _unknown(rendered) == []

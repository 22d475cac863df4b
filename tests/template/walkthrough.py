"""Follow a documentation page in a rendered repo: its fenced blocks, applied in order.

A page's blocks are its steps. A block with a `title` is a file edit: the whole file, or
what to append with `mode="append"`, or, for a `diff` block, the lines to change (`-` goes,
`+` comes in, a space is context, `@@` starts the next change; no line numbers, so the
page stays readable). A `bash` block is commands, one a line, `#` starting a comment. The
walks of `docs/adding-a-feature.md` and `docs/runbooks/prompt-change.md` (and the "first
month" test, which reuses both pages) share this, so the pages cannot drift from what the
library accepts.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.template.conftest import run

BLOCK = re.compile(
    r'^```(?P<lang>\w+)(?: title="(?P<title>[^"]+)")?(?: mode="(?P<mode>\w+)")?\n'
    r"(?P<body>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Step:
    language: str
    body: str
    path: str | None = None
    append: bool = False

    @property
    def commands(self) -> list[str]:
        """A bash block's commands, comments and blank lines left out."""
        if self.path is not None or self.language != "bash":
            return []
        return [c for c in (line.split("#")[0].strip() for line in self.body.splitlines()) if c]


def steps(page: str, package: str) -> list[Step]:
    """Every fenced block of the page, `<package>` replaced by the repo's package name."""
    found = []
    for match in BLOCK.finditer(page):
        body = match["body"].replace("<package>", package)
        title = match["title"].replace("<package>", package) if match["title"] else None
        found.append(Step(match["lang"], body, title, match["mode"] == "append"))
    return found


def _changes(diff: str) -> Iterator[tuple[str, str]]:
    """(old text, new text) of each change of a diff block, context included in both."""
    for hunk in re.split(r"^@@.*\n", diff, flags=re.MULTILINE):
        old, new = [], []
        for line in hunk.splitlines():
            sign, text = line[:1], line[1:]
            if sign in {"-", " ", ""}:
                old.append(text)
            if sign in {"+", " ", ""}:
                new.append(text)
            if sign not in {"-", "+", " ", ""}:
                raise AssertionError(f"diff line must start with '-', '+' or ' ': {line!r}")
        if old or new:
            yield "\n".join(old) + "\n", "\n".join(new) + "\n"


def apply_file_step(repo: Path, step: Step) -> None:
    """Write, append to, or edit (a `diff` block, each change found exactly once) a file."""
    assert step.path is not None
    target = repo / step.path
    if step.language == "diff":
        text = target.read_text()
        for old, new in _changes(step.body):
            assert text.count(old) == 1, f"{step.path}: the page's change must match once:\n{old}"
            text = text.replace(old, new)
        target.write_text(text)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    before = target.read_text() if step.append and target.exists() else ""
    target.write_text(before + step.body)


def run_commands(step: Step, repo: Path, env: Mapping[str, str]) -> list[str]:
    """Run a bash block's commands in order (failing the test on the first that fails);
    return each one's output."""
    return [run(shlex.split(command), cwd=repo, env=env).stdout for command in step.commands]


def changed_files(repo: Path) -> set[str]:
    """Tracked files that differ from HEAD, and untracked ones (ignored ones left out)."""
    listed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line[3:] for line in listed.splitlines()}

"""Post-copy task: make a freshly rendered squad repo ready to commit.

Runs inside the destination (Copier's task cwd). Each step is optional and says what
to do by hand when it cannot run, because a render with `--skip-tasks` must also work:
  1. a template copied from a relative path (`copier copy ../copier-ai-squad out`): its
     squadkit pin and `_src_path` are made absolute, since uv resolves neither against the
     directory Copier ran in (`relative URL without a base`);
  2. `git init` unless the destination is already inside a git work tree;
  3. `uv lock` when uv is on PATH and the package index answers, so the first commit
     pins every dependency; otherwise a note to run `make setup` later.
Before either, every rendered TOML, YAML and JSON file must parse: an answer that slipped
past the validators and broke one fails the copy here (exit 2, naming file and line)
rather than in the squad's first `make check`. Uses the standard library and PyYAML (a
Copier dependency): this runs under Copier's interpreter.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

DATA_SUFFIXES = {".toml", ".yaml", ".yml", ".json", ".jsonl"}
ANSWERS = ".copier-answers.yml"
TEMPLATE = Path(__file__).resolve().parents[1]
"""The template checkout this task runs from: Copier's clone of the source, for a git one."""
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|gh:|gl:|[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:|/|~)")


class RelativeSource(Exception):
    """A relative template path whose absolute place cannot be found (exit 2)."""


def _run(args: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # fixed argv, no shell
        args, capture_output=True, text=True, timeout=timeout, check=False
    )


def _inside_git_work_tree(path: Path) -> bool:
    if shutil.which("git") is None:
        return False
    result = _run(["git", "-C", str(path), "rev-parse", "--is-inside-work-tree"], timeout=30)
    return result.returncode == 0 and result.stdout.strip() == "true"


def absolute_source(path: Path) -> str:
    """Rewrite a relative `_src_path` (and the squadkit pin rendered from it) as absolute.

    Copier clones a git template from the directory it runs in, and git records a clone's
    origin as an absolute path: that is the template the relative path named. Any other
    template is used in place, so this task's own checkout is it.
    """
    answers = path / ANSWERS
    text = answers.read_text(encoding="utf-8") if answers.is_file() else ""
    found = re.search(r"^_src_path: (.+)$", text, flags=re.MULTILINE)
    if found is None or _REMOTE.match(source := found.group(1).strip().strip("'\"")):
        return "template source is absolute: left as it is"
    where = str(TEMPLATE)  # a template that is no git checkout is used where it is
    if (TEMPLATE / ".git").exists():  # Copier's clone of a git template
        command = ["git", "-C", str(TEMPLATE), "config", "--get", "remote.origin.url"]
        origin = _run(command, timeout=30)
        where = os.path.normpath(origin.stdout.strip()) if origin.returncode == 0 else ""
    if not where.startswith("/") or not Path(where, "copier.yml").is_file():
        raise RelativeSource(
            f"error: the template path '{source}' is relative and its absolute place is "
            "unknown: copy again from an absolute path, or with --data "
            "squadkit_path=<absolute path of the template>"
        )
    answers.write_text(text.replace(found.group(0), f"_src_path: {where}"), encoding="utf-8")
    pyproject = path / "pyproject.toml"
    pin = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        pin.replace(f'squadkit = {{ git = "{source}"', f'squadkit = {{ git = "file://{where}"'),
        encoding="utf-8",
    )
    return f"template path '{source}' recorded as {where} (squadkit pin and answers)"


def init_git(path: Path) -> str:
    if shutil.which("git") is None:
        return "git not found: run `git init` in the new repo by hand"
    if _inside_git_work_tree(path):
        return "already inside a git work tree: left as it is"
    result = _run(["git", "init", "--quiet", "--initial-branch=main", str(path)], timeout=60)
    if result.returncode != 0:
        return f"`git init` failed ({result.stderr.strip()}): run it by hand"
    return "initialised a git repository on branch main"


def lock_dependencies(path: Path) -> str:
    uv = shutil.which("uv")
    if uv is None:
        return "uv not found: `make setup` will lock dependencies once uv is installed"
    try:
        result = _run([uv, "lock", "--directory", str(path), "--quiet"], timeout=300)
    except subprocess.TimeoutExpired:
        return "`uv lock` timed out (no network?): run `make setup` when online"
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        return f"`uv lock` failed ({reason}): run `make setup` when the index is reachable"
    return "locked dependencies in uv.lock"


def unparsable(root: Path) -> list[str]:
    """`path:line: reason` for every rendered data file that does not parse."""
    problems = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or path.suffix not in DATA_SUFFIXES or ".git" in relative.parts:
            continue
        text = path.read_text(encoding="utf-8")
        try:
            if path.suffix == ".toml":
                tomllib.loads(text)
            elif path.suffix == ".json":
                json.loads(text)
            elif path.suffix == ".jsonl":
                for number, line in enumerate(text.splitlines(), start=1):
                    if line.strip():
                        try:
                            json.loads(line)
                        except ValueError as error:
                            raise ValueError(f"line {number}: {error}") from None
            else:
                list(yaml.safe_load_all(text))
        except (ValueError, yaml.YAMLError) as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 1 if mark else getattr(error, "lineno", None)
            reason = str(error).splitlines()[0]
            problems.append(f"{relative}{f':{line}' if line else ''}: {reason}")
    return problems


def main() -> int:
    destination = Path.cwd()
    problems = unparsable(destination)
    if problems:
        for problem in problems:
            print(f"error: rendered file does not parse: {problem}", file=sys.stderr)
        print(
            "error: an answer broke the files above; copy again with another answer",
            file=sys.stderr,
        )
        return 2
    try:
        source = absolute_source(destination)
    except RelativeSource as error:
        print(error, file=sys.stderr)
        return 2
    for step, outcome in (
        ("source", source),
        ("git", init_git(destination)),
        ("uv", lock_dependencies(destination)),
    ):
        print(f"  {step}: {outcome}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

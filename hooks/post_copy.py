"""Post-copy task: make a freshly rendered squad repo ready to commit.

Runs inside the destination (Copier's task cwd). Each step is optional and says what
to do by hand when it cannot run, because a render with `--skip-tasks` must also work:
  1. `git init` unless the destination is already inside a git work tree;
  2. `uv lock` when uv is on PATH and the package index answers, so the first commit
     pins every dependency; otherwise a note to run `make setup` later.
Only the standard library is used: this runs under Copier's interpreter.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def _run(args: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # fixed argv, no shell
        args, capture_output=True, text=True, timeout=timeout, check=False
    )


def _inside_git_work_tree(path: Path) -> bool:
    if shutil.which("git") is None:
        return False
    result = _run(["git", "-C", str(path), "rev-parse", "--is-inside-work-tree"], timeout=30)
    return result.returncode == 0 and result.stdout.strip() == "true"


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


def main() -> int:
    destination = Path.cwd()
    for step, outcome in (
        ("git", init_git(destination)),
        ("uv", lock_dependencies(destination)),
    ):
        print(f"  {step}: {outcome}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`gated_labels` compared with a base commit: a label cannot stop being gated unnoticed.

Removing `production` from `gated_labels` is a one-line edit that lets production point at an
unevaluated version, and on its own branch every other check still passes. `squad prompts
check --base REF` (CI passes the pull request's base) reads `labels.yaml` as it was at REF
with `git show` and fails, naming the label and the file, for each label gated there and not
here. Narrowing the gated labels on purpose is then a change a reviewer sees fail, and lands
with an explicit decision (merging over the red check), not silently.

A base where `prompts/` did not exist yet has nothing to compare with; a base where it
existed without `labels.yaml` gated the default labels (`production`, `staging`), as
`read_labels` reads a missing file.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..errors import ConfigError
from ..files import display_path
from .errors import Problem
from .labels import LABELS_FILE, LabelsFile, parse_labels


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    """Run git in `root`; None when git cannot be run at all."""
    try:
        return subprocess.run(  # noqa: S603 - fixed git arguments, no shell
            ["git", *args],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None


def labels_at(prompts_dir: Path, base: str) -> LabelsFile | None:
    """`prompts_dir`'s labels file as it was at commit `base`; None when `prompts_dir` did
    not exist there. Raises `ConfigError` (exit 2) when there is no repository or no such
    commit."""
    where = display_path(prompts_dir)
    top = _git(prompts_dir, "rev-parse", "--show-toplevel") if prompts_dir.is_dir() else None
    if top is None or top.returncode != 0:
        raise ConfigError(
            f"--base {base}: {where} is not in a git repository; "
            "check without --base, or run it in the squad's clone"
        )
    root = Path(top.stdout.strip())
    verified = _git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    if verified is None or verified.returncode != 0:
        raise ConfigError(
            f"--base {base}: not a commit in this clone; fetch it (actions/checkout with "
            "fetch-depth: 0) or name another ref"
        )
    relative = prompts_dir.resolve().relative_to(root.resolve()).as_posix()
    shown = _git(root, "show", f"{base}:{relative}/{LABELS_FILE}")
    if shown is not None and shown.returncode == 0:
        return parse_labels(shown.stdout, Path(f"{relative}/{LABELS_FILE}@{base}"))
    existed = _git(root, "cat-file", "-e", f"{base}:{relative}")
    if existed is not None and existed.returncode == 0:
        return LabelsFile()  # no labels file at the base: the default labels were gated
    return None


def ungated_since(labels_path: Path, now: LabelsFile, base: LabelsFile, ref: str) -> list[Problem]:
    """One problem per label `base` gated that `now` no longer gates, naming the file."""
    return [
        Problem(
            labels_path,
            f"gated_labels no longer lists '{label}', which it listed at {ref}: versions at "
            f"'{label}' would then need no eval evidence; put it back, or get this change "
            "reviewed as a decision to stop gating it",
        )
        for label in base.gated_labels
        if label not in now.gated_labels
    ]

"""Migration steps for a release in which squadkit takes over files a squad repo used to hold.

0.1.0 rendered the shared machinery (gateway, prompts, evals, ...) into every squad repo;
0.2.0 installs it as the squadkit library. Copier deletes every file the new release no
longer renders, edited or not, and an edited one also leaves a conflict behind. These
steps make that update lose nothing:

- `retire` ("before"): a retired file the squad never edited needs nothing (Copier removes
  it). An edited one has the squad's edits saved as a unified diff against the old release
  in `patch` (committed with the update, listed by path), and is reset to the old release's
  content, so Copier removes it without a conflict.
- `reseed` ("before"): a seeded, team-owned file whose new release differs (its imports
  moved to squadkit) is deleted when unedited, so the new version is seeded; an edited one
  is kept, its imports rewritten below. Copier seeds a missing file only when the new
  release changed it, so `seed_missing` ("after") writes the rest from the new release.
- `pack_recordings` ("before"): `evals/recordings/<suite>/*.json` become one
  `evals/recordings/<suite>.jsonl` each, staged before Copier's snapshot.
- `rewrite_imports` ("after"): in every Python file of the squad repo, imports of a retired
  module of the package (`<package>.gateway`, or `..gateway` inside it) become imports of
  the same module of squadkit.

Patterns are `fnmatch` patterns relative to the repo (`*` crosses folders), with `{package}`
standing for the answer `package_name`. Standard library only.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

LIBRARY = "squadkit"


def _files(root: Path) -> list[str]:
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    )


def _matching(paths: Iterable[str], patterns: list[str], package: str) -> list[str]:
    expanded = [pattern.replace("{package}", package) for pattern in patterns]
    return [p for p in paths if any(fnmatch.fnmatchcase(p, pattern) for pattern in expanded)]


def _git(dest: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=dest, capture_output=True, check=True)


def _diff(old: Path, new: Path, relative: str) -> str:
    """The squad's edits of `relative`: a unified diff `git apply` takes in the squad repo."""
    before = old.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    after = new.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    lines = difflib.unified_diff(before, after, f"a/{relative}", f"b/{relative}")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def retire(
    dest: Path, patterns: list[str], old_release: Path, *, package: str, patch: str
) -> list[str]:
    """Save the squad's edits of retired files to `patch`; reset those files for Copier."""
    lines: list[str] = []
    diffs: list[str] = []
    for relative in _matching(_files(old_release), patterns, package):
        mine = dest / relative
        if not mine.is_file() or mine.read_bytes() == (old_release / relative).read_bytes():
            continue
        diffs.append(_diff(old_release / relative, mine, relative))
        mine.write_bytes((old_release / relative).read_bytes())
        _git(dest, "add", "--force", "--", relative)
        lines.append(f"{relative}: your edits are kept in {patch}; squadkit provides this now")
    if diffs:
        target = dest / patch
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(diffs), encoding="utf-8")
        _git(dest, "add", "--force", "--", patch)
        lines.append(
            f"{patch}: {len(diffs)} edited file(s) that squadkit replaces; port each edit "
            "through an extension point (docs/architecture.md), then delete the patch"
        )
    return lines


def reseed(dest: Path, patterns: list[str], old_release: Path, *, package: str) -> list[str]:
    """Delete unedited seeded files, so the new release seeds its own version of them."""
    lines = []
    for relative in _matching(_files(old_release), patterns, package):
        mine = dest / relative
        if mine.is_file() and mine.read_bytes() == (old_release / relative).read_bytes():
            _git(dest, "rm", "--quiet", "--force", "--", relative)
            lines.append(f"{relative}: unedited, replaced by the new release's version")
    return lines


def seed_missing(dest: Path, patterns: list[str], new_release: Path, *, package: str) -> list[str]:
    """Copy the new release's version of each reseeded file that is missing in `dest`."""
    lines = []
    for relative in _matching(_files(new_release), patterns, package):
        mine = dest / relative
        if not mine.exists():
            mine.parent.mkdir(parents=True, exist_ok=True)
            mine.write_bytes((new_release / relative).read_bytes())
            _git(dest, "add", "--force", "--", relative)
            lines.append(f"{relative}: seeded from the new release")
    return lines


def pack_recordings(dest: Path) -> list[str]:
    """`evals/recordings/<suite>/<key>.json` (0.1.0) -> `evals/recordings/<suite>.jsonl`:
    one compact line per recording, sorted by key, as squadkit writes them."""
    lines = []
    root = dest / "evals" / "recordings"
    for folder in sorted(p for p in root.glob("*") if p.is_dir()):
        recordings = {}
        for path in sorted(folder.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            recordings[data["key"]] = json.dumps(
                {"key": data["key"], "request": data["request"], "response": data["response"]},
                sort_keys=True,
                ensure_ascii=False,
                separators=(",", ":"),
            )
        if not recordings:
            continue
        packed = root / f"{folder.name}.jsonl"
        packed.write_text("".join(recordings[k] + "\n" for k in sorted(recordings)), "utf-8")
        if (dest / ".git").exists():
            _git(dest, "rm", "-r", "--quiet", "--force", "--", folder.relative_to(dest).as_posix())
            _git(dest, "add", "--force", "--", packed.relative_to(dest).as_posix())
        else:
            shutil.rmtree(folder)
        lines.append(
            f"{folder.relative_to(dest)}/: {len(recordings)} recordings packed into "
            f"{packed.relative_to(dest)}"
        )
    return lines


FROM_ABSOLUTE = r"^(?P<indent>[ \t]*)(?P<kind>from|import) {package}\.(?P<module>{modules})\b"
FROM_RELATIVE = re.compile(r"^(?P<indent>[ \t]*)from (?P<dots>\.+)(?P<rest>[\w.]*) import ")


def rewrite_imports(dest: Path, *, package: str, modules: list[str]) -> list[str]:
    """Point imports of the retired `modules` of `package` at squadkit, in every .py file."""
    absolute = re.compile(
        FROM_ABSOLUTE.format(package=re.escape(package), modules="|".join(modules)),
        re.MULTILINE,
    )
    lines = []
    for relative in _files(dest):
        if not relative.endswith(".py") or relative.startswith((".venv/", "build/")):
            continue
        path = dest / relative
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        new = absolute.sub(rf"\g<indent>\g<kind> {LIBRARY}.\g<module>", text)
        parts = relative.removesuffix(".py").split("/")
        if parts[:2] == ["src", package]:
            new = _rewrite_relative(new, parts[1:-1], set(modules))
        if new != text:
            path.write_text(new, encoding="utf-8", errors="surrogateescape")
            lines.append(f"{relative}: imports of the package's old modules now use {LIBRARY}")
    return lines


def _rewrite_relative(text: str, package_path: list[str], modules: set[str]) -> str:
    """`from ..gateway import X` in `<package>/features/a.py` -> `from squadkit.gateway ...`."""

    def absolute(match: re.Match[str]) -> str:
        up = len(match["dots"]) - 1
        if up >= len(package_path):
            return match[0]
        target = [*package_path[: len(package_path) - up], *filter(None, match["rest"].split("."))]
        if len(target) < 2 or target[1] not in modules:
            return match[0]
        return f"{match['indent']}from {'.'.join([LIBRARY, *target[1:]])} import "

    return FROM_RELATIVE.sub(absolute, text)

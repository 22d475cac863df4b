"""Migration task: move files and rewrite answers that a template release renamed.

Copier runs this during `copier update`, once per `_migrations` entry in `copier.yml` whose
`version` the update crosses (old < version <= new), at two stages:

- "before": after Copier rendered the old release for comparison and before it snapshots the
  squad repo's index (`git write-tree`) and merges the new release. Files move here (staged
  in git, since Copier diffs the index, not the disk), and renamed questions and choices are
  rewritten in `.copier-answers.yml`, which Copier re-reads before rendering the new release.
- "after": Copier merges a moved file against an empty base (the path is new on both sides),
  so every line a squad changed would show as a conflict. For each moved file Copier left
  conflicted, this re-merges the squad's version (index stage 2) and the new release's
  (stage 3) against the true base: the old release rendered with the old answers, exactly
  as Copier renders it. Only real overlaps remain as conflict markers.

What a release needs is declared in `hooks/migrations.yaml`:

    migrations:
      - version: "1.2.0"
        renames:
          - {from: config/observability.yaml, to: config/telemetry.yaml}
        answers:
          rename: {observability: telemetry}               # question renamed
          values: {default_provider: {vertex: vertex_ai}}  # choice renamed (new name)

Guarantees: every path stays inside the destination (no absolute paths, no `..`, no
symlink that leads out); an existing target is never overwritten; running a stage twice is
a no-op; each step prints what it did.

Usage: migrate.py VERSION [--stage before|after] [--dest DIR] [--plan FILE]
Exit codes: 0 done (or nothing to do), 2 bad declaration or refused step (one line, no
traceback). Uses the standard library, PyYAML and, for "after", Copier itself: it runs
under Copier's own interpreter (`_copier_python`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # hooks/ is no package
import vendored

PLAN = Path(__file__).resolve().parent / "migrations.yaml"
ANSWERS_FILE = ".copier-answers.yml"


class MigrationError(Exception):
    """A declaration or a step that must not run; the message is one line for the user."""


@dataclass(frozen=True)
class Rename:
    source: str
    target: str


@dataclass(frozen=True)
class Migration:
    version: str
    renames: list[Rename] = field(default_factory=list)
    answer_renames: dict[str, str] = field(default_factory=dict)
    answer_values: dict[str, dict[Any, Any]] = field(default_factory=dict)
    # A release whose files squadkit took over (hooks/vendored.py says what each does).
    retire: list[str] = field(default_factory=list)
    reseed: list[str] = field(default_factory=list)
    library_modules: list[str] = field(default_factory=list)
    pack_recordings: bool = False  # 0.2.0: one recordings file per suite

    @property
    def patch(self) -> str:
        """Where `retire` keeps the squad's edits of files squadkit replaced."""
        return f"docs/upgrade/{self.version}-edits-of-retired-files.patch"


def _relative_path(value: object, where: str) -> str:
    """A declared path must be relative, POSIX, and free of `..`; checked before any I/O."""
    if not isinstance(value, str) or not value.strip():
        raise MigrationError(f"{where}: expected a relative path, got {value!r}")
    path = PurePosixPath(value)
    if value.startswith(("/", "\\")) or path.is_absolute() or ":" in path.parts[0]:
        raise MigrationError(f"{where}: {value!r} is absolute; paths are relative to the repo")
    if ".." in path.parts or "\\" in value:
        raise MigrationError(f"{where}: {value!r} escapes the destination ('..' or '\\')")
    if path.parts[0] == ".git" or value == ANSWERS_FILE:
        raise MigrationError(f"{where}: {value!r} is managed by git or Copier; not movable")
    return path.as_posix()


def _mapping(value: object, where: str) -> dict[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MigrationError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def load_plan(plan: Path) -> list[Migration]:
    """Parse and validate the whole declaration, so a typo fails before anything moves."""
    try:
        data = yaml.safe_load(plan.read_text(encoding="utf-8"))
    except OSError as error:
        raise MigrationError(f"{plan}: cannot read ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise MigrationError(f"{plan}{line}: not valid YAML") from None
    data = _mapping(data, str(plan))
    entries = data.get("migrations") or []
    if not isinstance(entries, list):
        raise MigrationError(f"{plan}: migrations: expected a list")
    migrations: list[Migration] = []
    seen: set[str] = set()
    for index, raw in enumerate(entries):
        where = f"{plan}: migrations[{index}]"
        entry = _mapping(raw, where)
        unknown = set(entry) - {
            "version",
            "renames",
            "answers",
            "pack_recordings",
            *VENDORED_FIELDS,
        }
        if unknown:
            raise MigrationError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        version = entry.get("version")
        if not isinstance(version, str) or not _is_pep440(version):
            raise MigrationError(f"{where}.version: {version!r} is not a PEP 440 version string")
        if version in seen:
            raise MigrationError(f"{where}.version: {version} is declared twice")
        seen.add(version)
        renames_raw = entry.get("renames") or []
        if not isinstance(renames_raw, list):
            raise MigrationError(f"{where}.renames: expected a list of {{from, to}}")
        renames = []
        for number, item in enumerate(renames_raw):
            item_where = f"{where}.renames[{number}]"
            pair = _mapping(item, item_where)
            if set(pair) != {"from", "to"}:
                raise MigrationError(f"{item_where}: expected exactly the keys 'from' and 'to'")
            source = _relative_path(pair["from"], f"{item_where}.from")
            target = _relative_path(pair["to"], f"{item_where}.to")
            if source == target:
                raise MigrationError(f"{item_where}: 'from' and 'to' are the same path")
            renames.append(Rename(source, target))
        answers = _mapping(entry.get("answers"), f"{where}.answers")
        unknown = set(answers) - {"rename", "values"}
        if unknown:
            raise MigrationError(f"{where}.answers: unknown field(s) {', '.join(sorted(unknown))}")
        answer_renames = _mapping(answers.get("rename"), f"{where}.answers.rename")
        for old, new in answer_renames.items():
            if not (isinstance(old, str) and isinstance(new, str)) or old.startswith("_"):
                raise MigrationError(
                    f"{where}.answers.rename: {old!r}: {new!r} must map a question name to a name"
                )
        values = _mapping(answers.get("values"), f"{where}.answers.values")
        for question, mapping in values.items():
            _mapping(mapping, f"{where}.answers.values.{question}")
        vendored = {name: _patterns(entry.get(name), f"{where}.{name}") for name in VENDORED_FIELDS}
        migrations.append(
            Migration(
                version,
                renames,
                dict(answer_renames),
                dict(values),
                **vendored,
                pack_recordings=entry.get("pack_recordings") is True,
            )
        )
    return migrations


VENDORED_FIELDS = ("retire", "reseed", "library_modules")


def _patterns(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise MigrationError(f"{where}: expected a list of path patterns or names")
    for pattern in value:
        _relative_path(pattern, where)
    return list(value)


def _is_pep440(version: str) -> bool:
    try:
        from packaging.version import InvalidVersion, Version  # a Copier dependency
    except ImportError:  # pragma: no cover - Copier always brings packaging
        return bool(version.strip())
    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


def _inside(dest: Path, relative: str, where: str) -> Path:
    """Resolve symlinks on the way: a path that leads out of `dest` is refused."""
    candidate = dest / relative
    resolved = candidate.resolve()
    if resolved != dest and dest not in resolved.parents:
        raise MigrationError(f"{where}: {relative!r} leads outside the destination (symlink)")
    return candidate


def _git_work_tree(dest: Path) -> bool:
    if shutil.which("git") is None:
        return False
    result = subprocess.run(
        ["git", "-C", str(dest), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and result.stdout.strip() == "true"


def _stage(dest: Path, *paths: str) -> None:
    """Record the move in the index: Copier's update diffs `git write-tree`, not the disk."""
    result = subprocess.run(
        ["git", "add", "--all", "--force", "--", *paths],
        cwd=dest,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise MigrationError(f"git add {' '.join(paths)} failed: {reason}")


def apply_rename(dest: Path, rename: Rename, *, use_git: bool) -> str:
    where = f"rename {rename.source} -> {rename.target}"
    source = _inside(dest, rename.source, where)
    target = _inside(dest, rename.target, where)
    source_exists = source.exists() or source.is_symlink()
    target_exists = target.exists() or target.is_symlink()
    if not source_exists:
        if target_exists:
            return f"{rename.source}: already moved to {rename.target}"
        return f"{rename.source}: not present, nothing to move"
    if target_exists:
        raise MigrationError(
            f"{where}: {rename.target} already exists; move or merge it by hand, then rerun"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(source, target)
    except OSError as error:
        raise MigrationError(f"{where}: {error.strerror}") from None
    if use_git:
        _stage(dest, rename.source, rename.target)
    return f"{rename.source}: moved to {rename.target}"


def apply_answers(dest: Path, migration: Migration) -> list[str]:
    if not (migration.answer_renames or migration.answer_values):
        return []
    path = dest / ANSWERS_FILE
    if not path.is_file():
        raise MigrationError(f"{ANSWERS_FILE}: not found in {dest}; is this a Copier project?")
    text = path.read_text(encoding="utf-8")
    try:
        answers = yaml.safe_load(text)
    except yaml.YAMLError:
        raise MigrationError(f"{ANSWERS_FILE}: not valid YAML; restore it from git") from None
    if not isinstance(answers, dict):
        raise MigrationError(f"{ANSWERS_FILE}: expected a mapping of answers")
    done: list[str] = []
    for old, new in migration.answer_renames.items():
        if old not in answers:
            continue
        if new in answers:
            raise MigrationError(
                f"{ANSWERS_FILE}: both {old!r} and its new name {new!r} are answered; keep one"
            )
        answers[new] = answers.pop(old)
        done.append(f"answer {old}: renamed to {new}")
    for question, mapping in migration.answer_values.items():
        current = answers.get(question)
        if question in answers and current in mapping:
            answers[question] = mapping[current]
            done.append(f"answer {question}: {current!r} -> {mapping[current]!r}")
    if done:
        header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
        body = yaml.safe_dump(answers, sort_keys=True, allow_unicode=True)
        path.write_text(header + body, encoding="utf-8")
    return done


COPIER_MARKER = "<<<<<<< before updating"
LABELS = ("before updating", "last update", "after updating")  # Copier's own labels


def _git_output(dest: Path, *args: str) -> bytes | None:
    result = subprocess.run(["git", *args], cwd=dest, capture_output=True, check=False)
    return result.stdout if result.returncode == 0 else None


def _moved_files(dest: Path, rename: Rename) -> list[tuple[str, str]]:
    """(old path, new path) of every file a rename moved; a folder contributes its files."""
    target = _inside(dest, rename.target, f"rename {rename.source} -> {rename.target}")
    if target.is_file():
        return [(rename.source, rename.target)]
    if not target.is_dir():
        return []
    pairs = []
    for path in sorted(target.rglob("*")):
        if path.is_file() and not path.is_symlink():
            tail = path.relative_to(target).as_posix()
            pairs.append((f"{rename.source}/{tail}", f"{rename.target}/{tail}"))
    return pairs


def _render_old_release(dest: Path, scratch: Path, *, new: bool = False) -> Path:
    """The old release as Copier rendered it for this update: same source, ref and answers.

    `new=True` renders the new release instead, from the answers Copier just wrote.
    """
    where = ANSWERS_FILE if new else f"HEAD:{ANSWERS_FILE}"
    raw = (dest / ANSWERS_FILE).read_bytes() if new else _git_output(dest, "show", where)
    answers = yaml.safe_load(raw) if raw else None
    if not isinstance(answers, dict) or "_src_path" not in answers or "_commit" not in answers:
        raise MigrationError(f"{where}: no _src_path/_commit to render the release")
    import copier  # only here: this stage runs under Copier's interpreter

    data = {k: v for k, v in answers.items() if not str(k).startswith("_")}
    copier.run_copy(
        str(answers["_src_path"]),
        str(scratch),
        data=data,
        vcs_ref=str(answers["_commit"]),
        defaults=True,
        quiet=True,
        skip_tasks=True,
        unsafe=True,
        overwrite=True,
    )
    return scratch


def repair_moved_conflicts(dest: Path, migration: Migration) -> list[str]:
    """Re-merge moved files that Copier left conflicted, against the old release's content."""
    conflicted = [
        (old, new)
        for rename in migration.renames
        for old, new in _moved_files(dest, rename)
        if COPIER_MARKER in (dest / new).read_text(encoding="utf-8", errors="replace")
    ]
    if not conflicted:
        return []
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="squad-migrate-") as scratch_dir:
        scratch = Path(scratch_dir)
        old_release = _render_old_release(dest, scratch / "old")
        for old, new in conflicted:
            ours = _git_output(dest, "cat-file", "blob", f":2:{new}")
            theirs = _git_output(dest, "cat-file", "blob", f":3:{new}")
            base = old_release / old
            if ours is None or theirs is None or not base.is_file():
                lines.append(f"{new}: conflict left for you (no base to re-merge with)")
                continue
            (scratch / "ours").write_bytes(ours)
            (scratch / "theirs").write_bytes(theirs)
            merge = subprocess.run(
                ["git", "merge-file", "-p"]
                + [arg for label in LABELS for arg in ("-L", label)]
                + [str(scratch / "ours"), str(base), str(scratch / "theirs")],
                capture_output=True,
                check=False,
            )
            if merge.returncode < 0 or merge.returncode > 127:
                raise MigrationError(f"{new}: git merge-file failed: {merge.stderr!r}")
            (dest / new).write_bytes(merge.stdout)
            if merge.returncode == 0:
                _stage(dest, new)
                lines.append(f"{new}: your edits of {old} merged with the new release")
            else:
                lines.append(
                    f"{new}: {merge.returncode} conflict(s) with the new release; resolve them"
                )
    return lines


def migrate(dest: Path, version: str, plan: Path = PLAN, *, stage: str = "before") -> list[str]:
    """Apply the declared steps of `version` in `dest`; return one line per step."""
    dest = dest.resolve()
    if not dest.is_dir():
        raise MigrationError(f"{dest}: destination is not a directory")
    migrations = {m.version: m for m in load_plan(plan)}
    if version not in migrations:
        raise MigrationError(
            f"{plan}: no migration declared for version {version}; "
            "copier.yml's _migrations and this file must list the same versions"
        )
    migration = migrations[version]
    use_git = _git_work_tree(dest)
    if stage == "after":
        lines = repair_moved_conflicts(dest, migration) if use_git else []
        if migration.reseed and use_git:
            lines += _seed_missing(dest, migration)
        if migration.library_modules:
            lines += vendored.rewrite_imports(
                dest, package=_package_name(dest), modules=migration.library_modules
            )
        return lines
    lines = [apply_rename(dest, rename, use_git=use_git) for rename in migration.renames]
    lines += apply_answers(dest, migration)
    if (migration.retire or migration.reseed) and use_git:
        lines += _retire_and_reseed(dest, migration)
    if migration.pack_recordings:
        # Before Copier's snapshot: left for later, Copier would delete every recording file
        # the old release shipped (by name, even re-recorded) along with the old folder.
        lines += vendored.pack_recordings(dest)
    return lines or ["nothing to do"]


def _package_name(dest: Path) -> str:
    answers = yaml.safe_load((dest / ANSWERS_FILE).read_text(encoding="utf-8")) or {}
    package = answers.get("package_name") if isinstance(answers, dict) else None
    if not isinstance(package, str) or not package:
        raise MigrationError(f"{ANSWERS_FILE}: no package_name answer to migrate the package")
    return package


def _seed_missing(dest: Path, migration: Migration) -> list[str]:
    """Write the new release's version of every reseeded file Copier left missing: Copier
    seeds a missing file only when the new release changed it."""
    with tempfile.TemporaryDirectory(prefix="squad-migrate-") as scratch:
        new_release = _render_old_release(dest, Path(scratch) / "new", new=True)
        return vendored.seed_missing(
            dest, migration.reseed, new_release, package=_package_name(dest)
        )


def _retire_and_reseed(dest: Path, migration: Migration) -> list[str]:
    """Compare the squad's files with the old release as rendered (see hooks/vendored.py)."""
    package = _package_name(dest)
    with tempfile.TemporaryDirectory(prefix="squad-migrate-") as scratch:
        old_release = _render_old_release(dest, Path(scratch) / "old")
        lines = vendored.retire(
            dest, migration.retire, old_release, package=package, patch=migration.patch
        )
        lines += vendored.reseed(dest, migration.reseed, old_release, package=package)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", help="the release whose migration to apply (e.g. 1.2.0)")
    parser.add_argument(
        "--stage",
        choices=["before", "after"],
        default=os.environ.get("STAGE", "before"),
        help="Copier's migration stage (default: $STAGE, else before)",
    )
    parser.add_argument("--dest", type=Path, default=Path.cwd(), help="squad repo (cwd)")
    parser.add_argument("--plan", type=Path, default=PLAN, help="declarations (YAML)")
    args = parser.parse_args(argv)
    try:
        lines = migrate(args.dest, args.version, args.plan, stage=args.stage)
    except MigrationError as error:
        sys.stderr.write(f"error: migration {args.version}: {error}\n")
        return 2
    for line in lines:
        sys.stderr.write(f"  migration {args.version}: {line}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

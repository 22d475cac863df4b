"""The files a squad commits: written atomically, one command at a time per folder, and
named in messages the way the user sees them.

Every command that rewrites a committed file (labels, the prompt lock, evidence, baselines,
recordings, the contract) writes beside it, fsyncs and renames over it, so a crash leaves
the old file or the new one, never half of either. Commands that read, change and write
(a promotion, a lock) hold `folder_lock` on the folder meanwhile: two engineers or two CI
jobs promoting at once take turns instead of one silently dropping the other's label.
"""

from __future__ import annotations

import functools
import glob
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from .errors import ConfigError

LOCK_WAIT_S = 30.0
"""How long a command waits for another to release a folder before it gives up."""


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it is below it, so messages stay short.

    Symlinks are not followed: a message names the file the user has, not its target.
    """
    try:
        return Path(os.path.abspath(path)).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def atomic_write(path: Path, text: str | Iterable[str]) -> None:
    """Replace `path` with `text` (or its pieces, written as they come, so a large file is
    never held whole): written beside it, fsynced, then renamed over it.

    The file beside is `.<name>.<pid>.<random>.tmp`. A writer killed before its rename
    (`kill -9`, a CI timeout) leaves one behind; the next write of the same file removes
    those of processes that no longer run, so a crash leaves no litter for `git add -A`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphaned_temporaries(path)
    handle, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            if isinstance(text, str):
                file.write(text)
            else:
                for piece in text:
                    file.write(piece)
            file.flush()
            os.fsync(file.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_orphaned_temporaries(path: Path) -> None:
    """Delete the files beside `path` that writers which have since died left behind."""
    if os.name != "posix":  # pragma: no cover - os.kill(pid, 0) terminates it on Windows
        return
    prefix = f".{path.name}."
    for candidate in path.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        pid = candidate.name[len(prefix) :].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _running(int(pid)):
            continue
        candidate.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


@contextmanager
def folder_lock(folder: Path, *, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold an exclusive lock on `folder` (POSIX `flock`; elsewhere a no-op).

    Waits up to `wait_s` for another holder, then fails with a `ConfigError` naming it.
    """
    try:
        import fcntl  # noqa: PLC0415 - POSIX only
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ConfigError(
                        f"{folder}: another squad command has been changing this folder for "
                        f"{wait_s:.0f} s; let it finish, then run this one again"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(descriptor)


P = ParamSpec("P")
R = TypeVar("R")


def serialised_in_folder(
    function: Callable[Concatenate[Path, P], R],
) -> Callable[Concatenate[Path, P], R]:
    """Run `function(folder, ...)` holding `folder_lock(folder)`: one command at a time."""

    @functools.wraps(function)
    def locked(folder: Path, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with folder_lock(folder):
            return function(folder, *args, **kwargs)

    return locked

"""The files a squad commits: read within a size cap and inside the repository, written
atomically, one command at a time per folder, and named in messages the way the user sees them.

Every read of a team file or setting goes through `read_bytes`/`read_text` (a whole file) or
`bounded_lines` (a JSON Lines file, one line at a time): a file larger than its cap, a device
(`SQUAD_MODELS_FILE=/dev/zero`) or a symlink leading out of the repository is one
`ConfigError` naming the file, never gigabytes read into memory.

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
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Concatenate, ParamSpec, TypeVar

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


MiB = 1024 * 1024
TEAM_FILE_CAP = 1 * MiB
"""A file a team edits or a command writes for review: models, observability, labels, the
lock, a prompt version, a suite, evidence, `.env`, the contract (the largest shipped, the
contract, is 16 KB)."""
LINE_CAP = 1 * MiB
"""One line of a dataset or a recordings file (a case, or one answer, with its request:
the longest shipped line is 1.4 KB; a prompt's input schema allows a 20,000-character body)."""
REPORT_CAP = 512 * MiB
"""A report, baseline or plan a command wrote (the template's baseline of 157 cases is
361 KB: about 2.3 KB a case, so the cap holds some 200,000 cases)."""


class UnreadableFile(ConfigError):
    """A file refused before it is read: too large, not a regular file, or out of the repo.

    `reason` is the message without the file's name, for callers that name it their way
    (a prompt problem listed by `squad prompts check`)."""

    def __init__(self, path: Path, reason: str, line: int | None = None) -> None:
        super().__init__(f"{display_path(path)}{f':{line}' if line else ''}: {reason}")
        self.path = path
        self.reason = reason
        self.line = line


def _size(cap: int) -> str:
    return f"{cap // MiB} MiB" if cap % MiB == 0 else f"{cap:,} bytes"


def keep_inside(path: Path, root: Path) -> None:
    """Refuse `path` when it, or a symlink on its way, leads out of `root` (the repository).

    A team file that points elsewhere (`evals/recordings/x.jsonl -> /dev/zero`, a link to
    another checkout) would make a review of the repository miss what a command reads.
    """
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise UnreadableFile(
            path,
            f"leads out of the repository (to {resolved}); keep the squad's files inside "
            "it, as files or links within it",
        )


def repository_of(path: Path) -> Path | None:
    """The repository holding `path` when it is a file of a top-level folder of it
    (`config/models.yaml`, `evals/triage.yaml`): the root `keep_inside` checks against.

    None for a file elsewhere, such as one a setting names (`SQUAD_MODELS_FILE=/x.yaml`):
    where a setting points is the setting's business, not the repository's.
    """
    return path.parent.parent if path.parent.name in ("config", "evals", "prompts") else None


def _open_regular(path: Path) -> BinaryIO:
    """`path` open for reading, refused unless it is a regular file (no device, no pipe)."""
    # O_NONBLOCK: opening a FIFO does not wait for a writer; it is refused right after.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a device, pipe or socket"
            raise UnreadableFile(path, f"not a regular file ({kind}); name a file")
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_bytes(path: Path, *, cap: int = TEAM_FILE_CAP, root: Path | None = None) -> bytes:
    """The bytes of `path`, at most `cap` of them (more is a `ConfigError` naming the cap).

    With `root`, a path leading out of it is refused (`keep_inside`). A missing file raises
    `FileNotFoundError` as `Path.read_bytes` does: what absence means is the caller's call.
    """
    if root is not None:
        keep_inside(path, root)
    with _open_regular(path) as file:
        data = file.read(cap + 1)
    if len(data) > cap:
        raise UnreadableFile(
            path, f"larger than the {_size(cap)} cap for this file; is it the right file?"
        )
    return data


def read_text(path: Path, *, cap: int = TEAM_FILE_CAP, root: Path | None = None) -> str:
    """`read_bytes` decoded as UTF-8 (`UnicodeDecodeError` as `Path.read_text` raises it)."""
    return read_bytes(path, cap=cap, root=root).decode("utf-8")


def open_lines(path: Path, *, root: Path | None = None) -> BinaryIO:
    """`path` open for `bounded_lines` (regular files only; with `root`, inside it)."""
    if root is not None:
        keep_inside(path, root)
    return _open_regular(path)


def bounded_lines(
    handle: BinaryIO, path: Path, *, cap: int = LINE_CAP
) -> Iterator[tuple[int, int, bytes]]:
    """(line number, offset, raw line) for each line of `handle`; a line longer than `cap`
    is a `ConfigError` naming the file and line, read no further than the cap."""
    offset = handle.tell()
    number = 0
    while raw := handle.readline(cap + 1):
        number += 1
        if len(raw) > cap and not (len(raw) == cap + 1 and raw.endswith(b"\n")):
            raise UnreadableFile(
                path, f"longer than the {_size(cap)} cap for one line; split or shorten it", number
            )
        yield number, offset, raw
        offset += len(raw)


def atomic_write(path: Path, text: str | Iterable[str]) -> None:
    """Replace `path` with `text` (or its pieces, written as they come, so a large file is
    never held whole): written beside it, fsynced, then renamed over it.

    The file keeps what made it the file it was: a symlink is written through (its target
    is replaced, the link stays) and an existing file's permission bits are kept (a new
    file gets the usual 0666 less the umask, not `mkstemp`'s 0600).

    The file beside is `.<name>.<pid>.<random>.tmp`. A writer killed before its rename
    (`kill -9`, a CI timeout) leaves one behind; the next write of the same file removes
    those of processes that no longer run, so a crash leaves no litter for `git add -A`.
    """
    if path.is_symlink():
        path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphaned_temporaries(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    handle, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"
    )
    try:
        os.fchmod(handle, mode)
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


def _umask() -> int:
    """The process's umask: from /proc where it is shown (Linux), else by setting it and
    setting it straight back (a thread creating a file meanwhile would see 0o022)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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

"""Fail when a merge or `copier update` left conflict markers or `.rej` files behind.

`copier update` exits 0 even when it could not merge a template change: it leaves
`<<<<<<<` markers inline or a `.rej` file beside the original. Either would be committed
silently, so CI and the pre-commit hook run this check. Looks at every file git tracks or
would track (untracked but not ignored), and prints one `file:line: problem` per finding.
Exit codes: 0 clean, 1 something to resolve, 2 not a git work tree.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

# A marker line is exactly seven characters at the start of a line, as git and copier write
# them; `=======` alone is only a marker between a `<<<<<<<` and a `>>>>>>>`.
OPENING = re.compile(r"^<{7}(?: |$)")
MIDDLE = re.compile(r"^={7}$")
CLOSING = re.compile(r"^>{7}(?: |$)")


def candidate_files(root: Path) -> list[Path]:
    """Tracked and untracked-but-not-ignored files, as git lists them."""
    result = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=root,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        raise NotADirectoryError(f"{root}: not a git work tree ({message})")
    names = {name for name in result.stdout.decode().split("\0") if name}
    return [root / name for name in sorted(names) if (root / name).is_file()]


def markers_in(text: str) -> list[tuple[int, str]]:
    """(line number, marker) for each conflict block found in `text`."""
    found: list[tuple[int, str]] = []
    opened_at = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if OPENING.match(line):
            opened_at = number
            found.append((number, "<<<<<<<"))
        elif opened_at and MIDDLE.match(line):
            found.append((number, "======="))
        elif CLOSING.match(line):
            found.append((number, ">>>>>>>"))
            opened_at = 0
    return found


def problems(root: Path) -> list[str]:
    lines: list[str] = []
    for path in candidate_files(root):
        relative = path.relative_to(root).as_posix()
        if path.suffix == ".rej":
            lines.append(
                f"{relative}: rejected template change; merge it into "
                f"{relative.removesuffix('.rej')} by hand, then delete this file"
            )
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        for number, marker in markers_in(data.decode("utf-8", errors="replace")):
            lines.append(f"{relative}:{number}: conflict marker {marker}; resolve the conflict")
    return lines


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path.cwd()
    try:
        found = problems(root)
    except NotADirectoryError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    for line in found:
        sys.stdout.write(line + "\n")
    if found:
        sys.stderr.write(f"{len(found)} unresolved conflict(s): fix them, then commit\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

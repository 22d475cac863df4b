"""Describe a `copier update` for its pull request, conflicts first.

Copier exits 0 even when it leaves conflict markers inline or `.rej` files beside the
originals, so a green update job proves nothing. This runs the repo's conflict check and
writes reports/pr/{branch,title,body.md} for scripts/ci/open_pr.sh, with a warning at the
top of the body naming every file to resolve. Standard library only.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BRANCH = "template-update"
TITLE = "Update from the squad template"


def answers_commit(root: Path) -> str:
    answers = root / ".copier-answers.yml"
    if answers.is_file():
        for line in answers.read_text(encoding="utf-8").splitlines():
            if line.startswith("_commit:"):
                return line.partition(":")[2].strip()
    return "unknown"


def body(conflicts: list[str], commit: str) -> str:
    lines = [f"Automated `copier update` to template version `{commit}`.", ""]
    if conflicts:
        lines += [
            "> [!WARNING]",
            f"> `copier update` left {len(conflicts)} unresolved conflict(s). Resolve each one",
            "> (edit the file, delete any `.rej`), push to this branch, and run `make check`.",
            "",
            *(f"- `{line}`" for line in conflicts),
        ]
    else:
        lines.append("No conflict markers or `.rej` files: review the diff and run `make check`.")
    lines += ["", "Read the template's CHANGELOG (Upgrade notes) before merging."]
    return "\n".join(lines) + "\n"


def main() -> int:
    root = Path.cwd()
    check = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, str(root / "scripts" / "check_conflicts.py"), str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode == 2:
        sys.stderr.write(check.stderr)
        return 2
    conflicts = [line for line in check.stdout.splitlines() if line.strip()]
    out = root / "reports" / "pr"
    out.mkdir(parents=True, exist_ok=True)
    (out / "branch").write_text(BRANCH + "\n", encoding="utf-8")
    (out / "title").write_text(TITLE + ("  (conflicts)" if conflicts else "") + "\n", "utf-8")
    (out / "body.md").write_text(body(conflicts, answers_commit(root)), encoding="utf-8")
    sys.stdout.write((out / "body.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`copier update` keeps a team's work and applies the template's changes.

Each test builds a private template repository from the working tree with two tags: the
"old" release is the working tree as it is, the "new" one adds a change to a template-owned
file. A squad repo rendered at the old tag, committed and edited by the team, is then
updated to the new tag with the real Copier API.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import copier
import pytest

from conftest import BASE_ANSWERS, TEMPLATE_ROOT, run

OLD, NEW = "0.0.1", "0.0.2"
TEMPLATE_CHANGE = "## Template change from the new release\n"


def _git(*args: str, cwd: Path) -> str:
    return run(["git", *args], cwd=cwd).stdout


def _commit_all(repo: Path, message: str) -> None:
    _git("add", "-A", cwd=repo)
    _git(
        "-c",
        "user.name=Test",
        "-c",
        "user.email=test@example.com",
        "commit",
        "--quiet",
        "--allow-empty",
        "-m",
        message,
        cwd=repo,
    )


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the working tree as tag OLD, plus a template-owned change as tag NEW."""
    repo = tmp_path_factory.mktemp("template-repo")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = TEMPLATE_ROOT / relative
        if source.is_file():
            (repo / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / relative)
    _git("init", "--quiet", "--initial-branch=main", cwd=repo)
    _commit_all(repo, "old release")
    _git("tag", OLD, cwd=repo)
    readme = repo / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\n" + TEMPLATE_CHANGE)
    _commit_all(repo, "new release")
    _git("tag", NEW, cwd=repo)
    return repo


def _render_old(template_repo: Path, destination: Path, **answers: object) -> Path:
    copier.run_copy(
        str(template_repo),
        str(destination),
        data={**BASE_ANSWERS, **answers},
        defaults=True,
        unsafe=True,
        vcs_ref=OLD,
        quiet=True,
    )
    _commit_all(destination, "render old release")
    return destination


def _update(destination: Path, **answers: object) -> None:
    copier.run_update(
        str(destination),
        data=dict(answers),
        defaults=True,
        unsafe=True,
        overwrite=True,
        vcs_ref=NEW,
        quiet=True,
    )


def _leftover_conflicts(repo: Path) -> list[str]:
    found = [str(p.relative_to(repo)) for p in repo.rglob("*.rej") if ".git" not in p.parts]
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts and ".venv" not in path.parts:
            text = path.read_text(encoding="utf-8", errors="replace")
            if "\n<<<<<<< " in f"\n{text}" or "\n>>>>>>> " in f"\n{text}":
                found.append(str(path.relative_to(repo)))
    return found


def test_update_applies_template_change_and_keeps_team_edits(
    template_repo: Path, tmp_path: Path
) -> None:
    repo = _render_old(template_repo, tmp_path / "squad")
    team_file = repo / "docs" / "team-notes.md"
    team_file.parent.mkdir(exist_ok=True)
    team_file.write_text("# Our notes\n")
    env_example = repo / ".env.example"
    env_example.write_text(env_example.read_text() + "TEAM_SETTING=1\n")
    _commit_all(repo, "team edits")

    _update(repo)

    assert TEMPLATE_CHANGE in (repo / "README.md").read_text()
    assert team_file.read_text() == "# Our notes\n"
    assert "TEAM_SETTING=1" in env_example.read_text()
    assert _leftover_conflicts(repo) == []
    answers = (repo / ".copier-answers.yml").read_text()
    assert f"_commit: {NEW}" in answers


def test_conflicting_edit_leaves_visible_markers(template_repo: Path, tmp_path: Path) -> None:
    repo = _render_old(template_repo, tmp_path / "squad")
    readme = repo / "README.md"
    readme.write_text(readme.read_text() + "\n## Team section on the same line\n")
    _commit_all(repo, "team edits the template-owned README")

    _update(repo)

    assert "README.md" in _leftover_conflicts(repo)


def test_update_with_changed_answer_adds_the_service(template_repo: Path, tmp_path: Path) -> None:
    repo = _render_old(template_repo, tmp_path / "squad", include_service=False)
    package = repo / "src" / "acme_support_triage"
    assert not (package / "service").exists()

    _update(repo, include_service=True)

    assert (package / "service").is_dir()
    assert "include_service: true" in (repo / ".copier-answers.yml").read_text()
    assert _leftover_conflicts(repo) == []

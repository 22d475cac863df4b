"""`copier update` keeps a team's work and applies the template's changes.

Each test builds a private template repository from the working tree with two tags: the
"old" release is the working tree as it is, the "new" one adds a change to a template-owned
file. A squad repo rendered at the old tag, committed and edited by the team (a new prompt
version, a changed dataset line, an edit to a template-owned file), is then updated to the
new tag with the real Copier API. Both tags live in that private repository: the checkout's
own tags are never read or written (a developer's `0.1.0` changes nothing here), and the
update from the real 0.1.0 release is `test_update_from_vendored.py`'s, in its own clone.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import copier
import pytest
import yaml

from tests.template.conftest import (
    BASE_ANSWERS,
    NEW_RELEASE,
    OLD_RELEASE,
    TEMPLATE_CHANGE,
    Rendered,
    commit_all,
    git,
    offline_models,
    run,
    tool_env,
    two_releases,
    working_tree_repo,
)

OLD, NEW = OLD_RELEASE, NEW_RELEASE


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the working tree as tag OLD, plus a template-owned change as tag NEW."""
    return two_releases(tmp_path_factory.mktemp("template-repo"))


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
    commit_all(destination, "render old release")
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


TEAM_LINE_IN_MAKEFILE = "\nteam-hello: ## The squad's own target\n\t@echo hello from the squad\n"
PROMPT_V3_DESCRIPTION = "Triage v3: the squad's own wording"


@dataclass(frozen=True)
class Updated:
    """A squad repo rendered at an old release, edited by the team, updated to a new one."""

    repo: Path
    old_ref: str
    prompt_v2: str
    dataset_line: str


def _team_edits(repo: Path) -> tuple[str, str]:
    """What a squad does between two template updates; returns (v2 text, new dataset line)."""
    (repo / "docs").mkdir(exist_ok=True)
    (repo / "docs" / "team-notes.md").write_text("# Our notes\n")
    env_example = repo / ".env.example"
    env_example.write_text(env_example.read_text() + "TEAM_SETTING=1\n")
    # A new prompt version (seeded files are the team's): v3 from v2, own description.
    v2 = (repo / "prompts" / "triage" / "v2.yaml").read_text()
    v3 = yaml.safe_load(v2)
    v3["version"] = 3
    v3["description"] = PROMPT_V3_DESCRIPTION
    (repo / "prompts" / "triage" / "v3.yaml").write_text(yaml.safe_dump(v3, sort_keys=False))
    # A changed dataset line: one more tag on the first case.
    dataset = repo / "evals" / "datasets" / "triage.jsonl"
    lines = dataset.read_text().splitlines(keepends=True)
    case = json.loads(lines[0])
    case["tags"] = [*case.get("tags", []), "team-reviewed"]
    lines[0] = json.dumps(case) + "\n"
    dataset.write_text("".join(lines))
    # An edit to a template-owned file that the template does not touch in the same place.
    makefile = repo / "Makefile"
    makefile.write_text(makefile.read_text() + TEAM_LINE_IN_MAKEFILE)
    return v2, lines[0]


@pytest.fixture(scope="module")
def updated(template_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Updated:
    """Rendered once; the assertions below share it."""
    repo = tmp_path_factory.mktemp("updated") / "squad"
    copier.run_copy(
        str(template_repo), str(repo), data=dict(BASE_ANSWERS), defaults=True, unsafe=True,
        vcs_ref=OLD, quiet=True,
    )  # fmt: skip
    commit_all(repo, f"render {OLD}")
    v2, dataset_line = _team_edits(repo)
    commit_all(repo, "team edits")
    copier.run_update(
        str(repo), defaults=True, unsafe=True, overwrite=True, vcs_ref=NEW, quiet=True
    )
    return Updated(repo, OLD, v2, dataset_line)


def test_update_keeps_every_team_edit(updated: Updated) -> None:
    repo = updated.repo
    assert (repo / "docs" / "team-notes.md").read_text() == "# Our notes\n"
    assert "TEAM_SETTING=1" in (repo / ".env.example").read_text()
    v3 = yaml.safe_load((repo / "prompts" / "triage" / "v3.yaml").read_text())
    assert v3["description"] == PROMPT_V3_DESCRIPTION
    assert (repo / "prompts" / "triage" / "v2.yaml").read_text() == updated.prompt_v2
    dataset = (repo / "evals" / "datasets" / "triage.jsonl").read_text()
    assert dataset.startswith(updated.dataset_line)
    assert TEAM_LINE_IN_MAKEFILE in (repo / "Makefile").read_text()


def test_update_applies_the_template_change_and_moves_commit(updated: Updated) -> None:
    answers = yaml.safe_load((updated.repo / ".copier-answers.yml").read_text())
    assert TEMPLATE_CHANGE in (updated.repo / "README.md").read_text()
    assert answers["_commit"] == NEW


def test_update_without_overlapping_edits_leaves_no_conflicts(updated: Updated) -> None:
    assert _leftover_conflicts(updated.repo) == []
    unmerged = git("diff", "--name-only", "--diff-filter=U", cwd=updated.repo)
    assert unmerged == ""
    check = run([sys.executable, "scripts/check_conflicts.py"], cwd=updated.repo, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_conflicting_edit_leaves_visible_markers(template_repo: Path, tmp_path: Path) -> None:
    repo = _render_old(template_repo, tmp_path / "squad")
    readme = repo / "README.md"
    readme.write_text(readme.read_text() + "\n## Team section on the same line\n")
    commit_all(repo, "team edits the template-owned README")

    _update(repo)

    assert "README.md" in _leftover_conflicts(repo)
    # The generated repo's own check (stdlib only) fails and names the file.
    check = run([sys.executable, "scripts/check_conflicts.py"], cwd=repo, check=False)
    assert check.returncode == 1
    assert "README.md:" in check.stdout
    assert "conflict marker" in check.stdout


def test_update_with_changed_answer_adds_the_service(template_repo: Path, tmp_path: Path) -> None:
    repo = _render_old(template_repo, tmp_path / "squad", include_service=False)
    package = repo / "src" / "acme_support_triage"
    assert not (package / "routes").exists()

    _update(repo, include_service=True)

    assert (package / "routes" / "triage.py").is_file()
    assert "service" in (repo / "pyproject.toml").read_text().split("squadkit[", 1)[1]
    assert "include_service: true" in (repo / ".copier-answers.yml").read_text()
    assert _leftover_conflicts(repo) == []


OWN_OFFLINE_INIT = '"""Our offline models."""\n'
OWN_OFFLINE_MODEL = 'LOCAL_MODELS = {"echo-v1": lambda messages: {"echo": True}}\n'


def test_update_seeds_the_triage_offline_models_a_squad_rendered_before_lacks(
    tmp_path: Path,
) -> None:
    """Releases before the triage models moved into the squad's `offline/` rendered none
    (squadkit answered `local/triage-*`): the update adds them beside the squad's own."""
    template = working_tree_repo(tmp_path / "template")
    seeded = template / "template" / "src" / "{{package_name}}" / "offline"
    shutil.move(seeded, tmp_path / "offline")
    commit_all(template, "a release that seeds no offline/")
    git("tag", OLD, cwd=template)
    shutil.move(tmp_path / "offline", seeded)
    commit_all(template, "a release that seeds offline/")
    git("tag", NEW, cwd=template)
    repo = _render_old(template, tmp_path / "squad")
    offline = repo / "src" / "acme_support_triage" / "offline"
    assert not offline.exists()
    offline.mkdir()
    (offline / "__init__.py").write_text(OWN_OFFLINE_INIT)
    (offline / "echo.py").write_text(OWN_OFFLINE_MODEL)
    commit_all(repo, "the squad's own offline model")

    _update(repo)

    assert (offline / "__init__.py").read_text() == OWN_OFFLINE_INIT  # seeded: never replaced
    served = offline_models(Rendered(repo, BASE_ANSWERS))
    assert {"triage-rules-v1", "triage-rubric-v1", "echo-v1"} <= set(served)
    assert _leftover_conflicts(repo) == []


@pytest.mark.slow
@pytest.mark.act
def test_template_update_workflow_prepares_the_update_pr_under_act(
    template_repo: Path, tmp_path: Path
) -> None:
    """`template-update.yml` as GitHub would run it (act, host mode, offline): the job
    updates to the newest tag and dry-runs the pull request with the changed files."""
    repo = _render_old(template_repo, tmp_path / "squad")
    env = tool_env(UV_PROJECT_ENVIRONMENT=str(tmp_path / "venv"))
    run(["uv", "lock", "--quiet"], cwd=repo, env=env)  # as `make setup` leaves it: committed
    commit_all(repo, "lock")
    act = ["make", "act", "ACT_WORKFLOWS=template-update", "ACT_EVENT=workflow_dispatch"]

    result = run(act, cwd=repo, env=env, check=False)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    assert "[act] would push branch 'template-update'" in output
    assert "README.md" in output.rpartition("would push branch")[2]
    assert f"_commit: {OLD}" in (repo / ".copier-answers.yml").read_text()  # act used a copy


@pytest.mark.slow
def test_updated_repo_passes_make_check(
    updated: Updated, install: Callable[[Rendered], dict[str, str]]
) -> None:
    """Last in this module: it locks v3 and refreshes evals in the shared repo, as a squad would."""
    env = install(Rendered(updated.repo, BASE_ANSWERS))
    run(["uv", "run", "squad", "prompts", "lock"], cwd=updated.repo, env=env)
    run(["make", "eval-refresh"], cwd=updated.repo, env=env)
    run(["make", "check"], cwd=updated.repo, env=env)

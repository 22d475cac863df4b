"""`copier update` from 0.1.0 (machinery rendered into the repo) to the squadkit layout.

The test rebuilds both releases in a private clone: tag 0.1.0 on the release commit of
this repository's history (tags do not travel with a push), and tag 0.2.0 on the working
tree. A squad renders 0.1.0, edits one vendored module, writes a test of its own against
the vendored package and does its everyday edits; the update must remove the vendored files
it never edited, keep its edit of the other in a patch (listed), point its own imports at
squadkit, keep its data, and leave a repo that passes `make check`.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import copier
import pytest

from tests.template.conftest import (
    BASE_ANSWERS,
    TEMPLATE_ROOT,
    TOOLS_BIN,
    Rendered,
    commit_all,
    git,
    offline_models,
    run,
    tool_env,
    working_tree_repo,
)
from tests.template.test_update import TEAM_LINE_IN_MAKEFILE, _leftover_conflicts, _team_edits

RELEASE_0_1_0 = "1f23ac21d68dc2dbfa4ffb9fbf2eae8c62b995e1"  # "Release 0.1.0"
PACKAGE = "acme_support_triage"
PATCH = "docs/upgrade/0.2.0-edits-of-retired-files.patch"
SQUAD_TWEAK = "# the squad's tweak of the vendored router\n"
OWN_TEST = f"""from {PACKAGE}.gateway import load_models_config
from {PACKAGE}.settings import Settings


def test_our_models_file_loads() -> None:
    assert load_models_config(Settings().models_file).aliases
"""


@dataclass(frozen=True)
class Migrated:
    repo: Path
    output: str
    prompt_v2: str
    dataset_line: str


def _releases(destination: Path) -> Path:
    """A clone with 0.1.0 tagged on its release commit and the working tree as 0.2.0."""
    have = subprocess.run(
        ["git", "cat-file", "-e", f"{RELEASE_0_1_0}^{{commit}}"], cwd=TEMPLATE_ROOT, check=False
    )
    if have.returncode != 0:
        pytest.skip("this clone lacks the 0.1.0 release commit (shallow clone?)")
    # --no-tags: the checkout may hold release tags of its own; this clone makes its own.
    git("clone", "--quiet", "--no-tags", str(TEMPLATE_ROOT), str(destination), cwd=TEMPLATE_ROOT)
    git("tag", "0.1.0", RELEASE_0_1_0, cwd=destination)
    overlay = working_tree_repo(destination.parent / "working-tree")
    git("rm", "-r", "--quiet", ".", cwd=destination)
    for path in overlay.rglob("*"):
        relative = path.relative_to(overlay)
        if path.is_file() and ".git" not in relative.parts:
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination / relative)
    commit_all(destination, "0.2.0")
    git("tag", "0.2.0", cwd=destination)
    return destination


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Migrated:
    root = tmp_path_factory.mktemp("from-0.1.0")
    template = _releases(root / "template")
    repo = root / "squad"
    copier.run_copy(
        str(template), str(repo), data=dict(BASE_ANSWERS), defaults=True, unsafe=True,
        vcs_ref="0.1.0", quiet=True,
    )  # fmt: skip
    commit_all(repo, "render 0.1.0")
    router = repo / "src" / PACKAGE / "gateway" / "router.py"
    router.write_text(router.read_text() + SQUAD_TWEAK)
    (repo / "tests" / "test_ours.py").write_text(OWN_TEST)
    v2, dataset_line = _team_edits(repo)
    commit_all(repo, "team edits")
    update = run(
        [str(TOOLS_BIN / "copier"), "update", "--trust", "--defaults", "--vcs-ref=0.2.0"],
        cwd=repo,
        env=tool_env(),
    )
    return Migrated(repo, update.stderr, v2, dataset_line)


def test_unedited_vendored_files_are_removed(migrated: Migrated) -> None:
    package = migrated.repo / "src" / PACKAGE
    assert not (package / "gateway").exists()
    assert not (package / "cli.py").exists()
    for folder in ("gateway", "evals", "prompts", "fakes", "service", "observability"):
        assert not (migrated.repo / "tests" / folder).exists(), folder
    assert (package / "features" / "triage.py").is_file()


def test_the_triage_offline_models_arrive_in_the_squads_offline_package(
    migrated: Migrated,
) -> None:
    """0.1.0 vendored them in `gateway/local_models.py` (retired); its chains still name them."""
    models = (migrated.repo / "config" / "models.yaml").read_text()
    assert "local/triage-rules-v1" in models
    served = offline_models(Rendered(migrated.repo, BASE_ANSWERS))
    assert {"triage-rules-v1", "triage-rubric-v1", "judge-heuristic-v1"} <= set(served)


def test_edited_vendored_file_is_kept_in_a_patch_and_listed(migrated: Migrated) -> None:
    patch = (migrated.repo / PATCH).read_text()
    assert f"+++ b/src/{PACKAGE}/gateway/router.py" in patch
    assert "+" + SQUAD_TWEAK in patch
    assert f"src/{PACKAGE}/gateway/router.py: your edits are kept in {PATCH}" in migrated.output


def test_the_squads_own_code_imports_squadkit(migrated: Migrated) -> None:
    own = (migrated.repo / "tests" / "test_ours.py").read_text()
    assert "from squadkit.gateway import load_models_config" in own
    assert "from squadkit.settings import Settings" in own
    triage = (migrated.repo / "src" / PACKAGE / "features" / "triage.py").read_text()
    assert "squadkit.gateway" in triage


def test_team_data_and_edits_survive_without_conflicts(migrated: Migrated) -> None:
    repo = migrated.repo
    assert (repo / "prompts" / "triage" / "v2.yaml").read_text() == migrated.prompt_v2
    assert (repo / "prompts" / "triage" / "v3.yaml").is_file()
    dataset = (repo / "evals" / "datasets" / "triage.jsonl").read_text()
    assert dataset.startswith(migrated.dataset_line)
    assert TEAM_LINE_IN_MAKEFILE in (repo / "Makefile").read_text()
    assert _leftover_conflicts(repo) == []
    assert git("diff", "--name-only", "--diff-filter=U", cwd=repo) == ""


@pytest.mark.slow
def test_migrated_repo_passes_make_check(
    migrated: Migrated, install: Callable[[Rendered], dict[str, str]]
) -> None:
    env = install(Rendered(migrated.repo, BASE_ANSWERS))
    run(["uv", "run", "squad", "prompts", "lock"], cwd=migrated.repo, env=env)
    run(["make", "eval-refresh"], cwd=migrated.repo, env=env)
    run(["make", "check"], cwd=migrated.repo, env=env)


def test_recordings_are_packed_into_one_file_per_suite(migrated: Migrated) -> None:
    recordings = migrated.repo / "evals" / "recordings"
    assert not (recordings / "triage").exists()
    lines = (recordings / "triage.jsonl").read_text().splitlines()
    shipped = git(
        "ls-tree",
        "-r",
        "--name-only",
        RELEASE_0_1_0,
        "template/evals/recordings/",
        cwd=TEMPLATE_ROOT,
    )
    assert len(lines) == len(shipped.split())
    assert "evals/recordings/triage/: 471 recordings packed" in migrated.output

"""Migrations (`hooks/migrate.py`): declared renames and answer changes, applied safely.

Unit tests drive the runner in a temporary git repo; the end-to-end test builds a private
template repo whose new release moves a template-owned file and declares the migration,
and checks with the real `copier update` that a squad's edit travels with the file.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import copier
import pytest
import yaml

from tests.template.conftest import (
    BASE_ANSWERS,
    TEMPLATE_ROOT,
    commit_all,
    git,
    run,
    working_tree_repo,
)

MIGRATE_PY = TEMPLATE_ROOT / "hooks" / "migrate.py"


def _load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migrate", MIGRATE_PY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["migrate"] = module
    spec.loader.exec_module(module)
    return module


migrate = _load_runner()


def _plan(tmp_path: Path, *migrations: dict[str, object]) -> Path:
    plan = tmp_path / "migrations.yaml"
    plan.write_text(yaml.safe_dump({"migrations": list(migrations)}))
    return plan


def _run_main(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = migrate.main(list(args))
    return code, capsys.readouterr().err


@pytest.fixture
def squad(tmp_path: Path) -> Path:
    """A small committed squad repo: one template-owned doc, one seeded config, answers."""
    repo = tmp_path / "squad"
    (repo / "docs").mkdir(parents=True)
    (repo / "config").mkdir()
    (repo / "docs" / "guide.md").write_text("# Guide\nteam line\n")
    (repo / "config" / "observability.yaml").write_text("sample_rate: 0.1\n")
    (repo / ".copier-answers.yml").write_text(
        "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
        "_commit: 0.1.0\nobservability: otlp\ndefault_provider: vertex\n"
    )
    git("init", "--quiet", "--initial-branch=main", cwd=repo)
    commit_all(repo, "rendered")
    return repo


RENAME = {"version": "0.2.0", "renames": [{"from": "docs/guide.md", "to": "docs/guides/a.md"}]}


def test_rename_moves_the_file_and_stages_the_move(squad: Path, tmp_path: Path) -> None:
    lines = migrate.migrate(squad, "0.2.0", _plan(tmp_path, RENAME))

    assert lines == ["docs/guide.md: moved to docs/guides/a.md"]
    assert (squad / "docs" / "guides" / "a.md").read_text() == "# Guide\nteam line\n"
    assert not (squad / "docs" / "guide.md").exists()
    staged = git("diff", "--cached", "--name-status", "-M", cwd=squad)
    assert "docs/guide.md" in staged
    assert "docs/guides/a.md" in staged


def test_second_run_is_a_no_op(squad: Path, tmp_path: Path) -> None:
    plan = _plan(tmp_path, RENAME)
    migrate.migrate(squad, "0.2.0", plan)
    before = git("status", "--porcelain", cwd=squad)

    assert migrate.migrate(squad, "0.2.0", plan) == [
        "docs/guide.md: already moved to docs/guides/a.md"
    ]
    assert git("status", "--porcelain", cwd=squad) == before


def test_existing_target_is_never_overwritten(
    squad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (squad / "docs" / "guides").mkdir()
    (squad / "docs" / "guides" / "a.md").write_text("the team's own file\n")

    code, err = _run_main(
        "0.2.0", "--dest", str(squad), "--plan", str(_plan(tmp_path, RENAME)), capsys=capsys
    )

    assert code == 2
    assert err.count("\n") == 1
    assert "docs/guides/a.md already exists" in err
    assert (squad / "docs" / "guides" / "a.md").read_text() == "the team's own file\n"
    assert (squad / "docs" / "guide.md").exists()


@pytest.mark.parametrize(
    ("target", "reason"),
    [("../outside.md", "escapes the destination"), ("/tmp/outside.md", "is absolute")],
)
def test_path_escaping_the_destination_is_refused(
    squad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, reason: str
) -> None:
    plan = _plan(
        tmp_path, {"version": "0.2.0", "renames": [{"from": "docs/guide.md", "to": target}]}
    )

    code, err = _run_main("0.2.0", "--dest", str(squad), "--plan", str(plan), capsys=capsys)

    assert code == 2
    assert err.count("\n") == 1
    assert "migrations[0].renames[0].to" in err
    assert reason in err
    assert (squad / "docs" / "guide.md").exists()


def test_symlink_leading_out_of_the_destination_is_refused(
    squad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (squad / "docs" / "link").symlink_to(outside, target_is_directory=True)
    plan = _plan(
        tmp_path,
        {"version": "0.2.0", "renames": [{"from": "docs/guide.md", "to": "docs/link/a.md"}]},
    )

    code, err = _run_main("0.2.0", "--dest", str(squad), "--plan", str(plan), capsys=capsys)

    assert code == 2
    assert "leads outside the destination" in err
    assert list(outside.iterdir()) == []


def test_answers_are_renamed_and_choices_mapped(squad: Path, tmp_path: Path) -> None:
    plan = _plan(
        tmp_path,
        {
            "version": "0.2.0",
            "answers": {
                "rename": {"observability": "telemetry"},
                "values": {"default_provider": {"vertex": "vertex_ai"}},
            },
        },
    )

    lines = migrate.migrate(squad, "0.2.0", plan)

    answers_text = (squad / ".copier-answers.yml").read_text()
    answers = yaml.safe_load(answers_text)
    assert answers == {"_commit": "0.1.0", "telemetry": "otlp", "default_provider": "vertex_ai"}
    assert answers_text.startswith("# Changes here will be overwritten by Copier")
    assert lines == [
        "answer observability: renamed to telemetry",
        "answer default_provider: 'vertex' -> 'vertex_ai'",
    ]
    assert migrate.migrate(squad, "0.2.0", plan) == ["nothing to do"]
    assert yaml.safe_load((squad / ".copier-answers.yml").read_text()) == answers


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("migrations: [\n", "migrations.yaml:2: not valid YAML"),
        ("migrations:\n  - version: one\n", "migrations[0].version: 'one' is not a PEP 440"),
        ("migrations:\n  - version: '1.0'\n    renames: [{from: a}]\n", "renames[0]: expected"),
        ("migrations:\n  - version: '1.0'\n    moves: []\n", "unknown field(s) moves"),
    ],
)
def test_bad_declaration_fails_in_one_line_naming_the_field(
    squad: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    expected: str,
) -> None:
    plan = tmp_path / "migrations.yaml"
    plan.write_text(content)

    code, err = _run_main("1.0", "--dest", str(squad), "--plan", str(plan), capsys=capsys)

    assert code == 2
    assert err.count("\n") == 1
    assert expected in err
    assert "Traceback" not in err


def test_undeclared_version_is_an_error(
    squad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _run_main(
        "9.9.9", "--dest", str(squad), "--plan", str(_plan(tmp_path, RENAME)), capsys=capsys
    )

    assert code == 2
    assert "no migration declared for version 9.9.9" in err


def test_shipped_declarations_match_copier_yml() -> None:
    """Every declared migration is wired in copier.yml, and nothing else is."""
    declared = {m.version for m in migrate.load_plan(migrate.PLAN)}
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    wired = {str(entry["version"]) for entry in config.get("_migrations") or []}
    assert declared == wired
    for entry in config.get("_migrations") or []:
        assert entry["command"][2:] == [str(entry["version"]), "--stage", "{{ _stage }}"]


# --- end to end: a release that moves a template-owned file -------------------------------

OLD, NEW = "0.0.1", "0.0.2"
MOVED_FROM, MOVED_TO = "docs/adding-a-feature.md", "docs/guides/adding-a-feature.md"
TEAM_LINE = "Our squad also records a demo video for every feature.\n"
TEMPLATE_LINE = "Template change: every feature needs an owner in CODEOWNERS.\n"


def _release_with_a_move(repo: Path) -> None:
    """The new release: move a doc, change its content, declare and wire the migration."""
    moved = repo / "template" / MOVED_TO
    moved.parent.mkdir(parents=True, exist_ok=True)
    git("mv", f"template/{MOVED_FROM}", f"template/{MOVED_TO}", cwd=repo)
    moved.write_text(moved.read_text() + "\n" + TEMPLATE_LINE)
    (repo / "hooks" / "migrations.yaml").write_text(
        yaml.safe_dump(
            {"migrations": [{"version": NEW, "renames": [{"from": MOVED_FROM, "to": MOVED_TO}]}]}
        )
    )
    config = repo / "copier.yml"
    text = config.read_text()
    shipped = re.search(r"^_migrations:\n(?:[ #].*\n)*", text, flags=re.MULTILINE)
    assert shipped is not None
    config.write_text(
        text.replace(
            shipped[0],
            f'_migrations:\n  - version: "{NEW}"\n'
            '    command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/hooks/migrate.py",'
            f' "{NEW}", "--stage", "{{{{ _stage }}}}"]\n'
            '    when: "{{ true }}"\n',
        )
    )


@pytest.fixture(scope="module")
def moving_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = working_tree_repo(tmp_path_factory.mktemp("moving-template"))
    commit_all(repo, "old release")
    git("tag", OLD, cwd=repo)
    _release_with_a_move(repo)
    commit_all(repo, "new release moves a doc")
    git("tag", NEW, cwd=repo)
    return repo


def test_update_across_a_move_keeps_the_team_edit_in_the_moved_file(
    moving_template: Path, tmp_path: Path
) -> None:
    repo = tmp_path / "squad"
    copier.run_copy(
        str(moving_template), str(repo), data=BASE_ANSWERS, defaults=True, unsafe=True,
        vcs_ref=OLD, quiet=True, skip_tasks=True,
    )  # fmt: skip
    git("init", "--quiet", "--initial-branch=main", cwd=repo)
    commit_all(repo, "render old release")
    doc = repo / MOVED_FROM
    lines = doc.read_text().splitlines(keepends=True)
    lines.insert(3, TEAM_LINE)  # near the top; the template changes the end
    doc.write_text("".join(lines))
    commit_all(repo, "team edits the feature guide")

    copier.run_update(
        str(repo), defaults=True, unsafe=True, overwrite=True, vcs_ref=NEW, quiet=True
    )

    moved = (repo / MOVED_TO).read_text()
    assert TEAM_LINE in moved
    assert TEMPLATE_LINE in moved
    assert "<<<<<<<" not in moved
    assert not (repo / MOVED_FROM).exists()
    assert not list(repo.rglob("*.rej"))
    assert f"_commit: {NEW}" in (repo / ".copier-answers.yml").read_text()
    check = run(["python3", "scripts/check_conflicts.py"], cwd=repo, check=False)
    assert check.returncode == 0, check.stdout + check.stderr

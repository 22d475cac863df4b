"""A template copied from a relative path (`copier copy ../copier-ai-squad out`) renders a
squadkit pin uv can resolve, or the copy fails naming the fix.

uv resolves neither a relative git URL nor `_src_path` against the directory Copier ran in
(`relative URL without a base`); the post-copy task makes both absolute.
"""

from __future__ import annotations

import os
import shutil
import sys
import tomllib
from pathlib import Path

import copier
import pytest
import yaml

from tests.template.conftest import BASE_ANSWERS, TEMPLATE_ROOT, run, tool_env


def test_a_relative_template_path_renders_an_absolute_pin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no uv: the task leaves `uv lock` to setup
    relative = os.path.relpath(TEMPLATE_ROOT, tmp_path)
    assert not relative.startswith("/")

    copier.run_copy(
        relative, "squad", data=BASE_ANSWERS, defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True
    )

    pyproject = tomllib.loads((tmp_path / "squad" / "pyproject.toml").read_text())
    pin = pyproject["tool"]["uv"]["sources"]["squadkit"]
    assert pin["git"] == f"file://{TEMPLATE_ROOT}"
    answers = yaml.safe_load((tmp_path / "squad" / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == str(TEMPLATE_ROOT)


def test_a_relative_path_to_a_template_that_is_no_git_checkout_is_recorded_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = tmp_path / "unpacked"  # an unpacked release: Copier uses it in place
    template.mkdir()
    for part in ("copier.yml", "template", "hooks"):
        copy = shutil.copytree if (TEMPLATE_ROOT / part).is_dir() else shutil.copy
        copy(TEMPLATE_ROOT / part, template / part)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")

    copier.run_copy("unpacked", "squad", data=BASE_ANSWERS, defaults=True, unsafe=True, quiet=True)

    pyproject = tomllib.loads((tmp_path / "squad" / "pyproject.toml").read_text())
    assert pyproject["tool"]["uv"]["sources"]["squadkit"] == {"path": str(template)}
    answers = yaml.safe_load((tmp_path / "squad" / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == str(template)


def test_a_relative_template_path_of_unknown_place_fails_naming_the_fix(tmp_path: Path) -> None:
    template = tmp_path / "template-copy"  # not a git clone: no origin to resolve against
    (template / "hooks").mkdir(parents=True)
    shutil.copy(TEMPLATE_ROOT / "hooks" / "post_copy.py", template / "hooks")
    squad = tmp_path / "squad"
    squad.mkdir()
    (squad / ".copier-answers.yml").write_text("_src_path: ../copier-ai-squad\n")
    (squad / "pyproject.toml").write_text('[tool.uv.sources]\nsquadkit = { git = "../x" }\n')

    result = run(
        [sys.executable, str(template / "hooks" / "post_copy.py")],
        cwd=squad,
        env=tool_env(),
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: the template path '../copier-ai-squad' is relative and its absolute place is "
        "unknown: copy again from an absolute path, or with --data "
        "squadkit_path=<absolute path of the template>"
    ]


def test_a_relative_template_path_with_skip_tasks_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = os.path.relpath(TEMPLATE_ROOT, tmp_path)

    copier.run_copy(
        relative, "squad", data=BASE_ANSWERS, defaults=True, vcs_ref="HEAD", skip_tasks=True
    )

    said = " ".join(capsys.readouterr().err.split())
    assert f"warning: the template path '{relative}' is relative" in said
    assert "--data squadkit_path=<absolute path of the template>" in said

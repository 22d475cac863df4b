"""`squad prompts check --base REF`: a label gated at the base cannot stop being gated unseen.

Each test commits the fixture squad (with its earned evidence) in a real git repository as
the base, edits `prompts/labels.yaml` as a pull request would, and checks against the base.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

# isort: split
from tests.library.prompts.promptkit import Squad

GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        [*GIT, *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def base(repo: Path, add_evidence: Callable[..., Path]) -> str:
    """The fixture squad, with passing evidence for both versions, committed as the base."""
    add_evidence(1)
    add_evidence(2)
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "-m", "base")
    return _git(repo, "rev-parse", "HEAD")


def _gate_only(repo: Path, text: str) -> None:
    labels = repo / "prompts" / "labels.yaml"
    before = labels.read_text(encoding="utf-8")
    labels.write_text(before.replace("gated_labels:\n- production\n- staging\n", text))


def test_a_label_dropped_from_gated_labels_fails_check_against_the_base(
    repo: Path, base: str, squad: Callable[..., Squad]
) -> None:
    _gate_only(repo, "gated_labels:\n- staging\n")

    result = squad("prompts", "check", "--base", base)

    assert result.code == 1, result.err
    assert (
        "prompts/labels.yaml: gated_labels no longer lists 'production', which it listed at "
        f"{base}" in result.err
    )
    assert "'staging'" not in result.err


def test_emptied_gated_labels_fails_check_once_per_label(
    repo: Path, base: str, squad: Callable[..., Squad]
) -> None:
    _gate_only(repo, "gated_labels: []\n")

    result = squad("prompts", "check", "--base", base)

    assert result.code == 1
    assert result.err.count("gated_labels no longer lists") == 2
    assert "2 prompt problems" in result.err


def test_without_base_a_narrowed_gated_labels_passes_check(
    repo: Path, base: str, squad: Callable[..., Squad]
) -> None:
    _gate_only(repo, "gated_labels:\n- staging\n")

    assert squad("prompts", "check").code == 0


def test_unchanged_or_added_gated_labels_pass_check_against_the_base(
    repo: Path, base: str, squad: Callable[..., Squad]
) -> None:
    assert squad("prompts", "check", "--base", base).code == 0
    _gate_only(repo, "gated_labels:\n- production\n- staging\n- canary\n")

    result = squad("prompts", "check", "--base", base)

    assert result.code == 0, result.err


def test_a_committed_narrowing_fails_against_the_base_but_not_against_itself(
    repo: Path, base: str, squad: Callable[..., Squad]
) -> None:
    _gate_only(repo, "gated_labels:\n- staging\n")
    _git(repo, "commit", "--quiet", "--all", "-m", "stop gating production")

    assert squad("prompts", "check", "--base", base).code == 1
    assert squad("prompts", "check", "--base", "HEAD").code == 0


def test_a_base_without_labels_file_gated_the_default_labels(
    repo: Path, squad: Callable[..., Squad], add_evidence: Callable[..., Path]
) -> None:
    add_evidence(1)
    add_evidence(2)
    labels = repo / "prompts" / "labels.yaml"
    kept = labels.read_text(encoding="utf-8")
    labels.unlink()
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "-m", "base without labels.yaml")
    labels.write_text(
        kept.replace("gated_labels:\n- production\n- staging\n", "gated_labels: []\n")
    )

    result = squad("prompts", "check", "--base", "main")

    assert result.code == 1
    assert "no longer lists 'production'" in result.err


def test_a_base_before_prompts_existed_has_nothing_to_compare(
    repo: Path, squad: Callable[..., Squad], add_evidence: Callable[..., Path]
) -> None:
    add_evidence(1)
    add_evidence(2)
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "commit", "--quiet", "--allow-empty", "-m", "empty start")
    _gate_only(repo, "gated_labels:\n- staging\n")

    result = squad("prompts", "check", "--base", "main")

    assert result.code == 0, result.err


def test_an_unknown_base_is_a_usage_error_in_one_line(
    repo: Path, base: str, squad: Callable[..., Squad]
) -> None:
    result = squad("prompts", "check", "--base", "no-such-branch")

    assert result.code == 2
    assert result.err.strip() == (
        "error: --base no-such-branch: not a commit in this clone; fetch it (actions/checkout "
        "with fetch-depth: 0) or name another ref"
    )


def test_a_base_outside_a_repository_is_a_usage_error(
    repo: Path, squad: Callable[..., Squad]
) -> None:
    result = squad("prompts", "check", "--base", "main")

    assert result.code == 2
    assert "is not in a git repository" in result.err
    assert "Traceback" not in result.err

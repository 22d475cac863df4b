"""Authoring and moving labels: new, lock, diff, show, list, promote and rollback."""

from collections.abc import Callable
from pathlib import Path

import yaml

# isort: split
from tests.library.prompts.promptkit import Squad, snapshot


def test_promote_check_rollback_round_trip_leaves_files_as_they_were(
    repo: Path, squad: Callable[..., Squad], add_evidence: Callable[..., Path]
) -> None:
    add_evidence(1)
    add_evidence(2)
    before = snapshot(repo)

    promoted = squad("prompts", "promote", "triage", "2", "--label", "production")
    assert promoted.code == 0, promoted.err
    assert promoted.out.strip() == "triage:production -> v2 (was v1)"
    assert squad("prompts", "check").code == 0
    assert squad("prompts", "show", "triage:production").out.startswith("# triage@v2")
    rolled = squad("prompts", "rollback", "triage", "--label", "production")

    assert rolled.code == 0, rolled.err
    assert rolled.out.strip() == "triage:production -> v1 (was v2)"
    assert snapshot(repo) == before


def test_promote_refuses_a_gated_label_without_evidence(
    repo: Path, squad: Callable[..., Squad]
) -> None:
    before = snapshot(repo)

    result = squad("prompts", "promote", "triage", "2", "--label", "production")

    assert result.code == 1
    assert result.err.startswith(
        "error: evals/evidence/triage/v2.json: no eval evidence for triage@v2"
    )
    assert "refusing to point gated label triage:production at v2" in result.err
    assert snapshot(repo) == before


def test_promote_refuses_stale_evidence(
    repo: Path, squad: Callable[..., Squad], add_evidence: Callable[..., Path]
) -> None:
    add_evidence(2, prompt_hash="sha256:" + "0" * 64)

    result = squad("prompts", "promote", "triage", "v2", "--label", "production")

    assert result.code == 1
    assert "prompt hash sha256:0000000000" in result.err


def test_force_needs_a_reason(squad: Callable[..., Squad]) -> None:
    result = squad("prompts", "promote", "triage", "2", "--label", "production", "--force")

    assert result.code == 2
    assert "--force needs --reason" in result.err


def test_forced_promotion_records_the_reason(repo: Path, squad: Callable[..., Squad]) -> None:
    result = squad(
        "prompts",
        "promote",
        "triage",
        "2",
        "--label",
        "production",
        "--force",
        "--reason",
        "hotfix for incident 42",
    )

    assert result.code == 0, result.err
    assert "forced" in result.out
    labels = yaml.safe_load((repo / "prompts" / "labels.yaml").read_text())
    assert labels["labels"]["triage"]["production"] == 2
    [move] = labels["history"]
    assert move["forced"] is True
    assert move["reason"] == "hotfix for incident 42"
    assert (move["from"], move["to"]) == (1, 2)


def test_ungated_label_moves_without_evidence(repo: Path, squad: Callable[..., Squad]) -> None:
    result = squad("prompts", "promote", "triage", "2", "--label", "canary")

    assert result.code == 0, result.err
    assert result.out.strip() == "triage:canary -> v2 (was unset)"
    assert squad("prompts", "rollback", "triage", "--label", "canary").code == 0
    assert "canary" not in (repo / "prompts" / "labels.yaml").read_text()


def test_promote_refuses_an_unlocked_version(squad: Callable[..., Squad]) -> None:
    squad("prompts", "new", "triage")

    result = squad("prompts", "promote", "triage", "3", "--label", "canary")

    assert result.code == 1
    assert "triage@v3 is not locked" in result.err


def test_promote_unknown_version_is_a_usage_error(squad: Callable[..., Squad]) -> None:
    result = squad("prompts", "promote", "triage", "7", "--label", "staging")

    assert result.code == 2
    assert "prompts/triage/v7.yaml: no such prompt version" in result.err


def test_rollback_without_history_is_a_clear_error(squad: Callable[..., Squad]) -> None:
    result = squad("prompts", "rollback", "triage", "--label", "production")

    assert result.code == 2
    assert "no recorded move of triage:production to roll back" in result.err


def test_rollback_steps_back_one_promotion_at_a_time(
    repo: Path, squad: Callable[..., Squad]
) -> None:
    squad("prompts", "new", "triage")
    assert squad("prompts", "lock").code == 0
    squad("prompts", "promote", "triage", "1", "--label", "canary")
    squad("prompts", "promote", "triage", "3", "--label", "canary")

    assert squad("prompts", "rollback", "triage", "--label", "canary").out.strip() == (
        "triage:canary -> v1 (was v3)"
    )
    assert squad("prompts", "rollback", "triage", "--label", "canary").out.strip() == (
        "triage:canary -> unset (was v1)"
    )


def test_new_copies_latest_version_into_the_next_file(
    repo: Path, squad: Callable[..., Squad]
) -> None:
    result = squad("prompts", "new", "triage")

    assert result.code == 0, result.err
    v2 = (repo / "prompts" / "triage" / "v2.yaml").read_text()
    v3 = (repo / "prompts" / "triage" / "v3.yaml").read_text()
    assert v3 == v2.replace("\nversion: 2\n", "\nversion: 3\n")


def test_new_prompt_needs_a_model_alias(repo: Path, squad: Callable[..., Squad]) -> None:
    assert squad("prompts", "new", "summary").code == 2
    assert squad("prompts", "new", "summary", "--model", "triage").code == 0
    assert squad("prompts", "lock").out.strip() == "locked summary/v1.yaml"
    assert squad("prompts", "show", "summary@1").code == 0


def test_lock_refuses_while_a_locked_file_is_changed(
    repo: Path, squad: Callable[..., Squad]
) -> None:
    path = repo / "prompts" / "triage" / "v1.yaml"
    path.write_text(path.read_text() + "# edit\n")

    result = squad("prompts", "lock")

    assert result.code == 1
    assert "prompts/triage/v1.yaml: locked version is missing or changed" in result.err


def test_diff_shows_changed_instructions_and_params(squad: Callable[..., Squad]) -> None:
    result = squad("prompts", "diff", "triage", "1", "2")

    assert result.code == 0, result.err
    assert result.out.startswith("--- triage@v1\n+++ triage@v2\n")
    assert "-  max_tokens: 300\n+  max_tokens: 400" in result.out
    assert "+     - urgent: production down" in result.out


def test_list_shows_versions_and_labels(squad: Callable[..., Squad]) -> None:
    result = squad("prompts", "list")

    assert result.code == 0
    assert result.out.split() == ["triage", "v1,", "v2", "production=v1", "staging=v2"]


def test_show_by_label_version_and_latest(squad: Callable[..., Squad]) -> None:
    assert "# labels: staging" in squad("prompts", "show", "triage:staging").out
    assert squad("prompts", "show", "triage@v1").out.startswith("# triage@v1")
    assert squad("prompts", "show", "triage").out.startswith("# triage@v2")
    bad = squad("prompts", "show", "triage@@1")
    assert bad.code == 2
    assert "is not NAME, NAME@VERSION or NAME:LABEL" in bad.err


def test_promote_on_a_symlinked_labels_file_writes_through_the_link(
    repo: Path, squad: Callable[..., Squad], add_evidence: Callable[..., Path]
) -> None:
    add_evidence(2)
    labels = repo / "prompts" / "labels.yaml"
    shared = repo / "shared" / "labels.yaml"
    shared.parent.mkdir()
    labels.rename(shared)
    labels.symlink_to(Path("..") / "shared" / "labels.yaml")
    shared.chmod(0o644)

    promoted = squad("prompts", "promote", "triage", "2", "--label", "production")

    assert promoted.code == 0, promoted.err
    assert labels.is_symlink()
    assert yaml.safe_load(shared.read_text())["labels"]["triage"]["production"] == 2
    assert shared.stat().st_mode & 0o777 == 0o644

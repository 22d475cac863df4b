"""What `squad harvest` picks from the log, on a real SQLite file and the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from squadkit.evals.suite import load_suite
from squadkit.harvest import HarvestOptions, dataset_known, select_candidates
from squadkit.harvest.selection import HarvestResult
from squadkit.inferences import INFERENCES, load_feedback_config
from tests.library.harvest.harvestkit import Log, dataset_lines, ticket


def _harvest(repo: Path, log: Log, **options: Any) -> HarvestResult:
    suite = load_suite(repo / "evals" / "triage.yaml")
    known, _ = dataset_known(suite)
    config = load_feedback_config(repo / "config" / "feedback.yaml")
    return select_candidates(log.store, config, known, HarvestOptions(feature="triage", **options))


def _picked(result: HarvestResult) -> dict[str, list[str]]:
    return {c.inference_id: list(c.reasons) for c in result.candidates}


@pytest.mark.parametrize(
    ("feedback", "reason"),
    [
        (("correct", "boolean", False), "negative_feedback"),
        (("helpfulness", "number", 2), "negative_feedback"),
        (("corrected", "correction", {"queue": "bugs", "priority": "low"}), "correction"),
    ],
)
def test_feedback_picks_an_inference(
    repo: Path, log: Log, feedback: tuple[str, str, Any], reason: str
) -> None:
    picked = log.answer(ticket("picked"))
    log.feedback(picked, *feedback)

    assert _picked(_harvest(repo, log)) == {picked: [reason]}


def test_positive_feedback_picks_nothing(repo: Path, log: Log) -> None:
    fine = log.answer(ticket("fine"))
    log.feedback(fine, "correct", "boolean", True)
    log.feedback(fine, "helpfulness", "number", 4)

    assert _harvest(repo, log).candidates == []


def test_a_threshold_given_replaces_the_middle_of_the_range(repo: Path, log: Log) -> None:
    rated = log.answer(ticket("rated 3.5"))
    log.feedback(rated, "helpfulness", "number", 3.5)

    assert _harvest(repo, log).candidates == []
    assert _picked(_harvest(repo, log, below={"helpfulness": 4})) == {rated: ["negative_feedback"]}


def test_low_online_scores_and_fallback_answers_are_picked(repo: Path, log: Log) -> None:
    low = log.answer(ticket("low"), scores={"length": 0.2})
    fallback = log.answer(ticket("fallback"), fallback=True)
    log.answer(ticket("fine"), scores={"length": 0.9})

    assert _picked(_harvest(repo, log)) == {low: ["low_score"], fallback: ["fallback"]}


def test_a_correction_becomes_the_proposed_expected_answer(repo: Path, log: Log) -> None:
    corrected = log.answer(ticket("wrong queue"))
    log.feedback(corrected, "corrected", "correction", {"queue": "bugs", "priority": "low"})
    flagged = log.answer(ticket("fallback"), fallback=True)

    proposed = {c.inference_id: c.proposed_expected for c in _harvest(repo, log).candidates}

    assert proposed[corrected] == {"queue": "bugs", "priority": "low"}
    # the model's own answer, kept to the keys the dataset labels (no rationale)
    assert proposed[flagged] == {"queue": "billing", "priority": "high"}


def test_inputs_already_in_the_dataset_are_not_offered(repo: Path, log: Log) -> None:
    in_dataset = dict(reversed(dataset_lines(repo)[0]["inputs"].items()))  # another key order
    log.answer(in_dataset, fallback=True)

    result = _harvest(repo, log)

    assert result.candidates == []
    assert result.in_dataset == 1


def test_the_same_input_twice_is_offered_once_as_its_newest_inference(repo: Path, log: Log) -> None:
    log.answer(ticket("twice"), fallback=True)
    newest = log.answer(ticket("twice"), fallback=True)

    result = _harvest(repo, log)

    assert _picked(result) == {newest: ["fallback"]}
    assert result.duplicates == 1


def test_only_the_suite_feature_is_harvested(repo: Path, log: Log) -> None:
    log.answer(ticket("other feature"), feature="summarise", fallback=True)

    assert _harvest(repo, log).scanned == 0


def test_since_leaves_older_inferences_out(repo: Path, log: Log) -> None:
    log.answer(ticket("old"), fallback=True, age=timedelta(days=10))
    recent = log.answer(ticket("recent"), fallback=True)

    since = datetime.now(UTC) - timedelta(days=1)

    assert _picked(_harvest(repo, log, since=since)) == {recent: ["fallback"]}


def test_the_sample_is_drawn_per_prompt_version_and_repeats_with_its_seed(
    repo: Path, log: Log
) -> None:
    for number in range(30):
        log.answer(ticket(f"v1 #{number}"), version=1)
        log.answer(ticket(f"v2 #{number}"), version=2)

    first = _harvest(repo, log, sample=4, seed=7)
    again = _harvest(repo, log, sample=4, seed=7)

    versions = sorted(c.prompt_version or 0 for c in first.candidates)
    assert versions == [1, 1, 1, 1, 2, 2, 2, 2]
    assert {c.reasons[0] for c in first.candidates} == {"sample"}
    assert _picked(first) == _picked(again)


def test_limit_keeps_feedback_before_fallbacks(repo: Path, log: Log) -> None:
    negative = log.answer(ticket("negative"))
    log.feedback(negative, "correct", "boolean", False)
    for number in range(3):
        log.answer(ticket(f"fallback {number}"), fallback=True)

    result = _harvest(repo, log, limit=2)

    assert len(result.candidates) == 2
    assert result.candidates[0].inference_id == negative
    assert result.over_limit == 2


def test_inputs_that_redaction_left_unreadable_are_counted_not_offered(
    repo: Path, log: Log
) -> None:
    picked = log.answer(ticket("redacted"), fallback=True)
    with log.store.engine.begin() as connection:
        connection.execute(
            INFERENCES.update().where(INFERENCES.c.id == picked).values(inputs='{"subject": "[RE')
        )

    result = _harvest(repo, log)

    assert result.candidates == []
    assert result.unreadable == 1


def test_feedback_on_an_episode_picks_its_inferences(repo: Path, log: Log) -> None:
    first = log.answer(ticket("episode, first turn"), episode="chat-7")
    second = log.answer(ticket("episode, second turn"), episode="chat-7")
    log.answer(ticket("another episode"), episode="chat-8")
    log.feedback(None, "correct", "boolean", False, episode="chat-7")

    result = _harvest(repo, log)

    assert _picked(result) == {first: ["negative_feedback"], second: ["negative_feedback"]}
    assert {c.feedback[0].on for c in result.candidates} == {"episode"}


def test_review_below_in_the_feedback_file_sets_the_threshold(repo: Path, log: Log) -> None:
    feedback = repo / "config" / "feedback.yaml"
    text = feedback.read_text(encoding="utf-8")
    feedback.write_text(text.replace("    max: 5\n", "    max: 5\n    review_below: 4\n"))
    rated = log.answer(ticket("rated 3.5"))
    log.feedback(rated, "helpfulness", "number", 3.5)

    assert _picked(_harvest(repo, log)) == {rated: ["negative_feedback"]}

"""`squad harvest` and `squad review` as a reviewer runs them: candidates in, cases out."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.library.harvest.harvestkit import Log, dataset_lines, review_lines, squad, ticket
from tests.library.squad import COMMAND


def _harvested(repo: Path, log: Log, *subjects: str) -> list[str]:
    """Log one fallback answer per subject and harvest them; return their inference ids."""
    ids = [log.answer(ticket(subject), fallback=True) for subject in subjects]
    result = squad(repo, log.store.url, "harvest", "triage")
    assert result.code == 0, result.err
    return ids


def test_harvest_writes_the_review_file_with_what_a_reviewer_needs(
    repo: Path, sqlite_log: Log
) -> None:
    wrong = sqlite_log.answer(ticket("wrong"))
    sqlite_log.feedback(wrong, "correct", "boolean", False)

    result = squad(repo, sqlite_log.store.url, "harvest", "triage")

    assert result.code == 0, result.err
    assert "1 candidate(s) from 1 inference(s)" in result.out
    assert result.out.rstrip().endswith("-> evals/review/triage.jsonl")
    [line] = review_lines(repo)
    assert line["inference_id"] == wrong
    assert (line["prompt"], line["prompt_version"]) == ("triage", 1)
    assert line["prompt_hash"].startswith("sha256:")
    assert line["reasons"] == ["negative_feedback"]
    assert line["inputs"] == ticket("wrong")
    assert line["output"]["queue"] == "billing"
    assert line["feedback"] == [
        {"metric": "correct", "kind": "boolean", "value": False, "on": "inference"}
    ]


def test_a_log_without_content_fails_naming_the_setting(repo: Path, sqlite_log: Log) -> None:
    sqlite_log.answer(ticket("hashed only"), fallback=True, keep_content=False)

    result = squad(repo, sqlite_log.store.url, "harvest", "triage")

    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "keep no content" in result.err
    assert "SQUAD_INFERENCE_LOG_CAPTURE_CONTENT=true" in result.err
    assert not (repo / "evals" / "review").exists()


def test_accept_appends_the_case_with_its_provenance(repo: Path, sqlite_log: Log) -> None:
    [accepted] = _harvested(repo, sqlite_log, "accept me")
    before = dataset_lines(repo)

    result = squad(repo, sqlite_log.store.url, "review", "triage", "--accept", accepted[:13],
                   "--by", "ana")  # fmt: skip

    assert result.code == 0, result.err
    after = dataset_lines(repo)
    assert after[:-1] == before
    case = after[-1]
    assert case["inputs"] == ticket("accept me")
    assert case["expected"] == {"queue": "billing", "priority": "high"}
    assert case["tags"] == ["production"]
    provenance = case["provenance"]
    assert provenance["inference_id"] == accepted
    assert (provenance["prompt"], provenance["prompt_version"]) == ("triage", 1)
    assert provenance["reviewed_by"] == "ana"
    assert provenance["decision"] == "accepted"
    assert len(provenance["reviewed_on"]) == 10
    assert review_lines(repo) == []


def test_edit_appends_the_expected_answer_given(repo: Path, sqlite_log: Log) -> None:
    [edited] = _harvested(repo, sqlite_log, "edit me")

    answer = '{"queue": "bugs", "priority": "urgent"}'
    result = squad(repo, sqlite_log.store.url, "review", "triage", "--edit", edited,
                   "--expected", answer, "--by", "ana")  # fmt: skip

    assert result.code == 0, result.err
    case = dataset_lines(repo)[-1]
    assert case["expected"] == {"queue": "bugs", "priority": "urgent"}
    assert case["provenance"]["decision"] == "edited"


def test_an_accepted_answer_is_labelled_right_for_the_suite_judge(
    repo: Path, sqlite_log: Log
) -> None:
    [accepted] = _harvested(repo, sqlite_log, "right answer")

    squad(repo, sqlite_log.store.url, "review", "triage", "--accept", accepted, "--by", "ana")

    assert dataset_lines(repo)[-1]["human"] == {"judge": True}


def test_an_edited_answer_is_labelled_wrong_for_the_suite_judge(
    repo: Path, sqlite_log: Log
) -> None:
    [edited] = _harvested(repo, sqlite_log, "wrong answer")

    squad(repo, sqlite_log.store.url, "review", "triage", "--edit", edited,
          "--expected", '{"queue": "bugs", "priority": "low"}', "--by", "ana")  # fmt: skip

    assert dataset_lines(repo)[-1]["human"] == {"judge": False}


def test_a_correction_accepted_as_proposed_labels_the_answer_wrong(
    repo: Path, sqlite_log: Log
) -> None:
    corrected = sqlite_log.answer(ticket("corrected by the caller"))
    sqlite_log.feedback(corrected, "corrected", "correction", {"queue": "bugs", "priority": "low"})
    squad(repo, sqlite_log.store.url, "harvest", "triage")

    squad(repo, sqlite_log.store.url, "review", "triage", "--accept", corrected, "--by", "ana")

    case = dataset_lines(repo)[-1]
    assert case["expected"] == {"queue": "bugs", "priority": "low"}
    assert case["human"] == {"judge": False}


def test_the_dataset_with_an_accepted_case_still_loads(repo: Path, sqlite_log: Log) -> None:
    [accepted] = _harvested(repo, sqlite_log, "loads")
    squad(repo, sqlite_log.store.url, "review", "triage", "--accept", accepted, "--by", "ana")

    result = squad(repo, sqlite_log.store.url, "eval", "plan", "triage")

    assert result.code == 0, result.err


def test_a_rejected_input_is_not_offered_again(repo: Path, sqlite_log: Log) -> None:
    [rejected] = _harvested(repo, sqlite_log, "reject me")
    squad(repo, sqlite_log.store.url, "review", "triage", "--reject", rejected, "--by", "ana")
    sqlite_log.answer(ticket("reject me"), fallback=True)  # the same input, asked again

    result = squad(repo, sqlite_log.store.url, "harvest", "triage")

    assert "0 candidate(s) from 2 inference(s)" in result.out
    assert "2 rejected before" in result.out
    assert dataset_lines(repo)[-1]["id"].startswith("ticket-")


def test_an_accepted_input_is_not_offered_again(repo: Path, sqlite_log: Log) -> None:
    [accepted] = _harvested(repo, sqlite_log, "accepted once")
    squad(repo, sqlite_log.store.url, "review", "triage", "--accept", accepted, "--by", "ana")

    result = squad(repo, sqlite_log.store.url, "harvest", "triage")

    assert "0 candidate(s)" in result.out
    assert "1 already in the dataset" in result.out


def test_an_accepted_case_makes_the_suite_evidence_stale(repo: Path, sqlite_log: Log) -> None:
    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [COMMAND, "prompts", "check"],
            cwd=repo,
            env={**os.environ, "SQUAD_ROOT": str(repo)},
            capture_output=True,
            text=True,
            check=False,
        )

    assert check().returncode == 0, check().stderr
    [accepted] = _harvested(repo, sqlite_log, "new evidence needed")
    squad(repo, sqlite_log.store.url, "review", "triage", "--accept", accepted, "--by", "ana")

    result = check()

    assert result.returncode == 1
    assert "dataset evals/datasets/triage.jsonl changed since; rerun the eval gate" in result.stderr


def test_review_without_a_reviewer_is_refused(repo: Path, sqlite_log: Log) -> None:
    [waiting] = _harvested(repo, sqlite_log, "who")
    before = dataset_lines(repo)

    result = squad(repo, sqlite_log.store.url, "review", "triage", "--accept", waiting)

    assert result.code == 2
    assert result.err == "error: --accept: say who reviewed with --by NAME (kept in the dataset)\n"
    assert dataset_lines(repo) == before


def test_a_decisions_file_naming_an_unknown_inference_is_one_line(
    repo: Path, sqlite_log: Log, tmp_path: Path
) -> None:
    _harvested(repo, sqlite_log, "known")
    decisions = tmp_path / "decisions.json"
    decisions.write_text(
        json.dumps(
            {"suite": "triage", "decisions": [{"inference_id": "nope", "decision": "accept"}]}
        ),
        encoding="utf-8",
    )

    result = squad(repo, sqlite_log.store.url, "review", "triage", "--apply", str(decisions),
                   "--by", "ana")  # fmt: skip

    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "decision 1: inference nope is not waiting in evals/review/triage.jsonl" in result.err


def test_an_edit_without_an_answer_in_the_decisions_file_names_the_field(
    repo: Path, sqlite_log: Log, tmp_path: Path
) -> None:
    [waiting] = _harvested(repo, sqlite_log, "edit without answer")
    decisions = tmp_path / "decisions.json"
    body = {"suite": "triage", "decisions": [{"inference_id": waiting, "decision": "edit"}]}
    decisions.write_text(json.dumps(body), encoding="utf-8")

    result = squad(repo, sqlite_log.store.url, "review", "triage", "--apply", str(decisions),
                   "--by", "ana")  # fmt: skip

    assert result.code == 2
    assert "field 'decisions.0'" in result.err
    assert "needs 'expected'" in result.err

"""Suites and datasets: the shipped ones are valid; a bad line or field is named precisely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from squadkit.evals import EvalConfigError, load_dataset, load_suite

from tests.library.evals.evalkit import REPO

QUEUES = {"billing", "technical", "account", "shipping", "sales", "security"}
PRIORITIES = {"low", "normal", "high", "urgent"}


def test_shipped_dataset_is_large_labelled_and_varied() -> None:
    dataset = load_dataset(REPO / "evals" / "datasets" / "triage.jsonl")
    assert len(dataset.cases) >= 150
    assert {c.expected["queue"] for c in dataset.cases} == QUEUES
    assert {c.expected["priority"] for c in dataset.cases} == PRIORITIES
    tags = {t for c in dataset.cases for t in c.tags}
    assert {"ambiguous", "adversarial", "tier:enterprise", "channel:phone"} <= tags
    subjects = [c.inputs["subject"] for c in dataset.cases]
    assert len(set(subjects)) == len(subjects)


def test_shipped_suite_loads() -> None:
    suite = load_suite(REPO / "evals" / "triage.yaml")
    assert {"schema_valid", "grounding", "queue", "priority", "judge"} <= set(suite.scorer_names())
    assert suite.baseline_path.is_file()


def test_corrupted_dataset_line_is_reported_with_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(
        '{"id": "a", "inputs": {"x": 1}}\n\n{"id": "b", "inputs": {"x": 2}\n', encoding="utf-8"
    )
    with pytest.raises(EvalConfigError, match=r"cases\.jsonl:3: not valid JSON"):
        load_dataset(path)


def test_dataset_line_missing_a_field_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "inputs": {}}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(EvalConfigError, match=r"cases\.jsonl:2: field 'inputs': Field required"):
        load_dataset(path)


def test_duplicate_case_ids_name_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "inputs": {}}\n{"id": "a", "inputs": {}}\n', encoding="utf-8")
    with pytest.raises(
        EvalConfigError, match=r"cases\.jsonl:2: duplicate case id 'a' \(first on line 1\)"
    ):
        load_dataset(path)


def test_suite_error_names_file_line_scorer_and_field(repo: Path) -> None:
    suite = repo / "evals" / "triage.yaml"
    text = suite.read_text(encoding="utf-8").replace("min_chars: 10", "min_chars: -1")
    suite.write_text(text, encoding="utf-8")
    with pytest.raises(EvalConfigError) as caught:
        load_suite(suite)
    message = str(caught.value)
    assert "triage.yaml:" in message
    assert "scorer 'rationale' field 'min_chars'" in message


def test_cli_reports_a_corrupted_line_in_one_line_with_exit_2(repo: Path) -> None:
    dataset = repo / "evals" / "datasets" / "triage.jsonl"
    lines = dataset.read_text(encoding="utf-8").splitlines()
    lines[41] = lines[41][:-5]  # a truncated edit on line 42
    dataset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "squad"), "eval", "run", "triage"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: evals/datasets/triage.jsonl:42: not valid JSON")
    assert "Traceback" not in result.stderr

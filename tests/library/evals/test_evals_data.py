"""Suites and datasets: a full suite loads; a bad line or field is named precisely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from squadkit.evals import EvalConfigError, load_dataset, load_suite
from squadkit.gateway import load_models_config
from squadkit.testing import FakeOpenAIServer
from tests.library.evals.evalkit import SQUAD
from tests.library.squad import COMMAND


def test_suite_with_every_builtin_scorer_type_loads() -> None:
    suite = load_suite(SQUAD / "evals" / "triage.yaml")
    assert suite.scorer_names() == [
        "schema_valid",
        "queue",
        "priority",
        "rationale",
        "grounding",
        "judge",
        "latency",
        "cost",
    ]
    assert suite.dataset_path == SQUAD / "evals" / "datasets" / "triage.jsonl"
    assert suite.baseline_path == SQUAD / "evals" / "baselines" / "triage.json"
    assert len(load_dataset(suite.dataset_path).cases) == 40


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
    lines[26] = lines[26][:-5]  # a truncated edit on line 27
    dataset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "squad"), "eval", "run", "triage"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: evals/datasets/triage.jsonl:27: not valid JSON")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    alias: judge\n",
            "    alias: nojudge\n",
            ":44: scorer 'judge' field 'alias': no alias 'nojudge' in config/models.yaml "
            "(aliases: judge, triage)",
        ),
        (
            "  label: production\n\n",
            "  label: production\n  model: nope\n\n",
            ":12: field 'target.model': no alias 'nope' in config/models.yaml",
        ),
        (
            "{name: staging, feature: triage, label: staging}",
            "{name: staging, feature: triage, label: staging, model: nope}",
            ":16: field 'matrix.1.model': no alias 'nope' in config/models.yaml",
        ),
    ],
    ids=["judge alias", "target model", "matrix arm model"],
)
def test_a_suite_naming_an_unknown_alias_fails_at_load_naming_its_line(
    repo: Path, old: str, new: str, message: str
) -> None:
    suite = repo / "evals" / "triage.yaml"
    text = suite.read_text(encoding="utf-8")
    assert old in text
    suite.write_text(text.replace(old, new), encoding="utf-8")

    result = subprocess.run(
        [COMMAND, "eval", "run", "triage", "--mode", "live", "--out", "out"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: evals/triage.yaml" + message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (repo / "out").exists()


def test_a_judge_alias_on_an_unknown_local_model_fails_at_load(repo: Path) -> None:
    models = repo / "config" / "models.yaml"
    text = models.read_text(encoding="utf-8")
    models.write_text(text.replace("local/judge-heuristic-v1", "local/nope-v9"), encoding="utf-8")

    with pytest.raises(EvalConfigError) as caught:
        load_suite(repo / "evals" / "triage.yaml", models=load_models_config(models))

    assert "triage.yaml:44: scorer 'judge' field 'alias': alias 'judge' in " in str(caught.value)
    assert "answers with local/nope-v9, which is not a known local model" in str(caught.value)


def test_an_arm_on_an_unknown_alias_is_refused_before_any_arm_calls(
    repo: Path, fake_openai: FakeOpenAIServer
) -> None:
    models = repo / "config" / "models.yaml"
    data = yaml.safe_load(models.read_text(encoding="utf-8"))
    data["aliases"]["triage"]["deployments"] = [
        {"model": "openai/fake-model", "api_base": fake_openai.base_url, "max_retries": 0}
    ]
    models.write_text(yaml.safe_dump(data), encoding="utf-8")

    arms = ["--model", "triage", "--model", "nope"]
    result = subprocess.run(
        [COMMAND, "eval", "run", "triage", *arms, "--mode", "live", "--out", "out"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(
        "error: evals/triage.yaml: arm 'triage@production+nope': model alias 'nope' is not in"
    )
    assert fake_openai.request_count == 0

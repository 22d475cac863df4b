"""config/experiments.yaml: what it declares, its one-line errors, and what `squad prompts
check` refuses in it (an arm without the evidence a promotion needs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from squadkit.errors import ConfigError
from squadkit.experiments.config import load_experiments
from tests.library.experiments.experimentkit import experiment, squad, write_experiments
from tests.library.squad import ROOT, copy_data


def test_the_shipped_file_runs_no_experiment() -> None:
    assert load_experiments(ROOT / "config" / "experiments.yaml").experiments == {}


def test_a_missing_file_runs_no_experiment(tmp_path: Path) -> None:
    assert load_experiments(tmp_path / "experiments.yaml").experiments == {}


def test_an_experiment_reads_its_arms_control_and_defaults(tmp_path: Path) -> None:
    path = write_experiments(tmp_path, {"t": experiment()})

    declared = load_experiments(path).experiments["t"]

    assert declared.control_arm == "v1"
    assert declared.subject == "X-Episode-Id"
    assert declared.arms["v2"].version == 2
    assert declared.guardrails["latency_p95_ms"].direction == "at-most"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"arms": {"v1": {"version": 1, "weight": 50}, "v2": {"version": "2", "weight": 5}}},
            ":11: experiment 't' field 'arms.v2.version'",
        ),
        ({"control": "v3"}, "experiment 't': control 'v3' is not one of the arms"),
        (
            {"guardrails": {"p99": {"at_most": 1}}},
            "experiment 't': guardrail 'p99' is not one of",
        ),
        (
            {"guardrails": {"error_rate": {"at_most": 2}}},
            "guardrail 'error_rate' is a share: its bound must be in [0, 1]",
        ),
        ({"subject": "customer"}, "subject must be X-Episode-Id or field:<name>"),
        ({"primary": {}}, "give exactly one of `feedback: METRIC` and `score: NAME`"),
        ({"status": "paused"}, "experiment 't' field 'status'"),
        ({"stop": {"alpha": 0.7}}, "experiment 't' field 'stop.alpha'"),
        (
            {"arms": {"v1": {"version": 1, "weight": 0}, "v2": {"version": 2, "weight": 0}}},
            "the arms' weights add up to 0",
        ),
    ],
)
def test_a_bad_experiment_is_one_line_naming_file_line_and_field(
    tmp_path: Path, changes: dict[str, object], expected: str
) -> None:
    path = write_experiments(tmp_path, {})
    write_experiments(tmp_path, {"t": experiment(**changes)})

    with pytest.raises(ConfigError) as raised:
        load_experiments(path)

    message = str(raised.value)
    assert message.startswith(f"{path}")
    assert expected in message
    assert "\n" not in message


def test_two_running_experiments_on_one_label_are_refused(tmp_path: Path) -> None:
    path = write_experiments(tmp_path, {"a": experiment(), "b": experiment()})

    with pytest.raises(ConfigError, match="experiments 'a' and 'b' both run on triage:production"):
        load_experiments(path)


def test_prompts_check_passes_with_arms_holding_evidence(tmp_path: Path) -> None:
    root = copy_data(tmp_path)
    write_experiments(root, {"t": experiment()})

    result = squad(root, "prompts", "check")

    assert result.returncode == 0, result.stdout + result.stderr


def test_prompts_check_refuses_an_arm_without_evidence(tmp_path: Path) -> None:
    root = copy_data(tmp_path)
    (root / "evals" / "evidence" / "triage" / "v2.json").unlink()
    write_experiments(root, {"t": experiment(), "old": experiment(status="stopped")})

    result = squad(root, "prompts", "check")

    assert result.returncode == 1
    assert (
        "config/experiments.yaml:10: experiment 't' arm 'v2': no eval evidence for triage@v2"
        in result.stderr
    )
    assert "'old'" not in result.stderr  # a stopped experiment serves nothing


def test_prompts_check_refuses_an_arm_through_a_model_its_evidence_does_not_name(
    tmp_path: Path,
) -> None:
    root = copy_data(tmp_path)
    models = root / "config" / "models.yaml"
    with models.open("a", encoding="utf-8") as appended:
        appended.write("  triage-b:\n    deployments:\n      - model: local/triage-rules-v1\n")
    arms = {
        "v1": {"version": 1, "weight": 1},
        "v1b": {"version": 1, "weight": 1, "model": "triage-b"},
    }
    write_experiments(root, {"t": experiment(arms=arms)})

    result = squad(root, "prompts", "check")

    assert result.returncode == 1
    assert "experiment 't' arm 'v1b'" in result.stderr
    assert "records no deployment for the prompt's alias 'triage-b'" in result.stderr


JUDGE_ARM = {
    "v1": {"version": 1, "weight": 1},
    "v1j": {"version": 1, "weight": 1, "model": "judge"},
}


def test_prompts_check_refuses_an_arm_through_the_judges_alias(tmp_path: Path) -> None:
    # triage v1's gate called the `judge` alias, but only to grade triage's answers.
    root = copy_data(tmp_path)
    write_experiments(root, {"t": experiment(arms=JUDGE_ARM)})

    result = squad(root, "prompts", "check")

    assert result.returncode == 1
    assert "experiment 't' arm 'v1j'" in result.stderr
    assert (
        "records no deployment for the prompt's alias 'judge' (it only judged the answers"
        in result.stderr
    )
    assert "arm 'v1':" not in result.stderr


def _as_schema_1(evidence: Path) -> None:
    """Rewrite `evidence` as squadkit wrote it before `judges`: every alias under `models`."""
    data = json.loads(evidence.read_text(encoding="utf-8"))
    data["schema_version"] = 1
    data["models"] = dict(sorted({**data["models"], **data.pop("judges")}.items()))
    evidence.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def test_a_schema_1_evidence_file_still_gates_its_prompts_own_alias(tmp_path: Path) -> None:
    root = copy_data(tmp_path)
    for version in (1, 2):
        _as_schema_1(root / "evals" / "evidence" / "triage" / f"v{version}.json")
    write_experiments(root, {"t": experiment()})

    result = squad(root, "prompts", "check")

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_schema_1_evidence_file_cannot_vouch_for_an_arms_own_alias(tmp_path: Path) -> None:
    root = copy_data(tmp_path)
    _as_schema_1(root / "evals" / "evidence" / "triage" / "v1.json")
    write_experiments(root, {"t": experiment(arms=JUDGE_ARM)})

    result = squad(root, "prompts", "check")

    assert result.returncode == 1
    assert "experiment 't' arm 'v1j': schema_version 1 lists the judges' aliases" in result.stderr
    assert "cannot show that alias 'judge' answered the cases" in result.stderr


def test_prompts_check_refuses_an_invalid_experiments_file_with_exit_2(tmp_path: Path) -> None:
    root = copy_data(tmp_path)
    write_experiments(root, {"t": experiment(status="paused")})

    result = squad(root, "prompts", "check")

    assert result.returncode == 2
    assert "experiment 't' field 'status'" in result.stderr
    assert "Traceback" not in result.stderr


def test_prompts_check_refuses_a_primary_metric_the_report_cannot_read(tmp_path: Path) -> None:
    root = copy_data(tmp_path)
    write_experiments(
        root,
        {"t": experiment(primary={"feedback": "reason"}), "u": experiment(status="stopped")},
    )

    result = squad(root, "prompts", "check")

    assert result.returncode == 1
    assert (
        "config/experiments.yaml:13: experiment 't': primary feedback 'reason' is a category "
        "metric in config/feedback.yaml" in result.stderr
    )

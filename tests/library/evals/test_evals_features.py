"""A suite that names a feature runs the feature's own code and scores what it returns.

The fixture squad's suite targets its triage feature (tests/library/squad/features/
triage.py), which refuses an answer outside its taxonomy; these tests replay it from the
committed recordings, changed where a test says so.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from squadkit.evals import (
    EvalConfigError,
    EvalReport,
    GateFailed,
    RunOptions,
    load_suite,
    run_suite,
    workflow,
)
from squadkit.evals.cache import RecordedResponse
from squadkit.evals.feature_target import gateway_error
from squadkit.evals.suite import Target
from squadkit.gateway import InvalidOutput, ProviderUnavailable
from squadkit.settings import Settings

CASE = "ticket-041"


def replay(settings: Settings, targets: list[Target] | None = None) -> EvalReport:
    suite = load_suite(settings.evals_dir / "triage.yaml")
    options = RunOptions(mode="replay", progress=False)
    return asyncio.run(run_suite(suite, settings=settings, options=options, targets=targets))


def edit_answer(settings: Settings, case: str, **changes: object) -> None:
    """Change the recorded triage answer of `case` (its key, so its request, stays)."""
    path = settings.evals_dir / "recordings" / "triage.jsonl"
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        if data["request"]["case"] == case and data["request"]["alias"] == "triage":
            for name, value in changes.items():
                if name == "queue":
                    data["response"]["output"]["queue"] = value
                else:
                    data["response"][name] = value
        lines.append(json.dumps(data, sort_keys=True))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def case_of(report: EvalReport, case: str) -> dict[str, Any]:
    found = next(c for c in report.arm().cases if c.id == case)
    return found.model_dump(mode="json")


def test_the_fixture_suite_targets_the_squads_feature(settings: Settings) -> None:
    suite = load_suite(settings.evals_dir / "triage.yaml")
    assert suite.spec.target.feature == "triage"
    assert all(arm.feature == "triage" for arm in suite.spec.matrix)


def test_an_answer_the_feature_rejects_is_that_cases_error(settings: Settings) -> None:
    edit_answer(settings, CASE, queue="refunds")

    report = replay(settings)

    rejected = case_of(report, CASE)
    attempt = rejected["attempts"][0]
    assert "triage@v1: answer field 'queue'" in attempt["error"]
    assert "tighten the prompt's output_schema to Answer" in attempt["error"]
    assert set(rejected["scores"].values()) == {0.0}
    assert report.arm().summary.errors == 1


def test_the_bare_prompt_scores_the_answer_the_feature_rejects(settings: Settings) -> None:
    edit_answer(settings, CASE, queue="refunds")

    report = replay(settings, [Target(prompt="triage", label="production")])

    bare = case_of(report, CASE)
    assert bare["attempts"][0]["error"] is None
    assert bare["scores"]["rationale"] == 1.0
    assert bare["scores"]["queue"] == 0.0


def test_a_case_whose_inputs_do_not_fit_the_feature_is_refused_before_any_call(
    settings: Settings,
) -> None:
    dataset = settings.evals_dir / "datasets" / "triage.jsonl"
    odd = {
        "id": "ticket-fax",
        "inputs": {
            "subject": "Hi",
            "body": "Sent by fax.",
            "customer_tier": "pro",
            "channel": "fax",
        },
        "expected": {"queue": "technical", "priority": "low"},
    }
    dataset.write_text(dataset.read_text(encoding="utf-8") + json.dumps(odd) + "\n")

    with pytest.raises(EvalConfigError) as refused:  # the squad's data, not a model's answer
        replay(settings)

    assert "triage.jsonl:41: field 'inputs.channel'" in str(refused.value)
    assert "what feature 'triage' takes: Ticket" in str(refused.value)


def test_a_version_pinned_arm_runs_that_version_of_the_features_prompt(
    settings: Settings,
) -> None:
    report = replay(settings, [Target(feature="triage", version=2)])
    staging = replay(settings, [Target(feature="triage", label="staging")])  # v2 too

    assert report.arm().prompt.version == 2
    assert [c.scores for c in report.arm().cases] == [c.scores for c in staging.arm().cases]


def test_a_case_a_fallback_answered_for_the_feature_fails_the_gate(
    settings: Settings, tmp_path: Path
) -> None:
    edit_answer(settings, CASE, fallback_used=True)
    suite = load_suite(settings.evals_dir / "triage.yaml")

    with pytest.raises(GateFailed, match="fallback"):
        workflow.gate(
            settings, suite, RunOptions(mode="replay"), [suite.spec.target], tmp_path / "out"
        )

    report = json.loads((tmp_path / "out" / "triage" / "report.json").read_text())
    assert report["gate"]["answered_by_fallback"] == [CASE]


def test_a_suite_naming_an_unknown_feature_is_a_config_error(settings: Settings) -> None:
    with pytest.raises(EvalConfigError, match=r"triage\.yaml: target: no feature 'sumarise'"):
        replay(settings, [Target(feature="sumarise")])


def test_replayed_feature_suite_passes_the_gate_without_importing_litellm(
    settings: Settings, tmp_path: Path
) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from squadkit.evals import RunOptions, load_suite, workflow\n"
        "from squadkit.settings import Settings\n"
        f"settings = Settings(root=Path({str(settings.root)!r}))\n"
        "suite = load_suite(settings.evals_dir / 'triage.yaml')\n"
        "outcome = workflow.gate(settings, suite, RunOptions(mode='replay', progress=False),\n"
        f"    [suite.spec.target], Path({str(tmp_path)!r}))\n"
        "print(outcome.report.gate.verdict, 'litellm' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["pass", "False"]


def test_recorded_failures_reach_the_feature_as_the_gateways_typed_errors() -> None:
    said = (
        "model alias 'triage' (local/x) gave invalid structured output after one repair "
        "attempt: not JSON"
    )
    invalid = gateway_error(
        RecordedResponse(alias="triage", deployment="local/x", error=said), None
    )
    outage = gateway_error(RecordedResponse(alias="triage", error="every deployment failed"), 5)

    assert isinstance(invalid, InvalidOutput)
    assert (str(invalid), invalid.deployment, invalid.problem) == (said, "local/x", "not JSON")
    assert isinstance(outage, ProviderUnavailable)
    assert str(outage) == "every deployment failed"

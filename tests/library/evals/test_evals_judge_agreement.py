"""The judge checked against people: `squad eval judge-agreement` and the gate's advisory
judges, on the fixture squad's triage suite (its `judge` is an llm_judge scorer) replayed
from its recordings, with human labels written into a scratch copy of its dataset."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from squadkit.evals import GateFailed, RunOptions, load_suite, workflow
from squadkit.evals.agreement import cohen_kappa
from squadkit.settings import Settings
from tests.library.squad import COMMAND

REPLAY = RunOptions(mode="replay", progress=False)

# The judge's scores in the fixture's recordings, per case: 0.56 passes (pass_score 0.5),
# 0.44 and 0.33 do not. People agree with it, or label every case by another rule.
Labeller = Callable[[str, float], Any]


def _judge_scores(settings: Settings) -> dict[str, float]:
    baseline = json.loads((settings.evals_dir / "baselines" / "triage.json").read_text())
    return {case["id"]: case["scores"]["judge"] for case in baseline["arms"][0]["cases"]}


def _label(settings: Settings, labeller: Labeller, *, first: int | None = None) -> None:
    """Give the first `first` cases (all by default) a `human` label for `judge`, then
    rewrite the baseline in replay: the dataset's hash changed, its answers did not."""
    scores = _judge_scores(settings)
    path = settings.evals_dir / "datasets" / "triage.jsonl"
    lines = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        case = json.loads(line)
        if first is None or number < first:
            case["human"] = {"judge": labeller(case["id"], scores[case["id"]])}
        lines.append(json.dumps(case))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _rebaseline(settings)


def _rebaseline(settings: Settings) -> None:
    suite = load_suite(settings.evals_dir / "triage.yaml")
    workflow.baseline(settings, suite, REPLAY, [suite.spec.target])


def _suite(settings: Settings, **gate: Any) -> None:
    """Set `gate.<key>` in the triage suite (judge's threshold 0.9: its mean 0.457 misses it)."""
    path = settings.evals_dir / "triage.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["gate"]["thresholds"]["judge"] = 0.9
    spec["gate"].update(gate)
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")


def _agreeing(_: str, score: float) -> bool:
    return score >= 0.5


def _disagreeing(case_id: str, _: float) -> bool:
    return int(case_id.rsplit("-", 1)[1]) % 8 == 1  # unrelated to what the judge said


def _agreement(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, "eval", "judge-agreement", "triage", *args],
        cwd=settings.root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_kappa_discounts_the_agreement_chance_explains() -> None:
    # 70% observed agreement where chance alone gives 50%: kappa (0.7 - 0.5) / 0.5 = 0.4.
    pairs = [(0, 0)] * 20 + [(0, 1)] * 5 + [(1, 0)] * 10 + [(1, 1)] * 15
    assert cohen_kappa(pairs, 2) == pytest.approx(0.4)


def test_kappa_is_undefined_when_both_raters_give_one_verdict_throughout() -> None:
    assert cohen_kappa([(1, 1)] * 12, 2) is None


def test_judge_agreement_reports_kappa_interval_confusion_matrix_and_n(
    settings: Settings,
) -> None:
    flipped = {"ticket-001", "ticket-005"}  # people disagree with the judge on two cases
    _label(settings, lambda case, score: _agreeing(case, score) != (case in flipped))

    result = _agreement(settings, "--format", "json")

    assert result.returncode == 0, result.stderr
    (judge,) = json.loads(result.stdout)["judges"]
    assert judge["n"] == 40
    assert judge["verdicts"] == [False, True]
    assert sum(map(sum, judge["confusion"]["matrix"])) == 40
    assert judge["observed_agreement"] == pytest.approx(38 / 40)
    assert judge["ci_low"] < judge["kappa"] < judge["ci_high"]
    assert judge["status"] == "unchecked"  # the suite sets no gate.judge_agreement


def test_judge_agreement_interval_is_the_same_on_every_run(settings: Settings) -> None:
    _label(settings, _disagreeing)
    first = json.loads(_agreement(settings, "--format", "json").stdout)["judges"][0]
    second = json.loads(_agreement(settings, "--format", "json").stdout)["judges"][0]
    assert (first["ci_low"], first["ci_high"]) == (second["ci_low"], second["ci_high"])


def test_judge_agreement_markdown_shows_the_confusion_matrix(settings: Settings) -> None:
    _label(settings, _agreeing)
    result = _agreement(settings, "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert "| people \\ judge | `false` | `true` |" in result.stdout
    assert "| `false` | 28 | 0 |" in result.stdout


def test_a_judge_people_agree_with_gates(settings: Settings, tmp_path: Path) -> None:
    _suite(settings, judge_agreement={"min_kappa": 0.6, "min_cases": 30})
    _label(settings, _agreeing)
    suite = load_suite(settings.evals_dir / "triage.yaml")

    with pytest.raises(GateFailed, match=r"judge: mean 0\.457 is below the threshold 0\.900"):
        workflow.gate(settings, suite, REPLAY, [suite.spec.target], tmp_path)


def test_a_judge_people_disagree_with_is_advisory_and_does_not_fail_the_gate(
    settings: Settings, tmp_path: Path
) -> None:
    _suite(settings, judge_agreement={"min_kappa": 0.6, "min_cases": 30})
    _label(settings, _disagreeing)
    suite = load_suite(settings.evals_dir / "triage.yaml")

    outcome = workflow.gate(settings, suite, REPLAY, [suite.spec.target], tmp_path)

    gate = outcome.report.gate
    assert gate is not None
    assert gate.verdict == "pass"
    assert "starts below gate.judge_agreement.min_kappa 0.60 on 40 cases" in gate.advisory["judge"]
    summary = outcome.paths["markdown"].read_text(encoding="utf-8")
    assert "| ADVISORY |" in summary
    assert "**Advisory judges (shown, not gating)**" in summary
    assert "starts below" in outcome.paths["html"].read_text(encoding="utf-8")
    junit = ElementTree.parse(outcome.paths["junit"]).getroot()  # noqa: S314 - our own file
    skipped = [c.get("name") for c in junit.iter("testcase") if c.find("skipped") is not None]
    assert skipped == ["threshold judge", "regression judge"]


def test_a_judge_labelled_on_too_few_cases_is_advisory(settings: Settings) -> None:
    _suite(settings, judge_agreement={"min_kappa": 0.6, "min_cases": 30})
    _label(settings, _agreeing, first=10)

    result = _agreement(settings, "--format", "json")

    (judge,) = json.loads(result.stdout)["judges"]
    assert judge["status"] == "advisory"
    assert "only 10 case(s) carry a human label for 'judge'" in judge["why"]


def test_people_label_a_judge_with_categories_in_its_terms(settings: Settings) -> None:
    path = settings.evals_dir / "triage.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    (judge,) = [s for s in spec["scorers"] if s["name"] == "judge"]
    judge["categories"] = {"poor": 0, "fair": 0.4, "good": 0.5}
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    bands = {0.33: "poor", 0.44: "fair", 0.56: "good"}
    _label(settings, lambda _, score: bands[score])

    result = _agreement(settings, "--format", "json")

    (found,) = json.loads(result.stdout)["judges"]
    assert found["verdicts"] == ["poor", "fair", "good"]
    assert found["kappa"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("human", "why"),
    [
        ({"judge": 3}, "field 'human': verdict of 'judge' is 3: give true, false or a category"),
        ({"judge": "yes"}, "field 'human.judge': \"yes\" is not a verdict of judge 'judge'"),
        ({"queue": True}, "field 'human.queue': suite 'triage' has no llm_judge scorer 'queue'"),
    ],
)
def test_a_bad_human_label_is_a_one_line_data_error_naming_its_line(
    settings: Settings, human: dict[str, Any], why: str
) -> None:
    path = settings.evals_dir / "datasets" / "triage.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    case = json.loads(lines[2])
    case["human"] = human
    lines[2] = json.dumps(case)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = _agreement(settings)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert f"evals/datasets/triage.jsonl:3: {why}" in result.stderr

"""Online quality signals: cheap scorers, sampling and the drift check against the baseline."""

import json
import logging
from collections.abc import Mapping
from pathlib import Path

import pytest

from squadkit.observability import (
    DriftMonitor,
    QualitySampler,
    QualityScore,
)
from squadkit.observability.config import DriftConfig, QualityConfig
from squadkit.observability.quality import (
    Answer,
    build_scorers,
    quoted_phrases,
    read_baseline_means,
)
from tests.library.squad import ROOT as SQUAD

SCHEMA = {"type": "object", "required": ["queue"], "properties": {"queue": {"enum": ["billing"]}}}
TICKET = "I was charged twice for my order"


def _scores(
    text: str, output: object, schema: Mapping[str, object] | None = SCHEMA
) -> dict[str, float]:
    answer = Answer(text=text, output=output, inputs_text=TICKET, output_schema=schema)
    results = [scorer(answer) for scorer in build_scorers(QualityConfig())]
    return {score.scorer: score.value for score in results if score is not None}


def test_grounded_valid_answer_scores_one_everywhere() -> None:
    output = {"queue": "billing", "rationale": 'the customer was "charged  TWICE"'}
    assert _scores(json.dumps(output), output) == {
        "schema_valid": 1.0,
        "refusal": 1.0,
        "length": 1.0,
        "grounding": 1.0,
    }


def test_invented_queue_fails_schema_and_invented_quote_fails_grounding() -> None:
    output = {"queue": "refunds", "rationale": 'says "cancel my plan" and "charged twice"'}
    scores = _scores(json.dumps(output), output)
    assert scores["schema_valid"] == 0.0
    assert scores["grounding"] == 0.5


def test_refusal_and_empty_answer_are_flagged() -> None:
    scores = _scores("", None, schema=None)
    assert scores == {"refusal": 1.0, "length": 0.0, "grounding": 1.0}
    assert _scores("I'm sorry, but I cannot do that.", None, schema=None)["refusal"] == 0.0


def test_quoted_phrases_understands_curly_quotes() -> None:
    assert quoted_phrases('he wrote “charged twice” and "order"') == ["charged twice", "order"]


@pytest.mark.parametrize(("rate", "expected"), [(1.0, 100), (0.0, 0)])
def test_sampler_extremes_are_exact(rate: float, expected: int) -> None:
    sampler = QualitySampler(rate, seed=1)
    assert sum(sampler.should_sample() for _ in range(100)) == expected


def test_sampler_rate_is_roughly_respected() -> None:
    sampler = QualitySampler(0.25, seed=7)
    assert 200 < sum(sampler.should_sample() for _ in range(1000)) < 300


def _baseline(tmp_path: Path, mean: float) -> Path:
    baselines = tmp_path / "baselines"
    baselines.mkdir()
    report = {"suite": "triage", "scores": {"grounding": {"mean": mean, "ci": [0.8, 0.95]}}}
    (baselines / "triage.json").write_text(json.dumps(report), encoding="utf-8")
    return baselines


def _feed(monitor: DriftMonitor, values: list[float]) -> list[bool]:
    statuses = [
        monitor.observe("triage", "3", QualityScore("grounding", value, "", "")) for value in values
    ]
    return [status.drifting for status in statuses if status is not None]


def test_drift_fires_on_shifted_window(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = DriftConfig(window=20, min_samples=10, margin=0.1)
    monitor = DriftMonitor(config, _baseline(tmp_path, mean=0.9))
    with caplog.at_level(logging.WARNING):
        drifting = _feed(monitor, [1.0, 0.0] * 10)  # mean 0.5 vs 0.9
    assert drifting[-1] is True
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once when it starts, not per call
    assert "quality drift" in warnings[0].getMessage()


def test_drift_stays_quiet_on_unshifted_window(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = DriftConfig(window=20, min_samples=10, margin=0.1)
    monitor = DriftMonitor(config, _baseline(tmp_path, mean=0.9))
    with caplog.at_level(logging.WARNING):
        drifting = _feed(monitor, [1.0] * 9 + [0.0] + [1.0] * 8 + [0.0, 1.0])  # mean 0.9
    assert drifting
    assert not any(drifting)
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_drift_check_tolerates_a_missing_baseline(tmp_path: Path) -> None:
    monitor = DriftMonitor(DriftConfig(window=5, min_samples=1), tmp_path / "nowhere")
    assert _feed(monitor, [0.0] * 5) == []


def test_baseline_means_read_flat_or_nested_scores(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"scorers": {"a": 0.5, "b": {"mean": 0.75}, "c": "x"}}))
    assert read_baseline_means(path) == {"a": 0.5, "b": 0.75}
    path.write_text("not json")
    assert read_baseline_means(path) == {}


def test_eval_baseline_gives_the_online_scorers_their_means() -> None:
    """Drift compares online scores with the eval baseline under the same scorer names."""
    baseline = SQUAD / "evals" / "baselines" / "triage.json"
    means = read_baseline_means(baseline)
    assert means["schema_valid"] == 1.0
    assert 0.0 < means["grounding"] <= 1.0

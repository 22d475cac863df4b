"""Repeats end to end: a case whose answer flips from sample to sample is flagged, not decisive.

The suite runs the fixture squad's triage prompt through the real gateway (litellm's Router,
real HTTP) against the fake OpenAI-compatible server, which answers by the ticket's subject.
Eight tickets, three samples each. Against a baseline where every answer was right, two
tickets now fail every sample and one ticket is right in two samples out of three. That
ticket is the one that would tip the gate under the lenient `confidently-worse` rule (the
default rule, non-inferiority, fails two real misses outright). Left out, two misses in
seven cases are too little evidence at 95% (about (5/7)**7, 9.5%, of bootstrap resamples
draw neither miss); counted once with a single wrong sample, three misses in eight are
enough (p about 0.02).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from squadkit.evals import (
    GateFailed,
    RunOptions,
    Suite,
    load_suite,
    workflow,
)
from squadkit.settings import Settings
from squadkit.testing import FakeOpenAIServer, Reply

TICKETS = {  # subject -> the queue it belongs to
    "Support ticket 1": "billing",
    "Support ticket 2": "technical",
    "Support ticket 3": "account",
    "Support ticket 4": "shipping",
    "Support ticket 5": "billing",
    "Support ticket 6": "security",
    "Support ticket 7": "technical",
    "Support ticket 8": "account",
}
WRONG = "sales"  # no ticket belongs there
FLAKY = "Support ticket 3"
REGRESSED = ("Support ticket 5", "Support ticket 6")

SUITE = {
    "name": "repeats",
    "target": {"prompt": "triage", "label": "production"},
    "dataset": "datasets/repeats.jsonl",
    "repeats": 3,
    "concurrency": 4,
    "scorers": [
        {"name": "schema", "type": "json_schema", "pass_score": 1},
        {"name": "queue", "type": "json_field", "path": "queue", "expected_field": "queue"},
    ],
    "gate": {
        "thresholds": {"schema": 1.0, "queue": 0.5},
        "regression": {
            "rule": "confidently-worse",
            "scorers": ["queue"],
            "margin": 0.02,
            "confidence": 0.95,
            "seed": 7,
        },
    },
}
LIVE = RunOptions(mode="live", progress=False)


class TicketDesk:
    """The fake provider's answers: by ticket subject, one scripted queue per call, cycling."""

    def __init__(self) -> None:
        self.script: dict[str, list[str]] = {s: [q] for s, q in TICKETS.items()}
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def answer(self, _: int, body: dict[str, Any]) -> Reply:
        ticket = body["messages"][-1]["content"]
        subject = next(s for s in TICKETS if f"Subject: {s}\n" in ticket)
        with self._lock:
            answers = self.script[subject]
            queue = answers[self.calls[subject] % len(answers)]
            self.calls[subject] += 1
        rationale = f'queue {queue}: "{subject}"'
        return Reply.ok(json.dumps({"queue": queue, "priority": "normal", "rationale": rationale}))


@pytest.fixture
def desk(fake_openai: FakeOpenAIServer, sentinel_key: str, settings: Settings) -> TicketDesk:
    """The suite's repo: `triage` answered by the fake server, a baseline of right answers."""
    desk = TicketDesk()
    fake_openai.responder = desk.answer
    deployment = {
        "model": "openai/fake-triage-2025-01-01",
        "api_base": fake_openai.base_url,
        "api_key_env": "FAKE_PROVIDER_KEY",
        "timeout_s": 5,
        "max_retries": 0,
        "input_cost_per_token": 0.000001,
        "output_cost_per_token": 0.000002,
    }
    models = {"aliases": {"triage": {"deployments": [deployment]}}}
    settings.models_file.write_text(yaml.safe_dump(models), encoding="utf-8")
    lines = [
        {
            "id": f"case-{n}",
            "inputs": {
                "subject": subject,
                "body": f"Ticket {n}: please route me.",
                "customer_tier": "pro",
                "channel": "email",
            },
            "expected": {"queue": queue},
        }
        for n, (subject, queue) in enumerate(TICKETS.items(), start=1)
    ]
    dataset = settings.evals_dir / "datasets" / "repeats.jsonl"
    dataset.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    (settings.evals_dir / "repeats.yaml").write_text(yaml.safe_dump(SUITE), encoding="utf-8")
    suite = _suite(settings)
    workflow.baseline(settings, suite, LIVE, [suite.spec.target])
    # From now on: two tickets go to the wrong queue every time, one in one sample of three.
    for subject in REGRESSED:
        desk.script[subject] = [WRONG]
    desk.script[FLAKY] = [WRONG, TICKETS[FLAKY], TICKETS[FLAKY]]
    desk.calls.clear()
    return desk


def _suite(settings: Settings) -> Suite:
    return load_suite(settings.evals_dir / "repeats.yaml")


def test_case_flipping_across_repeats_is_flagged_and_left_out_of_the_gate(
    desk: TicketDesk, settings: Settings, tmp_path: Path
) -> None:
    suite = _suite(settings)
    outcome = workflow.gate(settings, suite, LIVE, [suite.spec.target], tmp_path, evidence=False)

    assert all(desk.calls[subject] == 3 for subject in TICKETS)  # three real calls per case
    report = outcome.report
    arm = report.arm()
    assert report.repeats == 3
    assert arm.models == {"triage": ["openai/fake-triage-2025-01-01"]}
    cases = {case.inputs["subject"]: case for case in arm.cases}
    flaky = cases[FLAKY]
    assert sorted(a.scores["queue"].score for a in flaky.attempts) == [0.0, 1.0, 1.0]
    assert flaky.scores["queue"] == pytest.approx(2 / 3, abs=1e-6)
    # Flagged in the report, on the scorer that flips and nowhere else ...
    assert flaky.unstable == ["queue"]
    assert arm.summary.unstable_cases == [flaky.id]
    assert all(cases[s].unstable == [] for s in REGRESSED)  # wrong every time: stable
    summary = outcome.paths["markdown"].read_text(encoding="utf-8")
    assert f"Unstable across repeats (left out of the regression check): {flaky.id}" in summary
    html = outcome.paths["html"].read_text(encoding="utf-8")
    assert html.count("<small>unstable</small>") == 1
    # ... and left out of the regression check, which then sees too little to fail.
    gate = report.gate
    assert gate is not None
    assert gate.excluded_unstable == [flaky.id]
    (queue,) = gate.regressions
    assert queue.n == len(TICKETS) - 1
    assert not queue.regressed
    assert gate.verdict == "pass", gate.reasons


def test_the_same_flaky_case_sampled_once_fails_the_gate(
    desk: TicketDesk, settings: Settings, tmp_path: Path
) -> None:
    """What repeats protect against: with one sample, the flaky ticket's first answer
    (wrong) counts like a stable regression and decides the verdict."""
    suite = _suite(settings)
    once = RunOptions(mode="live", progress=False, repeats=1)
    with pytest.raises(GateFailed, match=r"queue fails: the 90.0% interval .* lies wholly below"):
        workflow.gate(settings, suite, once, [suite.spec.target], tmp_path, evidence=False)
    assert desk.calls[FLAKY] == 1

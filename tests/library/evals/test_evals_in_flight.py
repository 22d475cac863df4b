"""A live run keeps its `concurrency` calls at the provider, wave after wave.

The fake provider holds every answer until the run has as many calls waiting as it may
have (`concurrency`, or what is left of the dataset at the end), then answers them all. A
run that left a slot empty would stall there until its calls time out, and fail; a call
sent beyond the bound shows in the server's peak when it arrives before its wave is
answered. Nothing waits on how fast this machine is.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from squadkit.evals import RunOptions, load_suite, workflow
from squadkit.settings import Settings
from squadkit.testing import FakeOpenAIServer, Reply

CASES, REPEATS, CONCURRENCY = 10, 2, 4
ANSWER = json.dumps({"queue": "billing", "priority": "normal", "rationale": "a refund"})


class Waves:
    """Answers held back until `size` calls wait (the last wave: what is left), then all."""

    def __init__(self, calls: int, size: int) -> None:
        self.left, self.size = calls, size
        self.waiting = 0
        self.release = threading.Event()
        self.waves = 0
        self._lock = threading.Lock()

    def answer(self, _: int, __: dict[str, Any]) -> Reply:
        with self._lock:
            reply = Reply.ok(ANSWER, until=self.release)
            self.waiting += 1
            if self.waiting == min(self.size, self.left):
                self.left -= self.waiting
                self.waiting, self.waves = 0, self.waves + 1
                self.release.set()
                self.release = threading.Event()
            return reply


@pytest.fixture
def suite_file(fake_openai: FakeOpenAIServer, sentinel_key: str, settings: Settings) -> Path:
    deployment = {
        "model": "openai/fake-triage",
        "api_base": fake_openai.base_url,
        "api_key_env": "FAKE_PROVIDER_KEY",
        "timeout_s": 10,
        "max_retries": 0,
    }
    models = {"aliases": {"triage": {"deployments": [deployment]}}}
    settings.models_file.write_text(yaml.safe_dump(models), encoding="utf-8")
    lines = [
        {
            "id": f"case-{n}",
            "inputs": {
                "subject": f"Ticket {n}",
                "body": "I was charged twice.",
                "customer_tier": "pro",
                "channel": "email",
            },
            "expected": {"queue": "billing"},
        }
        for n in range(CASES)
    ]
    dataset = settings.evals_dir / "datasets" / "in-flight.jsonl"
    dataset.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    suite = {
        "name": "in-flight",
        "target": {"prompt": "triage", "label": "production"},
        "dataset": "datasets/in-flight.jsonl",
        "repeats": REPEATS,
        "concurrency": CONCURRENCY,
        "scorers": [
            {"name": "queue", "type": "json_field", "path": "queue", "expected_field": "queue"}
        ],
        "gate": {"regression": None},
    }
    path = settings.evals_dir / "in-flight.yaml"
    path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    return path


def test_a_live_run_keeps_its_concurrency_of_calls_at_the_provider(
    fake_openai: FakeOpenAIServer, settings: Settings, suite_file: Path
) -> None:
    waves = Waves(CASES * REPEATS, CONCURRENCY)
    fake_openai.responder = waves.answer
    suite = load_suite(suite_file)
    options = RunOptions(mode="live", progress=False)

    with workflow.open_report(settings, suite, options, [suite.spec.target]) as report:
        cases = list(report.cases())

    assert fake_openai.request_count == CASES * REPEATS
    assert fake_openai.peak_in_flight == CONCURRENCY
    assert waves.waves == -(-CASES * REPEATS // CONCURRENCY)  # every wave was full but the last
    assert [case.id for case in cases] == [f"case-{n}" for n in range(CASES)]
    for case in cases:
        assert [attempt.repeat for attempt in case.attempts] == list(range(REPEATS))
        assert all(attempt.error is None for attempt in case.attempts)
        assert case.scores == {"queue": 1.0}

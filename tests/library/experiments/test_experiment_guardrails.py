"""Guarded rollback in the service: an arm whose guardrail breaks is halted, its subjects get
the control, every replica sees it; an arm within bounds never is (real uvicorn on the fixture
squad, offline chain, SQLite and PostgreSQL). The breaching answers are written into the log
directly; the check is driven by the test (`GuardrailMonitor.check_now`), not by the clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from squadkit.experiments import ExperimentsFile
from squadkit.experiments.assignment import bucket
from squadkit.experiments.guardrails import GuardrailWatch
from squadkit.inferences import InferenceRecord, InferenceStore, uuid7
from squadkit.prompts import PromptRegistry
from squadkit.service.guardrails import GuardrailMonitor
from squadkit.settings import Settings
from tests.library.experiments.experimentkit import experiment, squad, write_experiments
from tests.library.service.servicekit import AUTH, TICKET, RunningService, running
from tests.library.squad import copy_data

GUARDRAILS = {"latency_p95_ms": {"at_most": 1000}, "error_rate": {"at_most": 0.05}}
V2_SUBJECT = next(f"s{i}" for i in range(1000) if bucket("t", f"s{i}") >= 0.5)
"""A subject the 50/50 split of experiment `t` gives to v2."""


@pytest.fixture(params=["sqlite", "postgresql"])
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'log.sqlite3'}"
        return
    from tests.library.postgres import postgres_schema  # noqa: PLC0415

    with postgres_schema() as url:
        yield url


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = copy_data(tmp_path / "squad")
    write_experiments(root, {"t": experiment(guardrails=GUARDRAILS)})
    return root


def _settings(root: Path, url: str) -> Settings:
    # An hour between checks: only the test's `check_now` (and the start-up check) run.
    return Settings(
        root=root, environment="test", inference_log_url=url, experiments_guardrail_check_s=3600
    )


def _log(url: str, arm: str, n: int, **row: Any) -> None:
    """`n` answers of `arm` written straight into the log (the service's own are too few)."""
    store = InferenceStore(url)
    store.migrate()
    version = {"v1": 1, "v2": 2}[arm]
    store.insert(
        [
            InferenceRecord(
                uuid7(),
                datetime.now(UTC),
                "r",
                "triage",
                prompt="triage",
                prompt_version=version,
                experiment="t",
                arm=arm,
                **{"latency_ms": 20.0, **row},
            ).row()
            for _ in range(n)
        ]
    )
    store.dispose()


def _monitor(service: RunningService) -> GuardrailMonitor:
    app = service.server.config.app
    assert isinstance(app, FastAPI)
    monitor = app.state.context.guardrails
    assert isinstance(monitor, GuardrailMonitor)
    return monitor


def _version_for(service: RunningService, subject: str) -> str:
    response = httpx.post(
        f"{service.base_url}/v1/triage",
        json=TICKET,
        headers={**AUTH, "X-Episode-Id": subject},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.headers["X-Prompt-Version"]


def test_an_arm_breaching_its_latency_guardrail_is_halted_and_its_subjects_get_the_control(
    root: Path, log_url: str
) -> None:
    with running(_settings(root, log_url)) as service:
        before = _version_for(service, V2_SUBJECT)
        _log(log_url, "v1", 150)
        _log(log_url, "v2", 150, latency_ms=4000.0)

        check = _monitor(service).check_now()

        assert before == "triage@v2"
        assert check is not None
        assert [(h.arm, h.guardrail) for h in check.recorded] == [("v2", "latency_p95_ms")]
        assert _version_for(service, V2_SUBJECT) == "triage@v1"


def test_an_arm_breaching_its_error_rate_guardrail_is_halted(root: Path, log_url: str) -> None:
    _log(log_url, "v1", 150)
    _log(log_url, "v2", 150, outcome="provider_unavailable")
    with running(_settings(root, log_url)) as service:
        check = _monitor(service).check_now()

        assert check is not None
        assert [(h.arm, h.guardrail, h.observed) for h in check.halted] == [
            ("v2", "error_rate", 1.0)
        ]


def test_a_halted_arm_reads_halted_on_readyz_which_stays_ready(root: Path, log_url: str) -> None:
    _log(log_url, "v1", 150)
    _log(log_url, "v2", 150, latency_ms=4000.0)
    with running(_settings(root, log_url)) as service:
        _monitor(service).check_now()

        response = httpx.get(f"{service.base_url}/readyz", timeout=30)

    assert response.status_code == 200, response.text
    status = response.json()["checks"]["experiment:t:v2"]
    assert status.startswith("halted: arm v2 halted: latency_p95_ms 4000 (at-most 1000)")


def test_a_halt_is_on_metrics(root: Path, log_url: str) -> None:
    _log(log_url, "v1", 150)
    _log(log_url, "v2", 150, latency_ms=4000.0)
    with running(_settings(root, log_url)) as service:
        _monitor(service).check_now()

        scraped = httpx.get(f"{service.base_url}/metrics", headers=AUTH, timeout=30).text

    samples = {
        (sample.name, sample.labels.get("experiment"), sample.labels.get("arm")): sample.value
        for family in text_string_to_metric_families(scraped)
        if family.name in ("squad_experiment_arm_halted", "squad_experiment_halts")
        for sample in family.samples
        if sample.labels.get("experiment") == "t"
    }
    assert samples[("squad_experiment_arm_halted", "t", "v2")] == 1
    assert samples[("squad_experiment_arm_halted", "t", "v1")] == 0
    assert samples[("squad_experiment_halts_total", "t", "v2")] >= 1


def test_a_second_replica_stops_assigning_a_halted_arm(root: Path, log_url: str) -> None:
    with running(_settings(root, log_url)) as first, running(_settings(root, log_url)) as second:
        before = _version_for(second, V2_SUBJECT)
        _log(log_url, "v1", 150)
        _log(log_url, "v2", 150, latency_ms=4000.0)
        _monitor(first).check_now()

        check = _monitor(second).check_now()

        assert before == "triage@v2"
        assert check is not None
        assert check.recorded == []  # the first replica recorded it
        assert [h.arm for h in check.halted] == ["v2"]
        assert _version_for(second, V2_SUBJECT) == "triage@v1"


def test_a_restarted_service_keeps_the_halt(root: Path, log_url: str) -> None:
    _log(log_url, "v1", 150)
    _log(log_url, "v2", 150, latency_ms=4000.0)
    with running(_settings(root, log_url)) as service:
        _monitor(service).check_now()

    with running(_settings(root, log_url)) as restarted:
        assert _version_for(restarted, V2_SUBJECT) == "triage@v1"


def test_an_arm_within_its_bounds_is_never_halted(root: Path, log_url: str) -> None:
    _log(log_url, "v1", 150)
    _log(log_url, "v2", 150, latency_ms=300.0)
    with running(_settings(root, log_url)) as service:
        check = _monitor(service).check_now()

        assert check is not None
        assert check.halted == []
        assert _version_for(service, V2_SUBJECT) == "triage@v2"


def test_the_control_arm_is_never_halted(root: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    _log(url, "v1", 150, latency_ms=4000.0)
    _log(url, "v2", 150)
    store = InferenceStore(url)
    experiments = ExperimentsFile(
        root / "config" / "experiments.yaml", PromptRegistry.load(root / "prompts")
    )

    check = GuardrailWatch(experiments, store).check()

    store.dispose()
    assert check.halted == []


@pytest.mark.parametrize(
    ("guardrail", "bound", "row"),
    [
        ("cost_per_answer_usd", {"at_most": 0.01}, {"cost_usd": 0.05}),
        ("fallback_rate", {"at_most": 0.05}, {"fallback_used": True}),
    ],
)
def test_an_arm_breaching_its_cost_or_fallback_guardrail_is_halted(
    root: Path, log_url: str, guardrail: str, bound: dict[str, float], row: dict[str, Any]
) -> None:
    write_experiments(root, {"t": experiment(guardrails={guardrail: bound})})
    _log(log_url, "v1", 150)
    _log(log_url, "v2", 150, **row)
    store = InferenceStore(log_url)
    experiments = ExperimentsFile(
        root / "config" / "experiments.yaml", PromptRegistry.load(root / "prompts")
    )

    check = GuardrailWatch(experiments, store).check()

    store.dispose()
    assert [(h.arm, h.guardrail) for h in check.recorded] == [("v2", guardrail)]


def test_the_report_shows_a_halted_arm(root: Path, log_url: str) -> None:
    _log(log_url, "v1", 150)
    _log(log_url, "v2", 150, latency_ms=4000.0)
    with running(_settings(root, log_url)) as service:
        _monitor(service).check_now()

    result = squad(
        root, "experiments", "report", "t", "--format", "json", SQUAD_INFERENCE_LOG_URL=log_url
    )

    arms = {arm["arm"]: arm for arm in json.loads(result.stdout)["arms"]}
    assert arms["v2"]["halted"]["guardrail"] == "latency_p95_ms"
    assert arms["v1"]["halted"] is None


def test_the_markdown_report_names_a_halted_arm_and_its_guardrail(
    root: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    _log(url, "v1", 150)
    _log(url, "v2", 150, latency_ms=4000.0)
    store = InferenceStore(url)
    experiments = ExperimentsFile(
        root / "config" / "experiments.yaml", PromptRegistry.load(root / "prompts")
    )
    GuardrailWatch(experiments, store).check()
    store.dispose()

    result = squad(root, "experiments", "report", "t", SQUAD_INFERENCE_LOG_URL=url)

    assert "**HALTED: v2**: arm v2 halted: latency_p95_ms 4000 (at-most 1000)" in result.stdout
    assert "with the control `v1`" in result.stdout

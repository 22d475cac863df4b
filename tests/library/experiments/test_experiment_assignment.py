"""Assignment in the service: sticky and weighted per subject, the arm's version served and
named in X-Prompt-Version, the arm in the inference log, forced answers marked, the file
re-read without a restart (a real uvicorn on the fixture squad, offline models)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from squadkit.errors import ConfigError
from squadkit.experiments import ExperimentsFile
from squadkit.experiments.assignment import Split, bucket
from squadkit.experiments.config import Experiment
from squadkit.inferences import INFERENCES, InferenceStore
from squadkit.prompts import PromptRegistry
from squadkit.settings import Settings
from tests.library.experiments.experimentkit import experiment, write_experiments
from tests.library.service.servicekit import AUTH, TICKET, RunningService, running
from tests.library.squad import ROOT as SQUAD
from tests.library.squad import copy_data
from tests.library.waiting import eventually


def test_a_subject_always_falls_in_the_same_bucket() -> None:
    assert bucket("t", "episode-1") == bucket("t", "episode-1")
    assert 0 <= bucket("t", "episode-1") < 1


def test_two_experiments_split_one_subject_independently() -> None:
    subjects = [f"e{i}" for i in range(200)]
    low_in_a = {s for s in subjects if bucket("a", s) < 0.5}
    low_in_b = {s for s in subjects if bucket("b", s) < 0.5}

    assert low_in_a != low_in_b


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_data(tmp_path_factory.mktemp("squad"))
    arms = {"v1": {"version": 1, "weight": 80}, "v2": {"version": 2, "weight": 20}}
    write_experiments(root, {"t": experiment(arms=arms)})
    return root


@pytest.fixture(scope="module")
def log_url(root: Path) -> str:
    return f"sqlite:///{root / 'log.sqlite3'}"


@pytest.fixture(scope="module")
def service(root: Path, log_url: str) -> Iterator[RunningService]:
    settings = Settings(root=root, environment="test", inference_log_url=log_url)
    with running(settings) as started:
        yield started


@pytest.fixture(scope="module")
def http(service: RunningService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.base_url, timeout=30) as client:
        yield client


def _triage(http: httpx.Client, **headers: str) -> httpx.Response:
    response = http.post("/v1/triage", json=TICKET, headers={**AUTH, **headers})
    assert response.status_code == 200, response.text
    return response


def _row(log_url: str, inference_id: str) -> Any:
    store = InferenceStore(log_url)
    query = select(INFERENCES).where(INFERENCES.c.id == inference_id)
    found: list[Any] = []

    def written() -> bool:
        with store.engine.connect() as connection:
            found.append(connection.execute(query).first())
        return found[-1] is not None

    try:
        eventually(written, "the inference row")
        return found[-1]
    finally:
        store.dispose()


def test_an_episode_is_served_one_version_every_time(http: httpx.Client) -> None:
    served = {_triage(http, **{"X-Episode-Id": "sticky-1"}).headers["X-Prompt-Version"]}
    served |= {_triage(http, **{"X-Episode-Id": "sticky-1"}).headers["X-Prompt-Version"]}

    assert len(served) == 1


def test_episodes_are_split_between_the_arms_by_weight(http: httpx.Client) -> None:
    served = [
        _triage(http, **{"X-Episode-Id": f"split-{i}"}).headers["X-Prompt-Version"]
        for i in range(60)
    ]

    assert {"triage@v1", "triage@v2"} == set(served)
    assert served.count("triage@v1") > served.count("triage@v2")  # 80/20


def test_the_arm_and_its_version_are_in_the_inference_log(http: httpx.Client, log_url: str) -> None:
    response = _triage(http, **{"X-Episode-Id": "logged-1"})

    row = _row(log_url, response.headers["X-Inference-Id"])
    assert (row.experiment, row.forced) == ("t", False)
    assert f"triage@v{row.prompt_version}" == response.headers["X-Prompt-Version"]
    assert row.arm == f"v{row.prompt_version}"
    assert response.json()["metadata"]["prompt_version"] == row.prompt_version


def test_a_request_without_an_episode_is_served_by_the_label_and_has_no_arm(
    http: httpx.Client, log_url: str
) -> None:
    response = _triage(http)

    assert response.headers["X-Prompt-Version"] == "triage@v1"  # production's version
    row = _row(log_url, response.headers["X-Inference-Id"])
    assert (row.experiment, row.arm, row.forced) == ("t", None, False)


def test_a_forced_label_is_served_and_recorded_as_forced(http: httpx.Client, log_url: str) -> None:
    response = _triage(http, **{"X-Episode-Id": "forced-1", "X-Prompt-Label": "staging"})

    assert response.headers["X-Prompt-Version"] == "triage@v2"
    row = _row(log_url, response.headers["X-Inference-Id"])
    assert (row.experiment, row.arm, row.forced) == ("t", "v2", True)


def test_stopping_the_experiment_in_the_file_takes_effect_without_a_restart(
    tmp_path: Path,
) -> None:
    root = copy_data(tmp_path / "squad")
    write_experiments(root, {"t": experiment(arms=_only_v2())})
    log = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    settings = Settings(root=root, environment="test", inference_log_url=log)
    with running(settings) as started, httpx.Client(base_url=started.base_url, timeout=60) as http:
        before = _triage(http, **{"X-Episode-Id": "reload-1"}).headers["X-Prompt-Version"]
        write_experiments(root, {"t": experiment(arms=_only_v2(), status="stopped")})
        served = [before]  # the file is looked at once a second

        def moved() -> bool:
            served.append(_triage(http, **{"X-Episode-Id": "reload-1"}).headers["X-Prompt-Version"])
            return served[-1] != before

        eventually(moved, "the stopped experiment to be seen")
        after = served[-1]

    assert (before, after) == ("triage@v2", "triage@v1")


def _only_v2() -> dict[str, Any]:
    return {"v1": {"version": 1, "weight": 0}, "v2": {"version": 2, "weight": 1}}


def test_a_file_that_stops_parsing_stops_every_experiment_and_fails_readiness(
    tmp_path: Path,
) -> None:
    root = copy_data(tmp_path / "squad")
    write_experiments(root, {"t": experiment(arms=_only_v2())})
    log = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    settings = Settings(root=root, environment="test", inference_log_url=log)
    with running(settings) as started, httpx.Client(base_url=started.base_url, timeout=60) as http:
        (root / "config" / "experiments.yaml").write_text("experiments: [", encoding="utf-8")
        versions = ["triage@v2"]  # the file is looked at once a second

        def label_serves() -> bool:
            answer = _triage(http, **{"X-Episode-Id": "broken-1"})
            versions.append(answer.headers["X-Prompt-Version"])
            return versions[-1] != "triage@v2"

        eventually(label_serves, "the broken file to be seen")
        served = versions[-1]
        ready = http.get("/readyz")

    assert served == "triage@v1"  # the label serves everyone
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"experiments": "invalid: every experiment stopped"}


def test_an_arm_naming_a_version_the_service_lacks_stops_the_start(tmp_path: Path) -> None:
    root = copy_data(tmp_path)
    arms = {"v1": {"version": 1, "weight": 1}, "v9": {"version": 9, "weight": 1}}
    path = write_experiments(root, {"t": experiment(arms=arms)})
    registry = PromptRegistry.load(root / "prompts", label_overrides={})

    with pytest.raises(ConfigError, match=r"experiment 't' arm 'v9': .*triage has no v9"):
        ExperimentsFile(path, registry)


def _split(**changes: Any) -> Split:
    registry = PromptRegistry.load(SQUAD / "prompts", label_overrides={})
    return Split.of("t", Experiment.model_validate(experiment(**changes)), registry)


def test_a_request_field_can_be_the_subject() -> None:
    split = _split(subject="field:customer_tier")

    pro = {split.assign(dict(TICKET, subject=f"s{i}"), None).arm for i in range(20)}
    assert len(pro) == 1  # every ticket of one tier: one arm
    assert split.assign({"channel": "email"}, "episode-1").arm is None  # no such field


def test_an_arm_of_weight_zero_is_never_assigned() -> None:
    split = _split(arms=_only_v2())

    assert {split.arm_for(f"e{i}") for i in range(500)} == {"v2"}


def test_assignments_are_counted_on_metrics(http: httpx.Client) -> None:
    _triage(http, **{"X-Episode-Id": "counted-1"})

    scraped = http.get("/metrics", headers=AUTH).text
    samples = [
        sample
        for family in text_string_to_metric_families(scraped)
        if family.name == "squad_experiment_assignments"
        for sample in family.samples
        if sample.name.endswith("_total")
    ]
    assert {s.labels["experiment"] for s in samples} == {"t"}
    assert sum(s.value for s in samples if s.labels["forced"] == "false") >= 1

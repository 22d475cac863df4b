"""The inference log through a real uvicorn: an id per answer, a row per id, with the
fields the issue lists, content only on opt-in, and answers unaffected by a store that is
down. The fixture squad's `triage` is answered by the fake OpenAI-compatible provider
through the real gateway and litellm."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from squadkit.inferences import INFERENCES, InferenceStore
from squadkit.service.inference_log import InferenceLog
from squadkit.settings import Settings
from squadkit.testing import FakeOpenAIServer
from squadkit.testing.openai_server import Reply
from tests.library.service.servicekit import AUTH, TICKET, VALID_ANSWER, fake_models, running
from tests.library.squad import copy_data
from tests.library.waiting import eventually

UUID7 = r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
EMAIL_TICKET = {**TICKET, "body": "Charged twice; write to ann.lee@example.com please."}


@pytest.fixture
def repo(tmp_path: Path, fake_openai: FakeOpenAIServer, sentinel_key: str) -> Path:
    """The fixture squad's data, `triage` on the fake provider, every answer scored online."""
    root = copy_data(tmp_path / "repo")
    models = fake_models(fake_openai.base_url)
    (root / "config" / "models.yaml").write_text(yaml.safe_dump(models), encoding="utf-8")
    observability = root / "config" / "observability.yaml"
    config = yaml.safe_load(observability.read_text(encoding="utf-8"))
    config["quality"]["sample_rate"] = 1.0
    observability.write_text(yaml.safe_dump(config), encoding="utf-8")
    fake_openai.default = Reply.ok(VALID_ANSWER)
    return root


def _settings(root: Path, **values: Any) -> Settings:
    return Settings(root=root, environment="test", **values)


def _rows(url: str) -> list[Any]:
    store = InferenceStore(url)
    with store.engine.connect() as connection:
        rows = list(connection.execute(select(INFERENCES).order_by(INFERENCES.c.id)).all())
    store.dispose()
    return rows


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_each_answer_gets_an_inference_id_and_a_row_with_its_provenance(repo: Path) -> None:
    with running(_settings(repo)) as service:
        response = httpx.post(
            f"{service.base_url}/v1/triage",
            json=EMAIL_TICKET,
            headers={**AUTH, "X-Episode-Id": "case-4711", "X-Request-ID": "req-abc"},
            timeout=30,
        )
    # The default store: the SQLite file under the repo's git-ignored .squad/ folder.
    url = f"sqlite:///{repo / '.squad' / 'inference-log.sqlite3'}"

    assert response.status_code == 200, response.text
    inference_id = response.headers["X-Inference-Id"]
    assert re.match(UUID7, inference_id)
    [row] = _rows(url)
    metadata = response.json()["metadata"]
    assert row.id == inference_id
    assert row.request_id == "req-abc"
    assert row.episode_id == "case-4711"
    assert row.caller == "test-platform"
    assert row.feature == "triage"
    assert row.outcome == "ok"
    assert (row.prompt, row.prompt_version, row.prompt_label, row.prompt_hash) == (
        metadata["prompt"],
        metadata["prompt_version"],
        "production",
        metadata["prompt_hash"],
    )
    assert (row.alias, row.deployment, row.fallback_used) == ("triage", "openai/fake-model", False)
    assert row.input_tokens > 0
    assert row.output_tokens > 0
    assert row.latency_ms > 0
    assert row.attempts == 1
    assert set(row.scores) >= {"schema_valid", "length"}
    # No opt-in: hashes and lengths, never the text.
    assert row.inputs is None
    assert row.output is None
    assert row.inputs_sha256 == _sha(_canonical(EMAIL_TICKET))
    assert row.inputs_chars == len(_canonical(EMAIL_TICKET))
    assert row.output_sha256 == _sha(_canonical(json.loads(VALID_ANSWER)))


def test_content_is_kept_redacted_only_when_the_squad_opts_in(repo: Path) -> None:
    url = f"sqlite:///{repo / 'content.sqlite3'}"
    with running(
        _settings(repo, inference_log_url=url, inference_log_capture_content=True)
    ) as service:
        response = httpx.post(
            f"{service.base_url}/v1/triage", json=EMAIL_TICKET, headers=AUTH, timeout=30
        )

    assert response.status_code == 200
    [row] = _rows(url)
    assert "ann.lee@example.com" not in row.inputs
    assert "[REDACTED]" in row.inputs
    assert json.loads(row.output) == json.loads(VALID_ANSWER)


def test_a_failed_call_has_its_inference_id_in_the_problem_and_a_row(
    repo: Path, fake_openai: FakeOpenAIServer
) -> None:
    url = f"sqlite:///{repo / 'failed.sqlite3'}"
    fake_openai.default = Reply.error(500)
    with running(_settings(repo, inference_log_url=url)) as service:
        response = httpx.post(f"{service.base_url}/v1/triage", json=TICKET, headers=AUTH)

    assert response.status_code == 503, response.text
    problem = response.json()
    assert problem["inference_id"] == response.headers["X-Inference-Id"]
    [row] = _rows(url)
    assert row.id == problem["inference_id"]
    assert row.outcome == "ProviderUnavailable"
    assert row.output_sha256 is None


@pytest.mark.parametrize("episode", ["has space", "x" * 129, "semi;colon"])
def test_a_malformed_episode_id_is_a_422_problem(repo: Path, episode: str) -> None:
    url = f"sqlite:///{repo / 'episode.sqlite3'}"
    with running(_settings(repo, inference_log_url=url)) as service:
        response = httpx.post(
            f"{service.base_url}/v1/triage",
            json=TICKET,
            headers={**AUTH, "X-Episode-Id": episode},
        )

    assert response.status_code == 422
    assert response.json()["type"] == "urn:problem-type:squad:invalid-episode-id"
    assert "X-Inference-Id" not in response.headers
    assert _rows(url) == []


def _counter(base_url: str, name: str) -> float:
    text = httpx.get(f"{base_url}/metrics", headers=AUTH).text
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not on /metrics")


def test_a_store_that_is_down_leaves_answers_200_and_grows_the_error_counter(
    repo: Path,
) -> None:
    down = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"
    with running(_settings(repo, inference_log_url=down)) as service:
        before = _counter(service.base_url, "squad_inference_log_write_errors_total")
        statuses = [
            httpx.post(f"{service.base_url}/v1/triage", json=TICKET, headers=AUTH).status_code
            for _ in range(3)
        ]
        eventually(
            lambda: (
                _counter(service.base_url, "squad_inference_log_write_errors_total") >= before + 3
            ),
            "three write errors counted",
        )
        after = _counter(service.base_url, "squad_inference_log_write_errors_total")

    assert statuses == [200, 200, 200]
    assert after >= before + 3


def test_rows_go_to_postgresql_when_its_url_is_set(repo: Path, postgres_url: str) -> None:
    with running(_settings(repo, inference_log_url=postgres_url)) as service:
        ids = [
            httpx.post(f"{service.base_url}/v1/triage", json=TICKET, headers=AUTH).headers[
                "X-Inference-Id"
            ]
            for _ in range(5)
        ]

    rows = _rows(postgres_url)
    assert [row.id for row in rows] == sorted(ids)
    assert {row.caller for row in rows} == {"test-platform"}


def test_a_row_that_cannot_be_built_is_counted_and_the_next_one_is_written(
    repo: Path,
) -> None:
    log = InferenceLog(_settings(repo))
    try:
        for inputs in ({"ticket": object()}, TICKET):  # the first is not JSON: no row
            inference = log.begin("triage", request_id="r", caller=None, episode_id=None)
            log.finish(inference, inputs=inputs, output="{}", outcome="ok", label=None)
    finally:
        log.close()  # writes what is queued

    assert (log.writer.stats.write_errors, log.writer.stats.written) == (1, 1)
    [row] = _rows(f"sqlite:///{repo / '.squad' / 'inference-log.sqlite3'}")
    assert row.inputs_sha256 == _sha(_canonical(TICKET))


def test_with_the_log_off_there_is_no_inference_id(repo: Path) -> None:
    with running(_settings(repo, inference_log_enabled=False)) as service:
        response = httpx.post(f"{service.base_url}/v1/triage", json=TICKET, headers=AUTH)

    assert response.status_code == 200
    assert "X-Inference-Id" not in response.headers
    assert not (repo / ".squad").exists()

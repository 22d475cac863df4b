"""Provider keys where the docs say (`.env` or the environment) and a /readyz that tells
the truth about the chain answering: the real `squad` command, real uvicorn, the fake
OpenAI-compatible provider on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from squadkit.settings import Settings
from squadkit.testing import FakeOpenAIServer, Reply
from tests.library.service.servicekit import (
    AUTH,
    TICKET,
    VALID_ANSWER,
    fake_models,
    running,
    settings_with,
)
from tests.library.squad import COMMAND, copy_data
from tests.library.waiting import eventually, wait_until_serving

DOTENV_KEY = "sk-from-dotenv-0123456789"
KEY = "FAKE_PROVIDER_KEY"


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY, raising=False)


def _env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != KEY}
    return {**env, **extra}


def _repo(tmp_path: Path, models: dict[str, Any], dotenv: str | None = None) -> Path:
    repo = copy_data(tmp_path)
    (repo / "config" / "models.yaml").write_text(yaml.safe_dump(models), encoding="utf-8")
    if dotenv is not None:
        (repo / ".env").write_text(dotenv, encoding="utf-8")
    return repo


def _with_offline_last(models: dict[str, Any]) -> dict[str, Any]:
    models["aliases"]["triage"]["deployments"].append({"model": "local/triage-rules-v1"})
    return models


def test_a_key_only_in_dotenv_reaches_the_provider_when_recording(
    fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.default = Reply.ok(VALID_ANSWER)
    repo = _repo(tmp_path, fake_models(fake_openai.base_url), dotenv=f"{KEY}={DOTENV_KEY}\n")

    result = subprocess.run(
        [COMMAND, "eval", "run", "triage", "--mode", "record", "--out", "out"],
        cwd=repo,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )

    assert "is not set" not in result.stderr, result.stderr
    assert fake_openai.request_count > 0, result.stderr
    assert {h["authorization"] for h in fake_openai.headers} == {f"Bearer {DOTENV_KEY}"}


def test_the_environment_beats_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_key: None
) -> None:
    (tmp_path / ".env").write_text(
        f"{KEY}=from-dotenv\nSQUAD_LOG_LEVEL=DEBUG\nOTHER_ONLY_IN_DOTENV=yes\n", "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(KEY, "from-environment")
    monkeypatch.setenv("SQUAD_LOG_LEVEL", "ERROR")
    monkeypatch.delenv("OTHER_ONLY_IN_DOTENV", raising=False)

    settings = Settings()

    assert os.environ[KEY] == "from-environment"
    assert settings.log_level == "ERROR"
    assert os.environ["OTHER_ONLY_IN_DOTENV"] == "yes"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _serving(repo: Path, **env: str) -> Iterator[str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [COMMAND, "serve", "--port", str(port), "--no-access-log"],
        cwd=repo,
        env=_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_serving(server, f"{base}/healthz")
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def _wait_for(condition: Callable[[], bool]) -> None:
    eventually(condition, "the condition")


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.ConnectError:
        return None


def test_serve_with_the_key_only_in_dotenv_answers_from_the_provider(
    fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_openai.default = Reply.ok(VALID_ANSWER)
    models = _with_offline_last(fake_models(fake_openai.base_url))
    repo = _repo(tmp_path, models, dotenv=f"{KEY}={DOTENV_KEY}\n")

    with _serving(repo) as base:
        answer = httpx.post(f"{base}/v1/triage", json=TICKET, headers=AUTH, timeout=30)
        ready = httpx.get(f"{base}/readyz", timeout=30)

    assert answer.status_code == 200, answer.text
    assert answer.json()["metadata"]["deployment"] == "openai/fake-model"
    assert answer.json()["metadata"]["fallback_used"] is False
    assert ready.status_code == 200
    assert fake_openai.headers[0]["authorization"] == f"Bearer {DOTENV_KEY}"


def test_serve_refuses_a_chain_only_its_offline_last_resort_could_answer(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path, _with_offline_last(fake_models("http://127.0.0.1:9/v1")))

    result = subprocess.run(
        [COMMAND, "serve", "--port", "0"],
        cwd=repo,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: model alias 'triage' would be answered only by its offline")
    assert f"{KEY} not set" in line
    assert "SQUAD_SERVICE_ALLOW_OFFLINE_ONLY=true" in line


def test_allowed_offline_only_serving_warns_and_readiness_says_degraded(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path, _with_offline_last(fake_models("http://127.0.0.1:9/v1")))

    with _serving(repo, SQUAD_SERVICE_ALLOW_OFFLINE_ONLY="true") as base:
        answer = httpx.post(f"{base}/v1/triage", json=TICKET, headers=AUTH, timeout=30)
        ready = httpx.get(f"{base}/readyz", timeout=30)

    assert answer.json()["metadata"]["fallback_used"] is True
    assert ready.status_code == 503
    assert ready.json()["type"] == "urn:problem-type:squad:degraded"
    assert ready.json()["checks"] == {
        "alias:triage": f"degraded: openai/fake-model skipped ({KEY} not set); "
        "local/triage-rules-v1 answers"
    }


def test_a_skipped_first_deployment_makes_readiness_degraded(
    fake_openai: FakeOpenAIServer,
    write_models: Callable[[dict[str, Any]], Path],
    monkeypatch: pytest.MonkeyPatch,
    no_key: None,
) -> None:
    """The first deployment has no key, the second (another provider) has one: the service
    starts, answers from the second, and /readyz names what is skipped."""
    fake_openai.default = Reply.ok(VALID_ANSWER)
    monkeypatch.setenv("BACKUP_PROVIDER_KEY", "sk-backup")
    models = fake_models(fake_openai.base_url)
    first = dict(models["aliases"]["triage"]["deployments"][0])
    backup = {**first, "model": "openai/fake-backup", "api_key_env": "BACKUP_PROVIDER_KEY"}
    models["aliases"]["triage"]["deployments"].append(backup)
    settings = settings_with(SQUAD_MODELS_FILE=str(write_models(models)))

    with running(settings) as service:
        answer = httpx.post(f"{service.base_url}/v1/triage", json=TICKET, headers=AUTH)
        ready = httpx.get(f"{service.base_url}/readyz", timeout=30)

    assert answer.json()["metadata"]["deployment"] == "openai/fake-backup"
    assert ready.status_code == 503
    assert ready.json()["checks"] == {
        "alias:triage": f"degraded: openai/fake-model skipped ({KEY} not set); "
        "openai/fake-backup answers"
    }

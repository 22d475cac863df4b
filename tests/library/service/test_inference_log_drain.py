"""The inference log across process boundaries: `squad serve` as a user runs it, SIGTERM
under load loses no row, and two replicas share one PostgreSQL without losing or
duplicating a row. The fake provider answers `triage` through the real gateway."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from squadkit.inferences import INFERENCES, InferenceStore
from squadkit.testing import FakeOpenAIServer
from squadkit.testing.openai_server import Reply
from tests.library.service.servicekit import AUTH, TICKET, VALID_ANSWER, fake_models
from tests.library.squad import COMMAND, copy_data
from tests.library.waiting import eventually, wait_until_serving


@pytest.fixture
def repo(tmp_path: Path, fake_openai: FakeOpenAIServer, sentinel_key: str) -> Path:
    root = copy_data(tmp_path / "repo")
    models = fake_models(fake_openai.base_url)
    (root / "config" / "models.yaml").write_text(yaml.safe_dump(models), encoding="utf-8")
    fake_openai.default = Reply.ok(VALID_ANSWER, latency_s=0.02)
    return root


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _serve(repo: Path, **env: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [COMMAND, "serve", "--port", str(port), "--no-access-log"],
        cwd=repo,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_serving(server, f"{base}/healthz")
        yield server, base
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _load(base: str, answered: list[str], stop: threading.Event, threads: int = 4) -> list[Any]:
    """`threads` callers posting tickets until `stop` or the server refuses; each answered
    request's X-Inference-Id goes to `answered`."""

    def call() -> None:
        while not stop.is_set():
            try:
                response = httpx.post(f"{base}/v1/triage", json=TICKET, headers=AUTH, timeout=30)
            except httpx.TransportError:
                return  # refused: the server is shutting down
            if "X-Inference-Id" in response.headers:
                answered.append(response.headers["X-Inference-Id"])

    workers = [threading.Thread(target=call) for _ in range(threads)]
    for worker in workers:
        worker.start()
    return workers


def _stored_ids(url: str) -> list[str]:
    store = InferenceStore(url)
    with store.engine.connect() as connection:
        ids = [row.id for row in connection.execute(select(INFERENCES.c.id)).all()]
    store.dispose()
    return ids


def test_sigterm_under_load_loses_no_row(repo: Path) -> None:
    answered: list[str] = []
    stop = threading.Event()
    # Nothing is written before the drain: every row depends on the shutdown's flush.
    with _serve(repo, SQUAD_INFERENCE_LOG_FLUSH_INTERVAL_S="600") as (server, base):
        workers = _load(base, answered, stop)
        eventually(lambda: len(answered) >= 40, "40 answers")
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=300)
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    output = server.stdout.read() if server.stdout else ""

    assert code == -signal.SIGTERM, output
    assert len(answered) >= 40, output
    stored = _stored_ids(f"sqlite:///{repo / '.squad' / 'inference-log.sqlite3'}")
    assert sorted(stored) == sorted(answered)  # count sent == count stored, the same ids


def test_two_replicas_share_one_postgresql_without_losing_or_duplicating(
    repo: Path, postgres_url: str
) -> None:
    answered: list[str] = []
    stop = threading.Event()
    env = {"SQUAD_INFERENCE_LOG_URL": postgres_url}
    with _serve(repo, **env) as (first, first_base), _serve(repo, **env) as (second, base):
        workers = _load(first_base, answered, stop, threads=2)
        workers += _load(base, answered, stop, threads=2)
        eventually(lambda: len(answered) >= 60, "60 answers")
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
        for server in (first, second):
            server.send_signal(signal.SIGTERM)
        for server in (first, second):
            server.wait(timeout=300)

    stored = _stored_ids(postgres_url)
    assert len(answered) >= 60
    assert len(stored) == len(set(stored))
    assert sorted(stored) == sorted(answered)

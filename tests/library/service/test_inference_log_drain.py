"""The inference log across process boundaries: `squad serve` as a user runs it, SIGTERM
under load loses no row, and two replicas share one PostgreSQL without losing or
duplicating a row. The fake provider answers `triage` through the real gateway."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
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


def _lost_reported_at_restart(repo: Path, **env: str) -> tuple[float, str]:
    """Start `squad serve` again: the lost-rows counter on /metrics and its log output."""
    with _serve(repo, **env) as (server, base):
        metrics = httpx.get(f"{base}/metrics", headers=AUTH).text
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=300)
    output = server.stdout.read() if server.stdout else ""
    for line in metrics.splitlines():
        if line.startswith("squad_inference_log_lost_total "):
            return float(line.split()[1]), output
    raise AssertionError(f"squad_inference_log_lost_total not on /metrics:\n{metrics}")


def test_kill_9_loses_the_unwritten_rows_and_the_next_start_reports_their_count(
    repo: Path,
) -> None:
    answered: list[str] = []
    stop = threading.Event()
    # A batch window longer than the test: every answered row is still in the writer's hands.
    env = {"SQUAD_INFERENCE_LOG_FLUSH_INTERVAL_S": "600"}
    with _serve(repo, **env) as (server, base):
        workers = _load(base, answered, stop, threads=2)
        eventually(lambda: len(answered) >= 20, "20 answers")
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
        server.kill()
        server.wait(timeout=300)
    url = f"sqlite:///{repo / '.squad' / 'inference-log.sqlite3'}"
    stored = len(_stored_ids(url))

    lost, output = _lost_reported_at_restart(repo, **env)

    assert len(answered) >= 20
    assert lost == len(answered) - stored
    assert f"{int(lost)} row(s) lost" in output
    assert not list((repo / ".squad").glob("inference-log-*.ledger"))  # reported once


def test_kill_9_with_a_blocked_postgresql_loses_only_the_rows_not_yet_stored(
    repo: Path, postgres_url: str
) -> None:
    env = {
        "SQUAD_INFERENCE_LOG_URL": postgres_url,
        "SQUAD_INFERENCE_LOG_FLUSH_INTERVAL_S": "0.05",
        "SQUAD_INFERENCE_LOG_QUEUE_SIZE": "50",
    }
    store = InferenceStore(postgres_url)

    def triage(base: str) -> str:
        response = httpx.post(f"{base}/v1/triage", json=TICKET, headers=AUTH, timeout=30)
        assert response.status_code == 200
        return response.headers["X-Inference-Id"]

    try:
        with _serve(repo, **env) as (server, base):
            written = [triage(base) for _ in range(10)]
            eventually(lambda: store.count() >= len(written), "the first 10 rows stored")
            with store.engine.connect() as blocker:
                # Inserts now wait on this lock: the store blocks, answers must not.
                blocker.exec_driver_sql("LOCK TABLE inferences IN EXCLUSIVE MODE")
                unwritten = [triage(base) for _ in range(15)]
                time.sleep(0.3)  # the writer holds a batch blocked in its insert
                server.kill()
                server.wait(timeout=300)
                blocker.rollback()
        stored = _stored_ids(postgres_url)

        lost, output = _lost_reported_at_restart(repo, **env)
    finally:
        store.dispose()

    assert sorted(stored) == sorted(written)
    assert lost == len(written) + len(unwritten) - len(stored) == len(unwritten)
    assert lost <= 50 + 500  # at most a full queue and the batch in hand (the writer's bound)
    assert f"{int(lost)} row(s) lost" in output

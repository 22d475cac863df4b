"""Error statuses, limits and shutdown, with the fake provider behind the real gateway."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
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
    TRIAGE_ONLY_TOKEN,
    VALID_ANSWER,
    fake_models,
    running,
    settings_with,
)
from tests.library.squad import COMMAND, copy_data
from tests.library.waiting import eventually, wait_until_serving

PROBLEM = "application/problem+json"


def _wait_for(condition: Callable[[], bool]) -> None:
    eventually(condition, "the condition")


def _assert_leaks_nothing(response: httpx.Response, key: str) -> None:
    assert response.headers["content-type"] == PROBLEM
    assert key not in response.text
    assert "fake provider error" not in response.text
    assert "Traceback" not in response.text
    assert response.json()["request_id"] == response.headers["X-Request-ID"]


def test_fake_provider_answer_is_served(fake_openai: FakeOpenAIServer, fake_service: Any) -> None:
    fake_openai.default = Reply.ok(VALID_ANSWER)
    with fake_service() as service:
        response = httpx.post(
            f"{service.base_url}/v1/triage", json=TICKET, headers=AUTH, timeout=30
        )

    assert response.status_code == 200
    assert response.json()["metadata"]["deployment"] == "openai/fake-model"


def test_output_still_invalid_after_repair_is_502(
    fake_openai: FakeOpenAIServer, fake_service: Any, sentinel_key: str
) -> None:
    fake_openai.default = Reply.ok("Sure! The queue is billing, I think.")
    with fake_service() as service:
        response = httpx.post(
            f"{service.base_url}/v1/triage", json=TICKET, headers=AUTH, timeout=30
        )

    assert response.status_code == 502
    assert response.json()["type"].endswith(":invalid-model-output")
    assert fake_openai.request_count == 2  # the answer and one repair attempt
    _assert_leaks_nothing(response, sentinel_key)


def test_every_provider_down_is_503_with_retry_after(
    fake_openai: FakeOpenAIServer, fake_service: Any, sentinel_key: str
) -> None:
    fake_openai.default = Reply.error(503)
    with fake_service() as service:
        response = httpx.post(
            f"{service.base_url}/v1/triage", json=TICKET, headers=AUTH, timeout=30
        )

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["type"].endswith(":providers-unavailable")
    _assert_leaks_nothing(response, sentinel_key)


def test_deadline_passing_is_504(
    fake_openai: FakeOpenAIServer, fake_service: Any, sentinel_key: str
) -> None:
    fake_openai.default = Reply.broken("hang")
    with fake_service(service_deadline_s=0.5) as service:
        started = time.monotonic()
        response = httpx.post(
            f"{service.base_url}/v1/triage", json=TICKET, headers=AUTH, timeout=30
        )
        elapsed = time.monotonic() - started

    assert response.status_code == 504
    assert response.json()["type"].endswith(":deadline-exceeded")
    assert elapsed < 5
    _assert_leaks_nothing(response, sentinel_key)


def test_readiness_connects_to_no_provider(
    sentinel_key: str, write_models: Callable[[dict[str, Any]], Path]
) -> None:
    """Whether a deployment answers is litellm's cooldowns' business, kept current by real
    traffic: a probe never waits on a provider, so an api_base nothing listens on is not
    visible to /readyz until calls to it fail."""
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    models = write_models(fake_models(f"http://127.0.0.1:{port}/v1"))
    with running(settings_with(SQUAD_MODELS_FILE=str(models))) as service:
        response = httpx.get(f"{service.base_url}/readyz", timeout=30)

    assert response.status_code == 200
    assert response.json()["checks"]["alias:triage"] == "ok"


def test_readiness_answers_during_an_outage_without_calling_the_provider(
    fake_openai: FakeOpenAIServer, fake_service: Any
) -> None:
    fake_openai.default = Reply.broken("hang")
    with fake_service(service_deadline_s=20) as service:
        url = f"{service.base_url}/v1/triage"
        hanging = [
            threading.Thread(
                target=lambda: httpx.post(url, json=TICKET, headers=AUTH, timeout=30),
                daemon=True,
            )
            for _ in range(4)
        ]
        for thread in hanging:
            thread.start()
        _wait_for(lambda: fake_openai.request_count == 4)
        probes = [httpx.get(f"{service.base_url}/readyz", timeout=30) for _ in range(5)]
        sent_during_probes = fake_openai.request_count
        service.server.force_exit = True

    assert [probe.status_code for probe in probes] == [200] * 5
    assert sent_during_probes == 4  # the probes added no provider call


def test_client_over_its_concurrency_limit_gets_429(
    fake_openai: FakeOpenAIServer, fake_service: Any
) -> None:
    fake_openai.default = Reply.ok(VALID_ANSWER, latency_s=1.0)
    results: list[int] = []
    with fake_service(service_max_concurrency_per_client=2) as service:
        url = f"{service.base_url}/v1/triage"

        def call() -> None:
            results.append(httpx.post(url, json=TICKET, headers=AUTH, timeout=30).status_code)

        slow = [threading.Thread(target=call) for _ in range(2)]
        for thread in slow:
            thread.start()
        _wait_for(lambda: fake_openai.request_count == 2)
        third = httpx.post(url, json=TICKET, headers=AUTH, timeout=30)
        probe = httpx.get(f"{service.base_url}/healthz")
        for thread in slow:
            thread.join()

    assert third.status_code == 429
    assert third.headers["Retry-After"] == "1"
    assert third.json()["type"].endswith(":too-many-concurrent-requests")
    assert probe.status_code == 200  # probes are never limited
    assert results == [200, 200]


def _concurrent_statuses(url: str, headers: list[dict[str, str]]) -> list[int]:
    statuses: list[int] = []

    def call(extra: dict[str, str]) -> None:
        statuses.append(
            httpx.post(url, json=TICKET, headers={**AUTH, **extra}, timeout=30).status_code
        )

    threads = [threading.Thread(target=call, args=(extra,)) for extra in headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_a_forwarded_for_header_does_not_walk_around_the_client_limit(
    fake_openai: FakeOpenAIServer, fake_service: Any
) -> None:
    """No trusted proxy configured: every request from this peer counts against one limit,
    whatever X-Forwarded-For each one claims."""
    fake_openai.default = Reply.ok(VALID_ANSWER, latency_s=1.0)
    headers = [{"X-Forwarded-For": f"203.0.113.{n}"} for n in range(6)]
    with fake_service(service_max_concurrency_per_client=2) as service:
        statuses = _concurrent_statuses(f"{service.base_url}/v1/triage", headers)

    assert sorted(statuses) == [200, 200, 429, 429, 429, 429]


def test_the_concurrency_limit_is_per_caller_not_per_address(
    fake_openai: FakeOpenAIServer, fake_service: Any
) -> None:
    """Two callers behind one address (a proxy, a NAT) each get their own limit."""
    fake_openai.default = Reply.ok(VALID_ANSWER, latency_s=1.0)
    other = {"Authorization": f"Bearer {TRIAGE_ONLY_TOKEN}"}
    with fake_service(service_max_concurrency_per_client=1) as service:
        statuses = _concurrent_statuses(f"{service.base_url}/v1/triage", [{}, {}, other])

    assert sorted(statuses) == [200, 200, 429]


def test_readiness_fails_when_a_pinned_label_does_not_exist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SQUAD_PROMPT_LABEL__TRIAGE", "nolabel")
    with running(settings_with()) as service:
        response = httpx.get(f"{service.base_url}/readyz", timeout=30)

    assert response.status_code == 503
    assert response.json()["checks"] == {
        "pin:triage": "no label 'nolabel' of 'triage'",
        "prompts": "1 problem(s)",  # the served feature's prompt resolves to no version
    }


def test_readiness_fails_when_the_served_label_is_gone(tmp_path: Path) -> None:
    """An emptied labels.yaml: every triage request would fail, so the process is not ready."""
    root = copy_data(tmp_path)
    (root / "prompts" / "labels.yaml").write_text("", encoding="utf-8")

    with running(Settings(root=root, environment="test")) as service:
        response = httpx.get(f"{service.base_url}/readyz", timeout=30)

    assert response.status_code == 503
    assert response.json()["checks"] == {"prompts": "1 problem(s)"}


def test_shutdown_finishes_in_flight_requests_and_refuses_new_ones(
    fake_openai: FakeOpenAIServer, fake_service: Any
) -> None:
    fake_openai.default = Reply.ok(VALID_ANSWER, latency_s=1.5)
    results: list[int] = []
    with fake_service() as service:
        url = f"{service.base_url}/v1/triage"
        in_flight = threading.Thread(
            target=lambda: results.append(
                httpx.post(url, json=TICKET, headers=AUTH, timeout=30).status_code
            )
        )
        in_flight.start()
        _wait_for(lambda: fake_openai.request_count == 1)

        service.server.should_exit = True  # what uvicorn's SIGTERM handler does
        _wait_for(
            lambda: (
                not service.server.servers
                or not any(s.is_serving() for s in service.server.servers)
            )
        )
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{service.base_url}/healthz", timeout=5)
        in_flight.join(timeout=30)
        service.thread.join(timeout=30)

    assert results == [200]
    assert not service.thread.is_alive()


def test_readiness_reports_degraded_while_the_fallback_answers(
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
) -> None:
    """The primary fails and litellm cools it down; the offline fallback keeps answering, and
    /readyz says so: 503 `degraded` naming the alias and deployment."""
    fake_openai.default = Reply.error(500)
    models = fake_models(fake_openai.base_url)
    models["routing"] = {"allowed_fails": 1, "cooldown_s": 60}
    models["aliases"]["triage"]["deployments"].append({"model": "local/triage-rules-v1"})
    with running(settings_with(SQUAD_MODELS_FILE=str(write_models(models)))) as service:
        ready_before = httpx.get(f"{service.base_url}/readyz", timeout=30).json()["checks"]
        for _ in range(3):
            answered = httpx.post(
                f"{service.base_url}/v1/triage", json=TICKET, headers=AUTH, timeout=30
            )
            assert answered.status_code == 200
            assert answered.json()["metadata"]["fallback_used"] is True
        response = httpx.get(f"{service.base_url}/readyz", timeout=30)

    assert ready_before["alias:triage"] == "ok"
    assert response.status_code == 503
    assert response.json()["type"] == "urn:problem-type:squad:degraded"
    assert response.json()["checks"] == {"alias:triage": "degraded: openai/fake-model cooled down"}


def test_readiness_accepts_degraded_when_configured(
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
) -> None:
    fake_openai.default = Reply.error(500)
    models = fake_models(fake_openai.base_url)
    models["routing"] = {"allowed_fails": 1, "cooldown_s": 60}
    models["aliases"]["triage"]["deployments"].append({"model": "local/triage-rules-v1"})
    settings = settings_with(
        SQUAD_MODELS_FILE=str(write_models(models)), service_ready_when_degraded=True
    )
    with running(settings) as service:
        for _ in range(3):
            httpx.post(f"{service.base_url}/v1/triage", json=TICKET, headers=AUTH, timeout=30)
        response = httpx.get(f"{service.base_url}/readyz", timeout=30)

    assert response.status_code == 200
    assert response.json()["checks"]["alias:triage"] == "degraded: openai/fake-model cooled down"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_sigterm_refuses_new_connections_then_finishes_the_request_in_flight(
    fake_openai: FakeOpenAIServer, sentinel_key: str, tmp_path: Path
) -> None:
    repo = copy_data(tmp_path)
    models = fake_models(fake_openai.base_url)
    models["aliases"]["triage"]["deployments"][0]["timeout_s"] = 600  # the test releases it
    (repo / "config" / "models.yaml").write_text(yaml.safe_dump(models), encoding="utf-8")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [COMMAND, "serve", "--port", str(port), "--no-access-log"],
        cwd=repo,
        env={
            **os.environ,
            "SQUAD_SERVICE_SHUTDOWN_TIMEOUT_S": "600",
            "SQUAD_SERVICE_DEADLINE_S": "600",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_serving(server, f"{base}/healthz")
        assert _status(f"{base}/readyz") == 200
        release = threading.Event()  # the answer stays in flight until the test releases it
        fake_openai.default = Reply.ok(VALID_ANSWER, until=release)
        results: list[int] = []
        in_flight = threading.Thread(
            target=lambda: results.append(
                httpx.post(f"{base}/v1/triage", json=TICKET, headers=AUTH, timeout=600).status_code
            )
        )
        in_flight.start()
        _wait_for(lambda: fake_openai.request_count == 1)

        server.send_signal(signal.SIGTERM)
        seen = []  # /readyz on a new connection, until the server stops accepting
        while (status := _status(f"{base}/readyz")) is not None:
            seen.append(status)
        refused_while_in_flight = in_flight.is_alive()
        release.set()
        in_flight.join(timeout=600)
        code = server.wait(timeout=600)
    finally:
        release.set()
        if server.poll() is None:
            server.kill()
    output = server.stdout.read() if server.stdout else ""

    assert set(seen) <= {503}, seen  # never "ready" once shutdown began (0.1 s at most)
    assert refused_while_in_flight  # new connections refused before the drain ended
    assert results == [200], output
    # After a graceful shutdown uvicorn re-raises the signal, so the process ends by it.
    assert code == -signal.SIGTERM, output
    assert "Application shutdown complete" in output


def _status(url: str) -> int | None:
    """The status of a GET on a new connection, or None when the server did not serve it:
    refused, or (a connection the kernel queued as the server closed its socket) closed or
    reset unanswered."""
    try:
        return httpx.get(url, timeout=60).status_code
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError):
        return None

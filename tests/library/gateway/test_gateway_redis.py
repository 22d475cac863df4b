"""Two gateway "replicas" share Router state through a real redis-server (litellm's support).

`REDIS_URL` makes `Gateway.from_settings` pass the URL to litellm's Router; litellm then
keeps deployment cooldowns in Redis, so a deployment one replica found dead is skipped by
the others. The control test shows that without Redis each replica learns on its own, so
the shared test proves Redis is what carries the state. Needs the `redis-server` binary
(Debian: `apt-get install redis-server`); skipped with that reason when it is missing.
"""

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from squadkit.gateway import Gateway, load_models_config
from squadkit.testing import FakeOpenAIServer, Reply

MESSAGES = [{"role": "user", "content": "<ticket>Where is my parcel?</ticket>"}]
REDIS_SERVER = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway redis-server on a free 127.0.0.1 port, no persistence, stopped after."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)")
    import redis  # noqa: PLC0415 - dev dependency, only where a server runs

    port = _free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", folder],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail(f"redis-server did not answer on 127.0.0.1:{port} within 5 s")
        yield f"redis://127.0.0.1:{port}"
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def replicas(
    fake_openai: FakeOpenAIServer,
    fake_openai_backup: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
) -> Callable[[str | None], tuple[Gateway, Gateway]]:
    """Two independent gateways over the same models file: primary fake -> backup fake."""
    fake_openai.default = Reply.error(503)
    fake_openai_backup.default = Reply.ok("shipped yesterday")

    def deployment(server: FakeOpenAIServer, name: str) -> dict[str, Any]:
        return {
            "model": f"openai/{name}",
            "api_base": server.base_url,
            "api_key_env": "FAKE_PROVIDER_KEY",
            "timeout_s": 5,
            "max_retries": 0,
        }

    path = write_models(
        {
            "routing": {"allowed_fails": 0, "cooldown_s": 60, "deadline_s": 20},
            "aliases": {
                "chat": {
                    "deployments": [
                        deployment(fake_openai, "primary-2025-01-01"),
                        deployment(fake_openai_backup, "backup-2025-01-01"),
                    ]
                }
            },
        }
    )

    def build(url: str | None) -> tuple[Gateway, Gateway]:
        config = load_models_config(path)
        return Gateway(config, redis_url=url), Gateway(config, redis_url=url)

    return build


async def _cool_down_on_first_then_ask_second(
    replicas: tuple[Gateway, Gateway], fake_openai: FakeOpenAIServer
) -> int:
    """Replica A meets the dead primary; how many times does replica B still try it?"""
    first, second = replicas
    answer = await first.acomplete("chat", MESSAGES)
    assert answer.fallback_used
    primary_calls = fake_openai.request_count
    assert primary_calls == 1
    for _ in range(3):
        answer = await second.acomplete("chat", MESSAGES)
        assert answer.fallback_used
    return fake_openai.request_count - primary_calls


async def test_without_redis_each_replica_learns_cooldowns_alone(
    replicas: Callable[[str | None], tuple[Gateway, Gateway]], fake_openai: FakeOpenAIServer
) -> None:
    assert await _cool_down_on_first_then_ask_second(replicas(None), fake_openai) == 1


async def test_replicas_sharing_redis_skip_a_deployment_another_cooled_down(
    replicas: Callable[[str | None], tuple[Gateway, Gateway]],
    fake_openai: FakeOpenAIServer,
    redis_url: str,
) -> None:
    assert await _cool_down_on_first_then_ask_second(replicas(redis_url), fake_openai) == 0

"""A call's latency and deadline clock start after the gateway's set-up, not before.

A real provider's first recording once froze 18.6 s of litellm import and Router set-up
into each of its first cases' latency, failing the latency scorer on our warm-up. The
gateway now sets up what a chain needs before it starts a call's clock: litellm imported,
and the Router built if the chain goes through it (a one-deployment chain without an
rpm/tpm limit is called without one: `direct.py`). Timing cannot show that on a machine of
unknown speed, so the test checks the order: in a fresh process (litellm not yet imported),
at the moment the clock starts (the observer's `on_call_start`, taken just before it),
litellm is imported and, for a chain that needs it, the Router built. The call goes to the
real fake OpenAI-compatible server over HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from squadkit.testing import FakeOpenAIServer, Reply

PROBE = """
import asyncio, json, sys
from pathlib import Path
from squadkit.gateway import Gateway, load_models_config

class Probe:
    seen = []
    def on_call_start(self, call):
        built = gateway.router_built
        Probe.seen.append({"litellm": "litellm" in sys.modules, "router": built})
    def on_attempt(self, call, attempt):
        return None
    def on_call_end(self, call, completion, error):
        return None

before = "litellm" in sys.modules
gateway = Gateway(load_models_config(Path(sys.argv[1])), observer=Probe())
messages = [{"role": "user", "content": "hello"}]
first = asyncio.run(gateway.acomplete("chat", messages))
print(json.dumps({"before": before, "seen": Probe.seen, "latency_s": first.latency_s}))
"""


@pytest.mark.parametrize(
    ("limits", "router"),
    [({}, False), ({"rpm": 100_000}, True)],
    ids=["direct chain: litellm imported", "rate-limited chain: Router built"],
)
def test_the_first_calls_clock_starts_after_its_set_up(
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
    limits: dict[str, Any],
    router: bool,
) -> None:
    fake_openai.default = Reply.ok("hi", latency_s=0.2)
    deployment = {
        "model": "openai/fake-2025-01-01",
        "api_base": fake_openai.base_url,
        "api_key_env": "FAKE_PROVIDER_KEY",
        "max_retries": 0,
        **limits,
    }
    path = write_models(
        {"routing": {"deadline_s": 600}, "aliases": {"chat": {"deployments": [deployment]}}}
    )

    result = subprocess.run(  # a fresh interpreter: nothing imported yet
        [sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["before"] is False  # the first call is the one that imports litellm
    assert probe["seen"] == [{"litellm": True, "router": router}]
    assert probe["latency_s"] >= 0.2  # the provider's own time is inside the measurement

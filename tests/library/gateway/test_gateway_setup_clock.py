"""A call's latency and deadline clock start after the gateway's set-up, not before.

A real provider's first recording once froze 18.6 s of litellm import and Router set-up
into each of its first cases' latency, failing the latency scorer on our warm-up. The
gateway now builds the Router before it starts a call's clock. Timing cannot show that on
a machine of unknown speed, so the test checks the order: in a fresh process (litellm not
yet imported), at the moment the clock starts (the observer's `on_call_start`, taken just
before it), litellm is imported and the Router built. The call goes to the real fake
OpenAI-compatible server over HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from squadkit.testing import FakeOpenAIServer, Reply

PROBE = """
import asyncio, json, sys
from pathlib import Path
from squadkit.gateway import Gateway, load_models_config

class Probe:
    seen = []
    def on_call_start(self, call):
        built = gateway._bundle is not None
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


def test_the_first_calls_clock_starts_after_litellm_is_imported_and_the_router_built(
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
) -> None:
    fake_openai.default = Reply.ok("hi", latency_s=0.2)
    deployment = {
        "model": "openai/fake-2025-01-01",
        "api_base": fake_openai.base_url,
        "api_key_env": "FAKE_PROVIDER_KEY",
        "max_retries": 0,
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
    assert probe["seen"] == [{"litellm": True, "router": True}]
    assert probe["latency_s"] >= 0.2  # the provider's own time is inside the measurement

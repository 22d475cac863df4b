"""A chain of offline models only is answered in-process, as the Router would answer it."""

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from squadkit.gateway import Gateway, ProviderUnavailable, load_models_config
from squadkit.testing import FakeOpenAIServer, Reply

TICKET = [{"role": "user", "content": "<ticket>I was charged twice, please refund</ticket>"}]
RULES = {"model": "local/triage-rules-v1"}


def test_offline_chain_answers_without_importing_litellm(
    write_models: Callable[[dict[str, Any]], Path],
) -> None:
    models = write_models({"aliases": {"triage": {"deployments": [RULES]}}})
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from squadkit.gateway import Gateway, load_models_config
        gateway = Gateway(load_models_config(Path({str(models)!r})))
        gateway.warm_up()
        completion = gateway.complete("triage", {TICKET!r})
        assert completion.deployment == "local/triage-rules-v1", completion
        print("litellm" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_offline_answer_equals_the_routers_fallback_answer(
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
) -> None:
    fake_openai.default = Reply.error(500)
    provider = {
        "model": "openai/down-2025-01-01",
        "api_base": fake_openai.base_url,
        "api_key_env": "FAKE_PROVIDER_KEY",
        "max_retries": 0,
    }
    models = write_models(
        {
            "aliases": {
                "offline": {"deployments": [RULES]},
                "routed": {"deployments": [provider, RULES]},
            }
        }
    )
    gateway = Gateway(load_models_config(models))

    offline = gateway.complete("offline", TICKET, output_schema={"type": "object"})
    routed = gateway.complete("routed", TICKET, output_schema={"type": "object"})

    assert fake_openai.request_count >= 1  # the routed call did go through the Router
    assert routed.fallback_used
    assert not offline.fallback_used
    same = ("text", "output", "deployment", "input_tokens", "output_tokens", "cost_usd")
    assert {f: getattr(offline, f) for f in same} == {f: getattr(routed, f) for f in same}
    assert offline.finish_reason == routed.finish_reason == "stop"


def test_offline_model_that_raises_falls_back_to_the_next(
    write_models: Callable[[dict[str, Any]], Path],
) -> None:
    chain = [{"model": "local/raising-v1"}, {"model": "local/word-count-v1"}]
    gateway = Gateway(
        load_models_config(write_models({"aliases": {"count": {"deployments": chain}}}))
    )

    completion = gateway.complete("count", [{"role": "user", "content": "three short words"}])

    assert completion.text == '{"words": 3}'
    assert completion.fallback_used
    assert completion.attempts == 2


def test_offline_chain_that_fails_everywhere_lists_each_failure(
    write_models: Callable[[dict[str, Any]], Path],
) -> None:
    chain = [{"model": "local/raising-v1"}, {"model": "local/raising-v1"}]
    gateway = Gateway(
        load_models_config(write_models({"aliases": {"bad": {"deployments": chain}}}))
    )

    with pytest.raises(ProviderUnavailable) as raised:
        gateway.complete("bad", TICKET)

    assert [f.deployment for f in raised.value.failures] == ["local/raising-v1"] * 2
    assert "RuntimeError: this offline model always fails" in str(raised.value)

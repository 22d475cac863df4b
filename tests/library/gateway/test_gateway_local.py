"""The offline `local/...` models, through the same Router path, and the models file."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from squadkit.errors import ConfigError
from squadkit.gateway import Gateway, ModelsConfig, load_models_config
from squadkit.gateway.local_models import judge, triage
from tests.library.squad import ROOT as SQUAD

LOCAL = {
    "aliases": {
        "triage": {"deployments": [{"model": "local/triage-rules-v1"}]},
        "judge": {"deployments": [{"model": "local/judge-heuristic-v1"}]},
    }
}


def test_triage_rules_quote_phrases_from_the_ticket() -> None:
    ticket = "URGENT: I was charged twice for my invoice, please refund"
    decision = triage(ticket)
    assert decision["queue"] == "billing"
    assert decision["priority"] == "urgent"
    assert '"refund"' in decision["rationale"]
    assert all(q in ticket for q in json.loads(f"[{_quoted(decision['rationale'])}]"))


def test_triage_without_keywords_uses_defaults() -> None:
    assert triage("hello") | {"rationale": ""} == {
        "queue": "technical",
        "priority": "normal",
        "rationale": "",
    }


def test_security_tickets_are_at_least_high() -> None:
    assert triage("I got a phishing email pretending to be you")["priority"] == "high"


def test_judge_scores_rubric_coverage() -> None:
    rubric = "apologise and offer a refund"
    assert judge(rubric, "We apologise and offer a full refund")["score"] == 1.0
    assert judge(rubric, "")["score"] == 0.0


def test_local_triage_answers_through_the_gateway(
    write_models: Callable[[dict[str, Any]], Path],
) -> None:
    gateway = Gateway(load_models_config(write_models(LOCAL)))
    completion = gateway.complete(
        "triage",
        [{"role": "user", "content": "<ticket>Cannot log in, password reset fails</ticket>"}],
        output_schema={"type": "object", "required": ["queue", "priority", "rationale"]},
    )
    assert completion.output["queue"] == "account"
    assert completion.deployment == "local/triage-rules-v1"
    assert completion.input_tokens > 0
    assert completion.cost_usd == 0


def test_unknown_alias_is_a_config_error(write_models: Callable[[dict[str, Any]], Path]) -> None:
    gateway = Gateway(load_models_config(write_models(LOCAL)))
    with pytest.raises(
        ConfigError, match=r"unknown model alias 'nope'; known aliases: judge, triage"
    ):
        gateway.complete("nope", [])


def test_missing_key_for_only_deployment_names_alias_and_variable(
    write_models: Callable[[dict[str, Any]], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ABSENT_KEY", raising=False)
    data = {
        "aliases": {"x": {"deployments": [{"model": "openai/m-1", "api_key_env": "ABSENT_KEY"}]}}
    }
    gateway = Gateway(load_models_config(write_models(data)))
    with pytest.raises(ConfigError, match=r"alias 'x'.*ABSENT_KEY"):
        gateway.complete("x", [])


def test_malformed_entry_names_file_line_alias_and_field(
    write_models: Callable[[dict[str, Any]], Path],
) -> None:
    data = {
        "aliases": {
            "triage": {"deployments": [{"model": "local/triage-rules-v1", "timeout_s": -1}]}
        }
    }
    path = write_models(data)
    with pytest.raises(
        ConfigError, match=r"models.yaml:\d+: alias 'triage' deployment 1 field 'timeout_s'"
    ):
        load_models_config(path)


def test_a_pasted_key_is_rejected_without_echoing_it(
    write_models: Callable[[dict[str, Any]], Path],
) -> None:
    data = {
        "aliases": {"x": {"deployments": [{"model": "openai/m-1", "api_key_env": "sk-live-abc"}]}}
    }
    with pytest.raises(ConfigError) as caught:
        load_models_config(write_models(data))
    assert "sk-live-abc" not in str(caught.value)


def test_commented_models_file_with_routing_and_descriptions_loads() -> None:
    config = load_models_config(SQUAD / "config" / "models.yaml")
    assert isinstance(config, ModelsConfig)
    assert config.source == SQUAD / "config" / "models.yaml"
    assert config.routing.cooldown_s == 30
    assert config.aliases["triage"].description.startswith("Classify a support ticket")
    assert config.deployment_chain("triage") == ["local/triage-rules-v1"]
    assert config.deployment_chain("judge") == ["local/judge-heuristic-v1"]
    assert config.aliases["judge"].deployments[0].timeout_s == 5


def _quoted(rationale: str) -> str:
    import re  # noqa: PLC0415

    return ",".join(f'"{q}"' for q in re.findall(r'"([^"]+)"', rationale))

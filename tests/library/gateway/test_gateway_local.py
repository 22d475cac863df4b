"""The offline `local/...` models, through the same Router path, and the models file.

squadkit ships one model, `judge-heuristic-v1`; `triage-rules-v1` is the fixture squad's
(`tests/library/squad/offline/triage.py`), served the way any squad's model is.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from squadkit.errors import ConfigError
from squadkit.gateway import Gateway, ModelsConfig, load_models_config
from squadkit.gateway.local_models import LOCAL_MODELS, answer, approx_tokens, judge
from tests.library.squad import ROOT as SQUAD

LOCAL = {
    "aliases": {
        "triage": {"deployments": [{"model": "local/triage-rules-v1"}]},
        "judge": {"deployments": [{"model": "local/judge-heuristic-v1"}]},
    }
}


def test_judge_scores_rubric_coverage() -> None:
    rubric = "apologise and offer a refund"
    assert judge(rubric, "We apologise and offer a full refund")["score"] == 1.0
    assert judge(rubric, "")["score"] == 0.0


def test_the_only_model_squadkit_ships_is_the_domain_neutral_judge() -> None:
    assert set(LOCAL_MODELS) == {"judge-heuristic-v1"}


def test_answer_counts_the_tokens_of_malformed_messages_without_crashing() -> None:
    odd: list[Any] = [
        "not a message",
        {"role": "system", "content": None},
        {"role": "system", "content": [{"type": "text", "text": "abc"}, 7]},
        {"role": "user", "content": "one two"},
    ]
    answered = answer("word-count-v1", odd)  # the fixture squad's model reads the last one
    assert answered.text == '{"words": 2}'
    assert answered.input_tokens == approx_tokens("\n\nabc\none two")


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

"""`squadkit.testing.offline_models_file`: a squad's tests never reach a paid provider."""

from pathlib import Path

import pytest
import yaml

from squadkit.errors import ConfigError
from squadkit.gateway import load_models_config
from squadkit.testing.offline import offline_models_file

CLOUD_THEN_LOCAL = {
    "aliases": {
        "triage": {
            "deployments": [
                {"model": "openai/gpt-4.1-mini-2025-04-14", "api_key_env": "OPENAI_API_KEY"},
                {"model": "local/triage-rules-v1"},
            ]
        }
    }
}


def test_only_the_offline_deployments_are_kept(tmp_path: Path) -> None:
    source = tmp_path / "models.yaml"
    source.write_text(yaml.safe_dump(CLOUD_THEN_LOCAL), encoding="utf-8")

    offline = load_models_config(offline_models_file(source, tmp_path / "offline.yaml"))

    assert offline.deployment_chain("triage") == ["local/triage-rules-v1"]


def test_an_alias_without_an_offline_model_is_named(tmp_path: Path) -> None:
    source = tmp_path / "models.yaml"
    cloud_only = {"aliases": {"triage": {"deployments": [{"model": "openai/gpt-4.1"}]}}}
    source.write_text(yaml.safe_dump(cloud_only), encoding="utf-8")

    with pytest.raises(ConfigError, match=r"alias 'triage' has no local/\.\.\. deployment"):
        offline_models_file(source, tmp_path / "offline.yaml")

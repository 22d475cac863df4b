"""Fixtures of the service tests. Fault tests point the `triage` alias at the fake
OpenAI-compatible server, so errors come from the real gateway -> litellm -> HTTP path.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from squadkit.testing import FakeOpenAIServer
from tests.library.service.servicekit import REPO, RunningService, fake_models, running, settings_with


@pytest.fixture(scope="session")
def offline_service() -> Iterator[RunningService]:
    """The service as rendered: config/models.yaml, prompts/, the offline provider."""
    with running(settings_with()) as service:
        yield service


@pytest.fixture
def fake_service(
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
    write_models: Callable[[dict[str, Any]], Path],
) -> Callable[..., Any]:
    """`with fake_service(**settings) as service:` the service in front of the fake provider."""
    models = write_models(fake_models(fake_openai.base_url))

    def start(**values: Any) -> Any:
        return running(settings_with(SQUAD_MODELS_FILE=str(models), **values))

    return start


@pytest.fixture(scope="session")
def contract_client() -> ModuleType:
    """`contracts/client.py`, loaded the way the platform would vendor it (not installed)."""
    spec = importlib.util.spec_from_file_location(
        "squad_contract_client", REPO / "contracts" / "client.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module

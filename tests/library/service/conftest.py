"""Fixtures of the service tests: the fixture squad's app (`tests.library.squad.routes`).

Fault tests point the `triage` alias at the fake OpenAI-compatible server, so errors come
from the real gateway -> litellm -> HTTP path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from squadkit.testing import FakeOpenAIServer
from tests.library.service.servicekit import RunningService, fake_models, running, settings_with


@pytest.fixture(scope="session")
def offline_service() -> Iterator[RunningService]:
    """The fixture squad's service: its config/models.yaml, prompts/, the offline provider."""
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

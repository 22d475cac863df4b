"""What every test package shares: the fixture squad, the fake providers, a models.yaml writer."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

# Never let litellm fetch its cost map from the internet, whatever the test imports first.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parents[2]
"""The repository root: on sys.path, so `tests.library.squad` imports."""

# The squad's code is the fixture squad's, in this process and in every `squad ...` a test
# starts from another directory (plugins read SQUAD_PACKAGE once per process).
os.environ["SQUAD_PACKAGE"] = "tests.library.squad"
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
)

from squadkit.testing import FakeOpenAIServer  # noqa: E402 - after the environment it reads

# A key no test should ever see in a log line, exception text or repr.
SENTINEL_KEY = "sk-test-SENTINEL-0123456789abcdef"


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    """A fake OpenAI-compatible provider on 127.0.0.1 (see squadkit/testing/openai_server.py)."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def fake_openai_backup() -> Iterator[FakeOpenAIServer]:
    """A second, independent fake provider: the fallback in chain tests."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def sentinel_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """`FAKE_PROVIDER_KEY` set to a recognisable secret."""
    monkeypatch.setenv("FAKE_PROVIDER_KEY", SENTINEL_KEY)
    return SENTINEL_KEY


@pytest.fixture
def write_models(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    """Write a models.yaml from a dict and return its path."""

    def write(data: dict[str, Any]) -> Path:
        path = tmp_path / "models.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of the real PostgreSQL, with a schema of this test's own."""
    from tests.library.postgres import postgres_schema  # noqa: PLC0415

    with postgres_schema() as url:
        yield url

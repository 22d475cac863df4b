"""What every test of the squad's own code shares: offline answers, whatever keys are set."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from squadkit.testing.offline import offline_models_file

# Never let litellm fetch its cost map from the internet, whatever a test imports first.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def offline_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`config/models.yaml` with only each alias's `local/...` deployments: a provider key
    exported in the shell never sends a test to a paid provider."""
    path = offline_models_file(
        REPO / "config" / "models.yaml", tmp_path_factory.mktemp("models") / "models.yaml"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SQUAD_MODELS_FILE", str(path))
        yield path


@pytest.fixture(scope="session", autouse=True)
def inference_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The service's inference log in a temporary SQLite file, never the repo's .squad/."""
    path = tmp_path_factory.mktemp("inference-log") / "inferences.sqlite3"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SQUAD_INFERENCE_LOG_URL", f"sqlite:///{path}")
        yield path

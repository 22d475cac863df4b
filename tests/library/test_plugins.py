"""The seam a squad extends squadkit through: its package's `offline`, `routes` and `features`
modules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from squadkit.errors import ConfigError
from squadkit.gateway import Gateway, load_models_config
from squadkit.plugins import squad_features, squad_local_models, squad_package
from squadkit.service import create_app

SquadMaker = Callable[[dict[str, str]], str]


@pytest.fixture
def make_squad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SquadMaker:
    """Write a squad package from `{relative path: source}`, make it THE squad, return its name.

    Each test's package has its own name: plugins cache their lookups per package name.
    """

    def make(files: dict[str, str]) -> str:
        name = f"squad_{tmp_path.name}"
        package = tmp_path / "src" / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("", encoding="utf-8")
        for relative, source in files.items():
            path = package / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source, encoding="utf-8")
        monkeypatch.syspath_prepend(str(tmp_path / "src"))
        monkeypatch.setenv("SQUAD_PACKAGE", name)
        return name

    return make


def test_the_fixture_squad_is_the_squad_of_these_tests() -> None:
    assert squad_package() == "tests.library.squad"


def test_squad_offline_model_answers_through_the_gateway(
    write_models: Callable[[dict[str, Any]], Path],
) -> None:
    models = {"aliases": {"words": {"deployments": [{"model": "local/word-count-v1"}]}}}
    gateway = Gateway(load_models_config(write_models(models)))

    completion = gateway.complete(
        "words",
        [{"role": "user", "content": "one two three four"}],
        output_schema={"type": "object", "required": ["words"]},
    )

    assert completion.output == {"words": 4}  # tests/library/squad/offline.py answered
    assert completion.deployment == "local/word-count-v1"
    assert completion.fallback_used is False


def test_squad_model_named_like_a_shipped_one_is_a_config_error(
    make_squad: SquadMaker, write_models: Callable[[dict[str, Any]], Path]
) -> None:
    make_squad({"offline.py": 'LOCAL_MODELS = {"judge-heuristic-v1": lambda messages: {}}\n'})
    models = {"aliases": {"judge": {"deployments": [{"model": "local/judge-heuristic-v1"}]}}}
    gateway = Gateway(load_models_config(write_models(models)))

    # At start-up, not as a failed call: the squad has to rename its model.
    with pytest.raises(
        ConfigError, match=r"redefine squadkit's local model\(s\) judge-heuristic-v1"
    ):
        gateway.warm_up()


def test_the_same_model_in_two_offline_modules_is_a_config_error(
    make_squad: SquadMaker,
) -> None:
    model = 'LOCAL_MODELS = {"echo-v1": lambda messages: {}}\n'
    name = make_squad({"offline/__init__.py": "", "offline/a.py": model, "offline/b.py": model})

    with pytest.raises(ConfigError, match=rf"{name}\.offline\.b: local model 'echo-v1'"):
        squad_local_models()


def test_route_module_without_a_router_is_refused(make_squad: SquadMaker) -> None:
    name = make_squad(
        {
            "routes/__init__.py": 'API_VERSION = "2.0.0"\n',
            "routes/orders.py": "from fastapi import APIRouter\n\nrouters = [APIRouter()]\n",
        }
    )

    with pytest.raises(ConfigError, match=rf"{name}\.routes\.orders: a route module must define"):
        create_app()


def test_every_route_module_of_the_squad_is_served(make_squad: SquadMaker) -> None:
    route = (
        "from fastapi import APIRouter\n\n"
        'router = APIRouter(prefix="/v1")\n\n\n'
        '@router.get("/{name}")\n'
        "async def get() -> dict[str, str]:\n"
        '    return {"from": __name__}\n'
    )
    make_squad(
        {
            "routes/__init__.py": 'API_VERSION = "2.0.0"\n',
            "routes/orders.py": route.replace("{name}", "orders"),
            "routes/refunds.py": route.replace("{name}", "refunds"),
        }
    )

    document = create_app().openapi()

    assert document["info"]["version"] == "2.0.0"
    assert {"/v1/orders", "/v1/refunds", "/healthz", "/readyz"} <= set(document["paths"])


def test_a_squad_package_that_cannot_be_imported_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A renamed package or a stale install must not silently serve no routes or models."""
    monkeypatch.setenv("SQUAD_PACKAGE", "no_such_squad_package")

    with pytest.raises(ConfigError, match="'no_such_squad_package' cannot be imported"):
        squad_local_models()


def test_a_squad_without_offline_models_has_none(make_squad: SquadMaker) -> None:
    make_squad({})

    assert squad_local_models() == {}


def test_a_feature_its_package_re_exports_is_found_once(
    make_squad: SquadMaker,
) -> None:
    feature = (
        "from pydantic import BaseModel\n"
        "from squadkit.features import Feature\n\n\n"
        "class Text(BaseModel):\n"
        "    text: str\n\n\n"
        "async def echo(text, *, registry, gateway, label=None, deadline_s=None):\n"
        "    return text\n\n\n"
        'FEATURE = Feature(name="echo", prompt="echo", input_model=Text, output_model=Text, '
        "run=echo)\n"
    )
    make_squad({"features/__init__.py": "from .echo import FEATURE\n", "features/echo.py": feature})

    assert list(squad_features()) == ["echo"]


def test_a_features_module_whose_feature_is_not_declared_with_feature_is_refused(
    make_squad: SquadMaker,
) -> None:
    name = make_squad({"features/triage.py": "FEATURE = 'triage'\n"})

    with pytest.raises(ConfigError, match=rf"{name}\.features\.triage: FEATURE is a str"):
        squad_features()

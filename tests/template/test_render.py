"""Every answer combination renders into a complete, parseable squad repo."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable

import pytest
import yaml

from tests.template.conftest import Rendered, render

PROVIDERS = ["local", "openai", "anthropic", "azure", "bedrock", "vertex_ai", "ollama"]
LICENSES = ["MIT", "Apache-2.0", "Proprietary"]
PYTHONS = ["3.11", "3.12", "3.13"]

# A covering set: every provider once, every include_service x observability pair, every
# license and Python version at least once (28 full combinations would add ~40 s for no
# extra template branch covered).
COVERING = [
    {
        "default_provider": provider,
        "include_service": index % 2 == 0,
        "observability": ["otlp", "none"][(index // 2) % 2],
        "license": LICENSES[index % 3],
        "python_version": PYTHONS[index % 3],
    }
    for index, provider in enumerate(PROVIDERS)
]

COPIER_VARIABLES = (
    "project_name|project_slug|package_name|description|author_name|author_email|"
    "python_version|default_provider|include_service|observability|license|_copier"
)
UNRENDERED = re.compile(r"\{\{-?\s*(" + COPIER_VARIABLES + r")\b|\{%-?\s*(if|for|set|raw)\b")


def _id(answers: dict[str, object]) -> str:
    return "-".join(str(v) for v in answers.values())


@pytest.fixture(params=COVERING, ids=_id)
def variant(request: pytest.FixtureRequest, render_once: Callable[..., Rendered]) -> Rendered:
    return render_once(**request.param)


def test_no_template_syntax_is_left_in_names_or_contents(variant: Rendered) -> None:
    leftovers = []
    for path in variant.files():
        relative = path.relative_to(variant.path)
        if "{" in str(relative) or path.suffix == ".jinja":
            leftovers.append(f"{relative}: unrendered file name")
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        # Prompt templates are runtime Jinja by design; only Copier's own syntax is a leak.
        for number, line in enumerate(text.splitlines(), start=1):
            if UNRENDERED.search(line) and relative.parts[0] != "prompts":
                leftovers.append(f"{relative}:{number}: {line.strip()}")
    assert leftovers == []


def test_every_data_file_parses(variant: Rendered) -> None:
    parsed = 0
    for path in variant.files():
        text = path.read_text(encoding="utf-8")
        if path.suffix in {".yaml", ".yml"} or path.name == "prompts.lock":
            list(yaml.safe_load_all(text))
        elif path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix == ".jsonl":
            for line in text.splitlines():
                if line.strip():
                    json.loads(line)
        else:
            continue
        parsed += 1
    assert parsed >= 3


def test_answers_file_records_every_answer(variant: Rendered) -> None:
    recorded = yaml.safe_load((variant.path / ".copier-answers.yml").read_text())
    for question, answer in variant.answers.items():
        assert recorded[question] == answer
    assert recorded["package_name"] == "acme_support_triage"
    assert "_commit" in recorded
    assert "_src_path" in recorded


def test_service_package_follows_include_service(variant: Rendered) -> None:
    service = variant.path / "src" / variant.package / "service"
    pyproject = tomllib.loads((variant.path / "pyproject.toml").read_text())
    dependencies = " ".join(pyproject["project"]["dependencies"])
    assert service.is_dir() == variant.answers["include_service"]
    assert ("fastapi" in dependencies) == variant.answers["include_service"]


def test_opentelemetry_follows_observability(variant: Rendered) -> None:
    pyproject = tomllib.loads((variant.path / "pyproject.toml").read_text())
    dependencies = " ".join(pyproject["project"]["dependencies"])
    assert ("opentelemetry-sdk" in dependencies) == (variant.answers["observability"] == "otlp")


def test_python_version_sets_requires_python_and_tooling(variant: Rendered) -> None:
    version = str(variant.answers["python_version"])
    pyproject = tomllib.loads((variant.path / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == f">={version}"
    assert pyproject["tool"]["mypy"]["python_version"] == version
    assert (variant.path / ".python-version").read_text().strip() == version


def test_license_file_matches_answer(variant: Rendered) -> None:
    text = (variant.path / "LICENSE").read_text()
    expected = {"MIT": "MIT License", "Apache-2.0": "Apache License", "Proprietary": "All rights"}
    assert expected[str(variant.answers["license"])] in text
    assert "Acme AI Squad" in text or variant.answers["license"] == "Apache-2.0"


def test_post_copy_task_initialises_git(render_once: Callable[..., Rendered]) -> None:
    rendered = render_once()
    assert (rendered.path / ".git").is_dir()


def test_skip_tasks_render_is_complete(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rendered = render(tmp_path / "no-tasks", skip_tasks=True)
    assert not (rendered.path / ".git").exists()
    for required in ("pyproject.toml", "Makefile", "README.md", ".copier-answers.yml"):
        assert (rendered.path / required).is_file()

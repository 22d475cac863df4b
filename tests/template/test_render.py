"""Every answer combination renders into a complete, parseable squad repo."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import copier
import pytest
import yaml
from packaging.requirements import Requirement

from tests.template.conftest import (
    BASE_ANSWERS,
    TEMPLATE_ROOT,
    Rendered,
    commit_all,
    git,
    render,
    working_tree_repo,
)

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


def _squadkit_requirement(variant: Rendered) -> Requirement:
    pyproject = tomllib.loads((variant.path / "pyproject.toml").read_text())
    (requirement,) = [Requirement(d) for d in pyproject["project"]["dependencies"]]
    assert requirement.name == "squadkit"
    return requirement


def test_routes_and_service_extra_follow_include_service(variant: Rendered) -> None:
    routes = variant.path / "src" / variant.package / "routes"
    assert routes.is_dir() == variant.answers["include_service"]
    assert ("service" in _squadkit_requirement(variant).extras) == variant.answers[
        "include_service"
    ]


def test_service_make_targets_follow_include_service(variant: Rendered) -> None:
    # `make/service.mk` is rendered with the service only; the Makefile includes it if present.
    dry_run = subprocess.run(
        ["make", "--dry-run", "serve", "contract", "contract-check", "harvest",
         "experiments-decide"],
        cwd=variant.path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (dry_run.returncode == 0) == variant.answers["include_service"], dry_run.stderr


def test_opentelemetry_extra_follows_observability(variant: Rendered) -> None:
    extras = _squadkit_requirement(variant).extras
    assert ("otlp" in extras) == (variant.answers["observability"] == "otlp")


def test_squad_repo_pins_the_template_release_of_squadkit(variant: Rendered) -> None:
    library = tomllib.loads((TEMPLATE_ROOT / "pyproject.toml").read_text())["project"]
    assert library["name"] == "squadkit"
    assert str(_squadkit_requirement(variant).specifier) == f"=={library['version']}"
    pyproject = tomllib.loads((variant.path / "pyproject.toml").read_text())
    # The template's tests render the working tree, so squadkit comes from it too.
    assert pyproject["tool"]["uv"]["sources"]["squadkit"] == {
        "path": str(TEMPLATE_ROOT),
        "editable": True,
    }
    entry_points = pyproject["project"]["entry-points"]["squadkit.squad"]
    assert entry_points == {variant.package: variant.package}


def test_render_of_a_release_installs_squadkit_from_git_at_that_commit(tmp_path: Path) -> None:
    """Without `squadkit_path` (a team's `copier copy`), the source is the template's own git
    repository at exactly the commit rendered."""
    template = working_tree_repo(tmp_path / "template")
    commit_all(template, "release")
    commit = git("rev-parse", "HEAD", cwd=template).strip()
    destination = tmp_path / "squad"
    copier.run_copy(
        str(template), str(destination), data=dict(BASE_ANSWERS), defaults=True, unsafe=True,
        vcs_ref="HEAD", quiet=True, skip_tasks=True,
    )  # fmt: skip
    pyproject = tomllib.loads((destination / "pyproject.toml").read_text())
    assert pyproject["tool"]["uv"]["sources"]["squadkit"] == {
        "git": f"file://{template}",
        "rev": commit,
    }
    assert "squadkit_path" not in (destination / ".copier-answers.yml").read_text()


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


JINJA_BRANCH = re.compile(r"\{%-?\s*(?:if|elif)\b")


def test_every_template_file_has_at_most_three_jinja_branches() -> None:
    # More wants splitting (docs/architecture.md): a file by path, a make include, a section.
    crowded = {}
    for path in sorted((TEMPLATE_ROOT / "template").rglob("*.jinja")):
        branches = len(JINJA_BRANCH.findall(path.read_text(encoding="utf-8")))
        if branches > 3:
            crowded[str(path.relative_to(TEMPLATE_ROOT))] = branches
    assert crowded == {}

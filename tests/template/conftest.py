"""Render the template with the real Copier API, once per answer set per session.

`vcs_ref="HEAD"` makes Copier render the working tree (dirty changes included), so the
tests check what is on disk. Installed variants share uv's cache and get one virtualenv
each, outside the rendered tree, so rendering stays clean and re-installs are cheap.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import copier
import pytest

from squadkit.gateway import local_models
from squadkit.plugins import LocalModel

TEMPLATE_ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = Path(sys.executable).parent  # the template's .venv/bin: copier, uv

# Copier runs the post-copy task in this process's environment: give it our pinned uv.
os.environ["PATH"] = f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

BASE_ANSWERS: dict[str, object] = {
    "project_name": "Acme Support Triage",
    "author_name": "Acme AI Squad",
    "author_email": "ai-squad@acme.example",
}
# Renders of the working tree install squadkit from it (uncommitted changes included), not
# from git at a commit: a hidden answer, never recorded in .copier-answers.yml.
LIBRARY_FROM_WORKING_TREE: dict[str, object] = {"squadkit_path": str(TEMPLATE_ROOT)}


@dataclass(frozen=True)
class Rendered:
    """A rendered squad repo and the answers that produced it."""

    path: Path
    answers: Mapping[str, object]

    @property
    def package(self) -> str:
        return str(self.answers.get("package_name", "acme_support_triage"))

    def files(self) -> list[Path]:
        return sorted(p for p in self.path.rglob("*") if p.is_file() and ".git" not in p.parts)


def tool_env(**extra: str) -> dict[str, str]:
    """Environment for running a rendered repo's tools: our pinned uv first on PATH."""
    # Drop the outer `make test`'s MAKELEVEL/MAKEFLAGS too: a rendered repo's make must
    # behave as on a laptop, not as a sub-make (which prints "Entering directory" lines).
    # And PYTHONDONTWRITEBYTECODE, which some sandboxes set: without cached bytecode every
    # process recompiles what it imports (litellm alone: 12 s instead of 5 s here).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VIRTUAL_ENV", "UV_PROJECT", "MAKE", "MFLAGS"))
        and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["PATH"] = f"{TOOLS_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env.update(extra)
    return env


def render(destination: Path, *, skip_tasks: bool = False, **answers: object) -> Rendered:
    data = {**BASE_ANSWERS, **answers}
    copier.run_copy(
        str(TEMPLATE_ROOT),
        str(destination),
        data={**data, **LIBRARY_FROM_WORKING_TREE},
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
        skip_tasks=skip_tasks,
    )
    return Rendered(path=destination, answers=data)


def squad_module(rendered: Rendered, name: str) -> ModuleType:
    """`<package>.<name>` of a rendered repo, imported from its `src/` into this process.

    For the squad's code that a template test calls directly, such as its offline models.
    Renders share a package name, so the package is imported afresh for each call and left
    out of `sys.modules` afterwards: a module never comes from another render.
    """

    def forget() -> None:
        package = rendered.package
        for loaded in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
            del sys.modules[loaded]

    src = str(rendered.path / "src")
    forget()
    sys.path.insert(0, src)
    try:
        return importlib.import_module(f"{rendered.package}.{name}")
    finally:
        sys.path.remove(src)
        forget()


def offline_models(rendered: Rendered) -> dict[str, LocalModel]:
    """Every `local/` model a rendered repo answers with: squadkit's and its `offline/` modules'
    (by name, without the `local/` prefix)."""
    models = dict(local_models.LOCAL_MODELS)
    folder = rendered.path / "src" / rendered.package / "offline"
    for path in sorted(folder.glob("*.py")):
        name = "offline" if path.stem == "__init__" else f"offline.{path.stem}"
        models.update(getattr(squad_module(rendered, name), "LOCAL_MODELS", {}))
    return models


@pytest.fixture(scope="session")
def render_once(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Rendered]:
    """Render an answer set the first time it is asked for; reuse it afterwards."""
    cache: dict[tuple[tuple[str, str], ...], Rendered] = {}

    def _render(**answers: object) -> Rendered:
        key = tuple(sorted((k, repr(v)) for k, v in answers.items()))
        if key not in cache:
            name = "-".join(str(answers[k]) for k, _ in key) or "defaults"
            cache[key] = render(tmp_path_factory.mktemp(name[:60]), **answers)
        return cache[key]

    return _render


@pytest.fixture(scope="session")
def install(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Rendered], dict[str, str]]:
    """Install a rendered repo into its own virtualenv; return the env that selects it."""
    venvs = tmp_path_factory.mktemp("venvs")
    done: dict[Path, dict[str, str]] = {}

    def _install(rendered: Rendered) -> dict[str, str]:
        if rendered.path not in done:
            env = tool_env(UV_PROJECT_ENVIRONMENT=str(venvs / rendered.path.name))
            run(["uv", "sync", "--quiet"], cwd=rendered.path, env=env)
            done[rendered.path] = env
        return done[rendered.path]

    return _install


def run(
    args: list[str], *, cwd: Path, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a command; on unexpected failure show its output in the assertion message."""
    result = subprocess.run(
        args, cwd=cwd, env=dict(env or tool_env()), capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"`{' '.join(args)}` exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
        )
    return result


# A fixed identity: commits in throwaway repos must work on a machine with no git config.
GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]


def git(*args: str, cwd: Path) -> str:
    """Run git in `cwd` (failing the test on error) and return its stdout."""
    return run([*GIT, *args], cwd=cwd).stdout


def commit_all(repo: Path, message: str) -> None:
    """Stage everything in `repo` and commit it, even when nothing changed."""
    git("add", "--all", cwd=repo)
    git("commit", "--quiet", "--allow-empty", "-m", message, cwd=repo)


def committed_copy(
    rendered: Rendered,
    env: Mapping[str, str],
    folder: Path,
    *,
    files: Mapping[str, str] | None = None,
    message: str = "fresh render",
) -> tuple[Path, dict[str, str]]:
    """A copy of `rendered` in `folder`, with `files` (path -> text) written over it and
    everything committed, and `env` (its tools installed by `install`) given a virtualenv of
    the copy's own: `uv run` in a copy re-points the editable install at the copy, so runs
    that share the render's venv would break each other."""
    repo = folder / "repo"
    shutil.copytree(rendered.path, repo)
    for relative, text in (files or {}).items():
        (repo / relative).write_text(text, encoding="utf-8")
    commit_all(repo, message)
    return repo, {**env, "UV_PROJECT_ENVIRONMENT": str(folder / "venv")}


def dispatch_under_act(
    repo: Path, env: Mapping[str, str], workflow: str, log_url: str, *inputs: str
) -> tuple[int, str]:
    """`workflow`'s dispatch under act with the inference log's URL as its secret, as the
    docs' `make act` line runs it (`inputs`: `ACT_INPUTS=...`): the exit status and the
    output without act's colour codes (act gives git a terminal)."""
    result = run(
        [
            "make", "act", f"ACT_WORKFLOWS={workflow}", "ACT_EVENT=workflow_dispatch",
            *inputs, "ACT_SECRETS=SQUAD_INFERENCE_LOG_URL",
        ],
        cwd=repo,
        env={**env, "SQUAD_INFERENCE_LOG_URL": log_url},
        check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    return result.returncode, re.sub(r"\x1b\[[0-9;]*m", "", output)


def working_tree_repo(destination: Path) -> Path:
    """A new git repo holding the template's working tree (tracked and untracked files,
    ignored ones left out), not yet committed: the base for synthetic releases."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = TEMPLATE_ROOT / relative
        if source.is_file():
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)
    git("init", "--quiet", "--initial-branch=main", cwd=destination)
    return destination


OLD_RELEASE, NEW_RELEASE = "0.0.1", "0.0.2"
TEMPLATE_CHANGE = "## Template change from the new release\n"


def two_releases(destination: Path) -> Path:
    """A private template repo to update between: the working tree as tag OLD_RELEASE, then
    a change to a template-owned file (a README section, TEMPLATE_CHANGE) as NEW_RELEASE."""
    repo = working_tree_repo(destination)
    commit_all(repo, "old release")
    git("tag", OLD_RELEASE, cwd=repo)
    readme = repo / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\n" + TEMPLATE_CHANGE)
    commit_all(repo, "new release")
    git("tag", NEW_RELEASE, cwd=repo)
    return repo

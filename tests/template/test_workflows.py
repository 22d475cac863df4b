"""The generated repo's workflows and hooks: linted, pinned, least-privilege, thin.

Workflow linting runs offline with the template's own pinned tools (actionlint with
shellcheck, zizmor --offline) on every variant of the covering set, because each answer
can add or drop a workflow. The pre-commit test runs the generated hooks for real.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.template.conftest import Rendered, commit_all, run, tool_env
from tests.template.test_render import COVERING, _id

SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[^@]+)?@[0-9a-f]{40} # v\d+(\.\d+)*$")


@pytest.fixture(params=COVERING, ids=_id)
def variant(request: pytest.FixtureRequest, render_once: Callable[..., Rendered]) -> Rendered:
    return render_once(**request.param)


def _workflows(rendered: Rendered) -> dict[str, dict]:  # type: ignore[type-arg]
    folder = rendered.path / ".github" / "workflows"
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(folder.glob("*.yml"))}


def _on(workflow: dict) -> dict:  # type: ignore[type-arg]
    # PyYAML reads the `on:` key as the boolean True.
    return workflow.get("on") or workflow[True]


def test_actionlint_reports_nothing(variant: Rendered) -> None:
    result = run(["actionlint", "-no-color"], cwd=variant.path, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_reports_nothing(variant: Rendered) -> None:
    result = run(
        ["zizmor", "--offline", "--persona=auditor", "--no-progress", ".github/workflows"],
        cwd=variant.path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_contract_workflow_follows_include_service(variant: Rendered) -> None:
    expected = {"ci.yml", "evals.yml", "promote.yml", "template-update.yml"}
    if variant.answers["include_service"]:
        expected |= {"contract.yml", "experiments.yml", "harvest.yml"}
    assert set(_workflows(variant)) == expected


def test_every_remote_action_is_pinned_by_full_sha_with_its_version(
    render_once: Callable[..., Rendered],
) -> None:
    rendered = render_once()
    uses = []
    for path in (rendered.path / ".github" / "workflows").glob("*.yml"):
        for line in path.read_text().splitlines():
            if line.strip().startswith(("uses:", "- uses:")):
                uses.append(line.split("uses:", 1)[1].strip())
    assert uses
    assert [use for use in uses if not SHA_PIN.match(use)] == []


def test_workflows_grant_nothing_by_default_and_jobs_ask_for_least(
    render_once: Callable[..., Rendered],
) -> None:
    # Only the jobs that open a pull request write; they call no model and run no update.
    writers = {"comment": {"pull-requests"}, "open-pr": {"contents", "pull-requests"}}
    for name, workflow in _workflows(render_once()).items():
        assert workflow["permissions"] == {}, name
        assert "pull_request_target" not in _on(workflow), name
        for job_id, job in workflow["jobs"].items():
            granted = job["permissions"]
            written = {scope for scope, level in granted.items() if level == "write"}
            assert written == writers.get(job_id, set()), f"{name}:{job_id}"


def test_checkout_never_persists_credentials(render_once: Callable[..., Rendered]) -> None:
    for name, workflow in _workflows(render_once()).items():
        for job_id, job in workflow["jobs"].items():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, f"{name}:{job_id}"


def test_tool_chain_downloads_are_skipped_under_act(render_once: Callable[..., Rendered]) -> None:
    for name, workflow in _workflows(render_once()).items():
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith(("astral-sh/setup-uv@", "actions/setup-")):
                    assert step["if"] == "${{ !env.ACT }}", name


def test_every_run_step_is_a_make_target(render_once: Callable[..., Rendered]) -> None:
    rendered = render_once()
    makefiles = [rendered.path / "Makefile", *sorted((rendered.path / "make").glob("*.mk"))]
    text = "".join(makefile.read_text() for makefile in makefiles)  # the Makefile includes make/
    targets = set(re.findall(r"^([a-z][\w-]*):", text, flags=re.MULTILINE))
    for name, workflow in _workflows(rendered).items():
        for job_id, job in workflow["jobs"].items():
            if (name, job_id) == ("template-update.yml", "open-pr"):
                continue  # after the patch, this job must not run the (patched) Makefile
            for step in job["steps"]:
                if "run" in step:
                    words = step["run"].split()
                    assert words[0] == "make", f"{name}: {step['run']}"
                    target = next(word for word in words[1:] if not word.startswith("-"))
                    assert target in targets, f"{name}: no make target {target}"
                    assert "${{" not in step["run"], f"{name}: expression in run: {step['run']}"


def _committed_copy(rendered: Rendered, destination: Path) -> Path:
    shutil.copytree(rendered.path, destination, ignore=shutil.ignore_patterns(".venv"))
    commit_all(destination, "render")
    return destination


def test_conflict_check_names_markers_and_rej_files(
    render_once: Callable[..., Rendered], tmp_path: Path
) -> None:
    repo = _committed_copy(render_once(), tmp_path / "repo")
    check = [sys.executable, "scripts/check_conflicts.py"]
    assert run(check, cwd=repo, check=False).returncode == 0
    readme = repo / "README.md"
    readme.write_text(readme.read_text() + "<<<<<<< before\nours\n=======\ntheirs\n>>>>>>> after\n")
    (repo / "Makefile.rej").write_text("@@ rejected hunk\n")
    result = run(check, cwd=repo, check=False)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("Makefile.rej: rejected template change") for line in lines)
    assert sum(line.startswith("README.md:") for line in lines) == 3


def test_eval_plan_replays_without_keys_and_goes_live_with_them(
    render_once: Callable[..., Rendered],
) -> None:
    rendered = render_once(default_provider="openai", include_service=False, observability="none")
    plan = [sys.executable, "scripts/ci/eval_plan.py"]
    env = {k: v for k, v in tool_env().items() if not k.endswith("_API_KEY") and k != "EVAL_MODE"}
    replay = subprocess.run(plan, cwd=rendered.path, env=env, capture_output=True, text=True)
    live = subprocess.run(
        plan, cwd=rendered.path, env={**env, "OPENAI_API_KEY": "sk-test"}, capture_output=True,
        text=True,
    )  # fmt: skip
    assert "mode=replay" in replay.stdout.splitlines()
    assert "mode=live" in live.stdout.splitlines()
    assert "shards=[1]" in replay.stdout.splitlines()


@pytest.mark.slow
def test_pre_commit_passes_on_a_fresh_render(
    render_once: Callable[..., Rendered],
    install: Callable[[Rendered], dict[str, str]],
    tmp_path: Path,
) -> None:
    rendered = render_once()
    # Its own venv: `uv run` in a copy would re-point the shared editable install.
    env = {**install(rendered), "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv")}
    repo = _committed_copy(rendered, tmp_path / "repo")
    result = run(
        ["uv", "run", "pre-commit", "run", "--all-files", "--show-diff-on-failure"],
        cwd=repo,
        env={**env, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit")},
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_template_repos_own_workflows_are_lint_clean() -> None:
    root = Path(__file__).resolve().parents[2]
    lint = run(["actionlint", "-no-color"], cwd=root, check=False)
    audit = run(
        ["zizmor", "--offline", "--no-progress", ".github/workflows"], cwd=root, check=False
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert audit.returncode == 0, audit.stdout + audit.stderr


def _jobs(variant: Rendered) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path in sorted((variant.path / ".github" / "workflows").glob("*.yml")):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        found += [(path.name, name, job) for name, job in workflow["jobs"].items()]
    return found


def test_secrets_reach_only_environment_jobs_without_write_tokens(variant: Rendered) -> None:
    """Provider keys live in the `evals` environment and reach only the jobs that call a
    model, the inference log's URL in the `harvest` and `experiments` environments and only
    the jobs that read it; no job that holds a write token sees a secret."""
    for workflow, name, job in _jobs(variant):
        text = yaml.safe_dump(job)
        uses_secrets = "secrets." in text
        writes = "write" in (job.get("permissions") or {}).values()
        where = f"{workflow}: job {name}"
        environments = {"evals", "harvest", "experiments"}
        assert not uses_secrets or job.get("environment") in environments, where
        assert not (uses_secrets and writes), where


def test_no_job_with_a_write_token_runs_code_the_update_rewrote(variant: Rendered) -> None:
    jobs = {name: job for file, name, job in _jobs(variant) if file == "template-update.yml"}
    updating = [name for name, job in jobs.items() if "make template-update" in yaml.safe_dump(job)]
    assert updating == ["update"]
    assert "write" not in jobs["update"]["permissions"].values()
    opener = yaml.safe_dump(jobs["open-pr"]["steps"])
    assert "make " not in opener  # the Makefile in that checkout is about to be patched
    assert opener.index("RUNNER_TEMP/open_pr.sh") < opener.index("git apply")

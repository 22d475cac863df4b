"""`docs/runbooks/prompt-change.md`, followed step by step in a fresh default render.

Every block of the page is applied in order (`walkthrough.py`): its `diff` block is the
edit of v3, its bash blocks the commands. After each command the test checks what the page
says it does (a new unlocked version, locked, recorded with evidence, gated, promoted,
`make check` green), and each command of the page must have such a check, so a step added
to the page without one fails here. Before the page records, the test also checks that
the gate's replay miss names the command that records v3, and that the command works.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
import yaml

from tests.template.conftest import Rendered, commit_all, git, render, run
from tests.template.walkthrough import apply_file_step, steps

RECORD_V3 = "uv run squad eval run triage --version 3 --mode record"
Check = Callable[[Path, str], None]


def _v3(repo: Path) -> Path:
    return repo / "prompts" / "triage" / "v3.yaml"


def _evidence(repo: Path, version: int) -> dict[str, object]:
    path = repo / "evals" / "evidence" / "triage" / f"v{version}.json"
    evidence: dict[str, object] = json.loads(path.read_text())
    return evidence


def _label(repo: Path, label: str) -> int:
    labels = yaml.safe_load((repo / "prompts" / "labels.yaml").read_text())
    return int(labels["labels"]["triage"][label])


def _sha256(path: Path) -> str:
    return f"sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}"


def _new_version(repo: Path, _output: str) -> None:
    assert yaml.safe_load(_v3(repo).read_text())["version"] == 3
    assert "triage/v3.yaml" not in (repo / "prompts" / "prompts.lock").read_text()


def _diff(_repo: Path, output: str) -> None:
    assert "+     move up one level from normal to high; phone calls move up" in output


def _lock(repo: Path, _output: str) -> None:
    lock = yaml.safe_load((repo / "prompts" / "prompts.lock").read_text())
    assert lock["triage/v3.yaml"] == _sha256(_v3(repo))


def _refresh(repo: Path, _output: str) -> None:
    evidence = _evidence(repo, 3)
    assert evidence["verdict"] == "pass"
    assert evidence["prompt_hash"] == _sha256(_v3(repo))
    assert all(_evidence(repo, version)["verdict"] == "pass" for version in (1, 2))


def _gate(_repo: Path, output: str) -> None:
    assert "gate PASS" in output


def _check(_repo: Path, _output: str) -> None:
    """`make check` exited 0 (the walk fails on any non-zero exit)."""


def _promoted(label: str, was: int) -> Check:
    def check(repo: Path, output: str) -> None:
        assert _label(repo, label) == 3
        assert f"triage:{label} -> v3 (was v{was})" in output

    return check


CHECKS: dict[str, Check] = {
    "uv run squad prompts new triage": _new_version,
    "uv run squad prompts diff triage 2 3": _diff,
    "uv run squad prompts lock": _lock,
    "make eval-refresh": _refresh,
    "uv run squad eval gate triage --version 3": _gate,
    "make check": _check,
    "uv run squad prompts promote triage 3 --label staging": _promoted("staging", 2),
    "uv run squad prompts promote triage 3 --label production": _promoted("production", 1),
}


def _replay_miss_names_the_command_that_records_v3(repo: Path, env: Mapping[str, str]) -> None:
    """Gate v3 before it is recorded: exit 2, the hint is RECORD_V3, and RECORD_V3 is enough
    for the gate to pass. Then the recordings go back to what the page started from."""
    gate = ["uv", "run", "squad", "eval", "gate", "triage", "--version", "3"]
    missed = run(gate, cwd=repo, env=env, check=False)
    assert missed.returncode == 2, missed.stdout + missed.stderr
    assert f"record it with `{RECORD_V3.removeprefix('uv run ')}`" in missed.stderr
    run(RECORD_V3.split(), cwd=repo, env=env)
    assert "gate PASS" in run(gate, cwd=repo, env=env).stdout
    git("checkout", "--quiet", "--", "evals", cwd=repo)
    git("clean", "--quiet", "-fd", "--", "evals", cwd=repo)


def triage_v3_by_the_runbook(
    repo: Path, package: str, env: Mapping[str, str], *, replay_miss: bool = True
) -> None:
    """Follow the runbook in `repo`, checking each command's outcome (and, with
    `replay_miss`, the hint of the gate's replay miss before the page records v3)."""
    page = (repo / "docs" / "runbooks" / "prompt-change.md").read_text()
    seen = []
    for step in steps(page, package):
        if step.path is not None:
            apply_file_step(repo, step)
            continue
        for command in step.commands:
            assert command in CHECKS, f"the runbook runs `{command}`: add its check here"
            if command == "make eval-refresh" and replay_miss:
                _replay_miss_names_the_command_that_records_v3(repo, env)
            CHECKS[command](repo, run(command.split(), cwd=repo, env=env).stdout)
            seen.append(command)
    assert set(seen) == set(CHECKS)
    assert seen[-1] == "make check"


@pytest.mark.slow
def test_prompt_change_by_the_runbook_ends_green(
    install: Callable[[Rendered], dict[str, str]], tmp_path: Path
) -> None:
    rendered = render(tmp_path / "squad")
    repo, env = rendered.path, install(rendered)
    commit_all(repo, "fresh render")

    triage_v3_by_the_runbook(repo, rendered.package, env)

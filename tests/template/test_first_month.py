"""The first month of a squad, scripted: `make check` stays green after every step.

One default render, at the previous release of a private template repo (`two_releases`),
with provider keys set to dummies, lives through what a team does first, in order, each
step committed:

1. more dataset lines, then `make eval-refresh`, as `docs/evals.md` says after a change;
2. triage v3 by `docs/runbooks/prompt-change.md` (lock, record, gate, staging, production);
3. a second feature (prompt, alias, offline model, suite, route) by
   `docs/adding-a-feature.md`;
4. `copier update` to the next release: the template's change arrives, the team's work
   stays, the repo is still green.

The pages' own walks check each of their steps; this test checks that they compose on one
repo and that a template update does not undo any of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import copier
import pytest
import yaml

from tests.template.conftest import (
    BASE_ANSWERS,
    NEW_RELEASE,
    OLD_RELEASE,
    TEMPLATE_CHANGE,
    Rendered,
    commit_all,
    git,
    run,
    two_releases,
)
from tests.template.test_adding_a_feature import add_summarise_by_the_docs
from tests.template.test_prompt_change_runbook import triage_v3_by_the_runbook

# Keys a team may have exported: the offline default render must neither need nor use them.
DUMMY_KEYS = {"OPENAI_API_KEY": "sk-dummy", "ANTHROPIC_API_KEY": "sk-ant-dummy"}
NEW_CASES = [
    {
        "id": "month-001",
        "inputs": {
            "subject": "Refund for cancelled plan",
            "body": "We cancelled our plan last week but were charged again today. "
            "Please refund the charge.",
            "customer_tier": "pro",
            "channel": "email",
        },
        "expected": {"queue": "billing", "priority": "high"},
        "tags": ["refund", "tier:pro", "channel:email"],
    },
    {
        "id": "month-002",
        "inputs": {
            "subject": "Tracking number not working",
            "body": "The tracking number for our hardware delivery shows nothing. "
            "When will it arrive?",
            "customer_tier": "free",
            "channel": "web",
        },
        "expected": {"queue": "shipping", "priority": "normal"},
        "tags": ["tracking", "tier:free", "channel:web"],
    },
    {
        "id": "month-003",
        "inputs": {
            "subject": "Phishing email pretending to be you",
            "body": "Several of our users got a phishing email asking them to reset their "
            "password on a fake site.",
            "customer_tier": "enterprise",
            "channel": "chat",
        },
        "expected": {"queue": "security", "priority": "high"},
        "tags": ["phishing", "tier:enterprise", "channel:chat"],
    },
]


def _make_check(repo: Path, env: dict[str, str], step: str) -> None:
    run(["make", "check"], cwd=repo, env=env)
    commit_all(repo, step)


def _add_dataset_lines(repo: Path, env: dict[str, str]) -> None:
    dataset = repo / "evals" / "datasets" / "triage.jsonl"
    before = len(dataset.read_text().splitlines())
    with dataset.open("a") as lines:
        lines.writelines(json.dumps(case) + "\n" for case in NEW_CASES)
    run(["make", "eval-refresh"], cwd=repo, env=env)
    baseline = json.loads((repo / "evals" / "baselines" / "triage.json").read_text())
    assert len(baseline["arms"][0]["cases"]) == before + len(NEW_CASES)


@pytest.mark.slow
def test_first_month_of_a_squad_keeps_make_check_green(
    install: Callable[[Rendered], dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in DUMMY_KEYS.items():
        monkeypatch.setenv(name, value)  # for Copier's tasks too, which run in this process
    template = two_releases(tmp_path / "template")
    repo = tmp_path / "squad"
    copier.run_copy(
        str(template), str(repo), data=dict(BASE_ANSWERS), defaults=True, unsafe=True,
        vcs_ref=OLD_RELEASE, quiet=True,
    )  # fmt: skip
    commit_all(repo, f"render {OLD_RELEASE}")
    rendered = Rendered(repo, BASE_ANSWERS)
    env = install(rendered) | DUMMY_KEYS

    _add_dataset_lines(repo, env)
    _make_check(repo, env, "more triage cases")

    triage_v3_by_the_runbook(repo, rendered.package, env, replay_miss=False)  # ends likewise
    commit_all(repo, "triage v3, in production")

    add_summarise_by_the_docs(repo, rendered.package, env)  # the page ends with make check
    commit_all(repo, "summarise feature")

    copier.run_update(
        str(repo), defaults=True, unsafe=True, overwrite=True, vcs_ref=NEW_RELEASE, quiet=True
    )
    assert TEMPLATE_CHANGE in (repo / "README.md").read_text()
    labels = yaml.safe_load((repo / "prompts" / "labels.yaml").read_text())["labels"]
    assert labels["triage"] == {"production": 3, "staging": 3}
    assert labels["summarise"] == {"production": 1}
    assert "summarise:" in (repo / "config" / "models.yaml").read_text()
    assert (repo / "evals" / "datasets" / "triage.jsonl").read_text().endswith(
        json.dumps(NEW_CASES[-1]) + "\n"
    )
    assert git("status", "--porcelain", "--", "prompts", "evals", "src", cwd=repo) == ""
    _make_check(repo, env, f"update to {NEW_RELEASE}")

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

The second test lives the same month in an `openai` render with the service, which starts
in the "record me" state (nothing recorded, triage not gated yet, `make check` saying so)
and records triage "with a key" against a real HTTP server on 127.0.0.1 standing in for
OpenAI (`squadkit.testing.FakeOpenAIServer`). That server answers each request the way the
offline model its alias's chain ends with would (`local/triage-rubric-v1`, and
`local/judge-heuristic-v1` for the judge): an answer read from the prompt the provider is
sent, deterministic, and the model the shipped thresholds were set for. So the shipped
gate applies unchanged (no threshold is lowered), and what is tested is the path of a
provider's answers (gateway, litellm, HTTP, recordings, evidence naming the openai
models), not how good a real model would be.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from squadkit.testing import FakeOpenAIServer, Reply
from tests.template.conftest import (
    BASE_ANSWERS,
    NEW_RELEASE,
    OLD_RELEASE,
    TEMPLATE_CHANGE,
    Rendered,
    commit_all,
    git,
    offline_models,
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


def _make_check(repo: Path, env: dict[str, str], step: str) -> str:
    """`make check` green, then the step committed; returns what `make check` printed."""
    checked = run(["make", "check"], cwd=repo, env=env)
    commit_all(repo, step)
    return checked.stdout + checked.stderr


def _append_cases(repo: Path) -> int:
    """Append NEW_CASES to the triage dataset; return how many cases it had before."""
    dataset = repo / "evals" / "datasets" / "triage.jsonl"
    before = len(dataset.read_text().splitlines())
    with dataset.open("a") as lines:
        lines.writelines(json.dumps(case) + "\n" for case in NEW_CASES)
    return before


def _add_dataset_lines(repo: Path, env: dict[str, str]) -> None:
    before = _append_cases(repo)
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
    assert (
        (repo / "evals" / "datasets" / "triage.jsonl")
        .read_text()
        .endswith(json.dumps(NEW_CASES[-1]) + "\n")
    )
    assert git("status", "--porcelain", "--", "prompts", "evals", "src", cwd=repo) == ""
    _make_check(repo, env, f"update to {NEW_RELEASE}")


OPENAI_WITH_SERVICE: dict[str, object] = {
    **BASE_ANSWERS,
    "default_provider": "openai",
    "include_service": True,
}
NOT_RECORDED_YET = "note: triage is not recorded yet, so its labels are not gated"


def _offline_twins(repo: Path) -> dict[str, str]:
    """Provider model name (as litellm sends it) -> the offline model its alias ends with."""
    aliases = yaml.safe_load((repo / "config" / "models.yaml").read_text())["aliases"]
    return {
        alias["deployments"][0]["model"].split("/", 1)[1]: alias["deployments"][-1][
            "model"
        ].removeprefix("local/")
        for alias in aliases.values()
    }


def _answer_like_the_offline_twin(
    rendered: Rendered, twins: dict[str, str]
) -> Callable[[int, dict[str, Any]], Reply]:
    """A responder that answers a request as its alias's offline model would (module doc):
    squadkit's judge, or the render's own `offline/` triage model."""
    models = offline_models(rendered)

    def respond(_index: int, body: dict[str, Any]) -> Reply:
        answer = models[twins[body["model"]]](body["messages"])
        return Reply.ok(json.dumps(answer))

    return respond


def _point_openai_at(repo: Path, base_url: str) -> None:
    """Send every `openai/...` deployment of `config/models.yaml` to `base_url`."""
    models = repo / "config" / "models.yaml"
    key_line = "        api_key_env: OPENAI_API_KEY\n"
    text = models.read_text()
    assert text.count(key_line) == 2, text  # triage and judge
    models.write_text(text.replace(key_line, f"{key_line}        api_base: {base_url}\n"))


def _evidence(repo: Path, prompt: str, version: int) -> dict[str, Any]:
    path = repo / "evals" / "evidence" / prompt / f"v{version}.json"
    evidence: dict[str, Any] = json.loads(path.read_text())
    return evidence


@pytest.mark.slow
def test_first_month_of_an_openai_squad_with_the_service_keeps_make_check_green(
    install: Callable[[Rendered], dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in DUMMY_KEYS.items():
        monkeypatch.setenv(name, value)
    template = two_releases(tmp_path / "template")
    repo = tmp_path / "squad"
    copier.run_copy(
        str(template), str(repo), data=dict(OPENAI_WITH_SERVICE), defaults=True, unsafe=True,
        vcs_ref=OLD_RELEASE, quiet=True,
    )  # fmt: skip
    commit_all(repo, f"render {OLD_RELEASE}")
    rendered = Rendered(repo, OPENAI_WITH_SERVICE)
    env = install(rendered) | DUMMY_KEYS
    evals = repo / "evals"

    # 1. Fresh: nothing recorded, and `make check` says why triage is not gated yet.
    assert not any((evals / folder).exists() for folder in ("recordings", "baselines", "evidence"))
    assert NOT_RECORDED_YET in _make_check(repo, env, "fresh render")

    # 2. More cases: nothing can be recorded without the provider, so still the note.
    _append_cases(repo)
    assert NOT_RECORDED_YET in _make_check(repo, env, "more triage cases")

    # 3. The first recording, "with a key", as the README says: `make eval-refresh`.
    twins = _offline_twins(repo)
    with FakeOpenAIServer(responder=_answer_like_the_offline_twin(rendered, twins)) as openai:
        _point_openai_at(repo, openai.base_url)
        run(["make", "eval-refresh"], cwd=repo, env=env)
        cases = len((evals / "datasets" / "triage.jsonl").read_text().splitlines())
        assert openai.request_count >= 2 * cases  # each case: triage's answer and the judge's
        assert {body["model"] for body in openai.requests} == set(twins)
        assert openai.headers[0]["authorization"] == f"Bearer {DUMMY_KEYS['OPENAI_API_KEY']}"
        assert (evals / "recordings" / "triage.jsonl").is_file()
        baseline = json.loads((evals / "baselines" / "triage.json").read_text())
        assert len(baseline["arms"][0]["cases"]) == cases
        for version in (1, 2):  # production and staging
            evidence = _evidence(repo, "triage", version)
            assert evidence["verdict"] == "pass"
            assert evidence["models"] == {"triage": ["openai/gpt-4.1-mini-2025-04-14"]}
            assert evidence["judges"] == {"judge": ["openai/gpt-4.1-2025-04-14"]}
        calls = openai.request_count
        assert NOT_RECORDED_YET not in _make_check(repo, env, "evals: first recording")
        assert openai.request_count == calls  # gated from the recordings, no provider call

        # 4. Triage v3 by the runbook: recorded through the provider, gated, promoted.
        triage_v3_by_the_runbook(repo, rendered.package, env, replay_miss=False)
        assert openai.request_count > calls
        assert _evidence(repo, "triage", 3)["models"]["triage"] == [
            "openai/gpt-4.1-mini-2025-04-14"
        ]
        commit_all(repo, "triage v3, in production")

        # 5. A second feature with its own offline alias, recorded offline: triage's gate
        # stays as it was (the page ends with `make check`).
        add_summarise_by_the_docs(repo, rendered.package, env)
        assert _evidence(repo, "summarise", 1)["models"]["summarise"] == ["local/summary-lead-v1"]
        checked = run(["uv", "run", "squad", "prompts", "check"], cwd=repo, env=env)
        assert "not recorded yet" not in checked.stdout + checked.stderr
        commit_all(repo, "summarise feature")

    # 6. The template's next release, with the provider stopped: replay needs none.
    copier.run_update(
        str(repo), defaults=True, unsafe=True, overwrite=True, vcs_ref=NEW_RELEASE, quiet=True
    )
    assert TEMPLATE_CHANGE in (repo / "README.md").read_text()
    labels = yaml.safe_load((repo / "prompts" / "labels.yaml").read_text())["labels"]
    assert labels["triage"] == {"production": 3, "staging": 3}
    assert labels["summarise"] == {"production": 1}
    assert f"api_base: {openai.base_url}" in (repo / "config" / "models.yaml").read_text()
    assert git("status", "--porcelain", "--", "prompts", "evals", "src", cwd=repo) == ""
    assert NOT_RECORDED_YET not in _make_check(repo, env, f"update to {NEW_RELEASE}")

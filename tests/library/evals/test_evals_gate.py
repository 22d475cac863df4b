"""The gate end to end with the offline models: the fixture's prompts pass, a worse one fails."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from squadkit.evals import (
    GateFailed,
    RunOptions,
    Target,
    load_suite,
    workflow,
)
from squadkit.settings import Settings
from squadkit.testing import FakeOpenAIServer, Reply
from tests.library.squad import COMMAND, copy_data


def _provider_first(models_file: Path, deployment: Mapping[str, object]) -> None:
    """Put `deployment` first in triage's chain, the offline model after it as last resort."""
    models = yaml.safe_load(models_file.read_text(encoding="utf-8"))
    chain = models["aliases"]["triage"]["deployments"]
    models["aliases"]["triage"]["deployments"] = [dict(deployment), *chain]
    models_file.write_text(yaml.safe_dump(models), encoding="utf-8")


def _rejecting_primary(settings: Settings, fake_openai: FakeOpenAIServer) -> None:
    """A primary that answers 401 to every call, in front of the offline model."""
    fake_openai.default = Reply.error(401)
    primary = {
        "model": "openai/fake-triage",
        "api_base": fake_openai.base_url,
        "api_key_env": "FAKE_PROVIDER_KEY",
        "max_retries": 0,
    }
    _provider_first(settings.models_file, primary)


def test_staging_prompt_passes_the_gate_in_replay(settings: Settings, tmp_path: Path) -> None:
    suite = load_suite(settings.evals_dir / "triage.yaml")
    target = Target(prompt="triage", label="staging")
    outcome = workflow.gate(
        settings, suite, RunOptions(mode="replay", progress=False), [target], tmp_path
    )
    assert outcome.report.gate is not None
    assert outcome.report.gate.verdict == "pass"
    assert outcome.report.arm().prompt.version == 2


def test_a_gate_of_an_overridden_model_alias_passes_without_evidence(
    settings: Settings, tmp_path: Path
) -> None:
    """Evidence is for the alias the prompt names: the run knows it, and so does a gate of the
    report it wrote (from the registry)."""
    models = yaml.safe_load(settings.models_file.read_text(encoding="utf-8"))
    models["aliases"]["triage2"] = models["aliases"]["triage"]  # the same chain, another name
    settings.models_file.write_text(yaml.safe_dump(models), encoding="utf-8")
    suite = load_suite(settings.evals_dir / "triage.yaml")
    target = suite.spec.target.model_copy(update={"model": "triage2"})
    evidence = settings.evals_dir / "evidence" / "triage" / "v1.json"
    before = evidence.read_bytes()
    overridden = "no evidence written: the run overrode the prompt's model alias"

    ran = workflow.gate(
        settings, suite, RunOptions(mode="record", progress=False), [target], tmp_path / "run"
    )
    read = workflow.gate(
        settings,
        suite,
        RunOptions(mode="replay", progress=False),
        [suite.spec.target],
        tmp_path / "read",
        report_path=ran.paths["json"],
    )

    for outcome in (ran, read):
        assert outcome.report.gate is not None
        assert outcome.report.gate.verdict == "pass"
        assert overridden in outcome.notes
        assert outcome.evidence is None
    assert evidence.read_bytes() == before


def test_gating_a_report_gates_its_first_arm_whatever_the_suite_targets(
    settings: Settings, tmp_path: Path
) -> None:
    suite = load_suite(settings.evals_dir / "triage.yaml")
    replay = RunOptions(mode="replay", progress=False)
    staging = suite.spec.target.model_copy(update={"label": "staging"})
    ran = workflow.run(settings, suite, replay, [staging], tmp_path / "run")

    outcome = workflow.gate(
        settings,
        suite,
        replay,
        [suite.spec.target],
        tmp_path / "gate",
        report_path=ran.paths["json"],
        evidence=False,
    )

    assert outcome.report.arm().name == staging.arm_name
    assert outcome.report.arm().prompt.version == 2
    assert outcome.paths["json"] == tmp_path / "gate" / "triage" / "report.json"


def test_a_deliberately_worse_prompt_fails_the_gate(settings: Settings, tmp_path: Path) -> None:
    """v3 drops the system message and pastes its instructions inside the ticket tags.

    A plausible edit ("one message is simpler") that makes the model read the instructions as
    part of every ticket. Runs the offline models live through the gateway (litellm's Router),
    so it is the slowest test here: a real run, not a fixture.
    """
    prompts = settings.prompts_dir / "triage"
    spec = yaml.safe_load((prompts / "v1.yaml").read_text(encoding="utf-8"))
    system, user = (message["content"] for message in spec["messages"])
    ticket = user.replace("<ticket>", "").replace("</ticket>", "").strip()
    spec["version"] = 3
    spec["messages"] = [{"role": "user", "content": f"<ticket>\n{system}\n{ticket}\n</ticket>\n"}]
    worse = yaml.safe_dump(spec, sort_keys=False)
    (prompts / "v3.yaml").write_text(worse, encoding="utf-8")
    suite = load_suite(settings.evals_dir / "triage.yaml")
    options = RunOptions(mode="record", progress=False, concurrency=32)
    with pytest.raises(GateFailed) as caught:
        workflow.gate(settings, suite, options, [Target(prompt="triage", version=3)], tmp_path)
    message = str(caught.value)
    assert caught.value.exit_code == 1  # a drop shown, not an inconclusive gate (3)
    assert "queue fails: the 90% interval of the change" in message
    assert "queue" in message
    assert not (settings.evals_dir / "evidence" / "triage" / "v3.json").exists()


def test_answers_from_a_fallback_fail_the_gate_and_earn_no_evidence(
    settings: Settings,
    tmp_path: Path,
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
) -> None:
    """The primary rejects the key (401 on every call) and the offline last resort answers
    every case: scores of the fallback say nothing of the model under test."""
    _rejecting_primary(settings, fake_openai)
    evidence = settings.evals_dir / "evidence" / "triage" / "v1.json"
    before = evidence.read_bytes()
    suite = load_suite(settings.evals_dir / "triage.yaml")

    with pytest.raises(GateFailed) as caught:
        workflow.gate(
            settings, suite, RunOptions(mode="live", progress=False), [suite.spec.target], tmp_path
        )

    message = str(caught.value)
    assert "40 of 40 case(s) were answered by a fallback (local/triage-rules-v1)" in message
    assert "why the first deployment did not answer: openai/fake-triage: Authentication" in (
        message
    )
    assert sentinel_key not in message
    assert evidence.read_bytes() == before
    assert fake_openai.request_count >= 1  # tried, then cooled down by the Router


def test_a_run_a_fallback_answered_says_so_in_its_summary_and_html_page(
    settings: Settings,
    tmp_path: Path,
    fake_openai: FakeOpenAIServer,
    sentinel_key: str,
) -> None:
    """No gate to name it: the reports of the run themselves say the scores are a fallback's."""
    _rejecting_primary(settings, fake_openai)
    suite = load_suite(settings.evals_dir / "triage.yaml")

    outcome = workflow.run(
        settings, suite, RunOptions(mode="live", progress=False), [suite.spec.target], tmp_path
    )

    said = "40 of 40 case(s) were answered by a fallback (local/triage-rules-v1)"
    assert said in outcome.paths["markdown"].read_text(encoding="utf-8")
    assert said in outcome.paths["html"].read_text(encoding="utf-8")


def test_replayed_gate_of_a_provider_suite_never_recorded_passes_and_says_so(
    tmp_path: Path,
) -> None:
    copy_data(tmp_path)
    for folder in ("recordings", "baselines", "evidence"):
        shutil.rmtree(tmp_path / "evals" / folder)
    keyed = {"model": "openai/gpt-4o-mini-2024-07-18", "api_key_env": "OPENAI_API_KEY"}
    _provider_first(tmp_path / "config" / "models.yaml", keyed)

    result = subprocess.run(
        [COMMAND, "eval", "gate", "triage"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "note: triage is not recorded yet, so its labels are not gated" in result.stderr
    assert not (tmp_path / "evals" / "evidence").exists()


def test_replayed_gate_of_an_offline_suite_without_recordings_fails(tmp_path: Path) -> None:
    copy_data(tmp_path)
    for folder in ("recordings", "baselines", "evidence"):
        shutil.rmtree(tmp_path / "evals" / folder)

    result = subprocess.run(
        [COMMAND, "eval", "gate", "triage"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2, result.stderr
    assert "no recording" in result.stderr


@pytest.mark.parametrize(
    "command", [["eval", "gate", "triage", "--mode", "live"], ["eval", "refresh"]]
)
def test_a_stopped_provider_fails_live_gate_and_refresh_and_changes_no_committed_file(
    command: list[str], tmp_path: Path
) -> None:
    copy_data(tmp_path)
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stopped = {
        "model": "openai/stopped-2025-01-01",
        "api_base": f"http://127.0.0.1:{port}/v1",
        "api_key_env": "FAKE_PROVIDER_KEY",
        "max_retries": 0,
    }
    _provider_first(tmp_path / "config" / "models.yaml", stopped)
    before = {p: p.read_bytes() for p in (tmp_path / "evals").rglob("*") if p.is_file()}
    env = {**os.environ, "FAKE_PROVIDER_KEY": "sk-test-not-a-real-key", "CI": "1"}

    result = subprocess.run(
        [COMMAND, *command], cwd=tmp_path, capture_output=True, text=True, check=False, env=env
    )

    assert result.returncode != 0, result.stdout + result.stderr
    assert "answered by a fallback (local/triage-rules-v1)" in result.stderr
    assert "Traceback" not in result.stderr
    after = {p: p.read_bytes() for p in (tmp_path / "evals").rglob("*") if p.is_file()}
    assert after == before

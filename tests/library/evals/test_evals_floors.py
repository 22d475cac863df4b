"""`squad eval floors` and `squad eval refresh --write-floors`: thresholds a real provider's
first recording can honestly be held to, proposed from its recorded baseline.

Each test runs `squad` on a copy of the fixture squad as a user would; the provider is the
real fake OpenAI-compatible server on 127.0.0.1, first in the triage chain.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from squadkit.evals import load_suite
from squadkit.testing import FakeOpenAIServer, Reply
from tests.library.squad import COMMAND, copy_data

SUITE = Path("evals") / "triage.yaml"
# What the fixture's offline baseline supports (evals/baselines/triage.json): the lower end
# of each mean's 95% interval minus the 0.02 margin, rounded down to two decimals.
OFFLINE_FLOORS = {
    "schema_valid": 0.98,
    "queue": 0.50,
    "priority": 0.27,
    "judge": 0.41,
    "latency": 0.98,
}


def _squad(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FAKE_PROVIDER_KEY": "sk-test-not-a-real-key", "CI": "1"}
    env.pop("SQUAD_MODELS_FILE", None)
    return subprocess.run(
        [COMMAND, *args], cwd=root, capture_output=True, text=True, check=False, env=env
    )


def _thresholds(root: Path) -> dict[str, float]:
    return dict(load_suite(root / SUITE).spec.gate.thresholds)


def test_floors_are_proposed_from_the_baseline_and_not_written_unasked(tmp_path: Path) -> None:
    copy_data(tmp_path)
    before = (tmp_path / SUITE).read_bytes()

    result = _squad(tmp_path, "eval", "floors", "triage")

    assert result.returncode == 0, result.stderr
    assert "queue: 0.50 (was 0.45; baseline mean 0.675, 95% interval from 0.528)" in result.stdout
    assert "not written: add --write" in result.stdout
    assert (tmp_path / SUITE).read_bytes() == before


def test_written_floors_change_only_the_threshold_values(tmp_path: Path) -> None:
    copy_data(tmp_path)
    before = (tmp_path / SUITE).read_text(encoding="utf-8").splitlines()

    result = _squad(tmp_path, "eval", "floors", "triage", "--write")

    assert result.returncode == 0, result.stderr
    assert _thresholds(tmp_path) == OFFLINE_FLOORS
    after = (tmp_path / SUITE).read_text(encoding="utf-8").splitlines()
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert changed == [
        ("    schema_valid: 1.0", "    schema_valid: 0.98"),
        ("    queue: 0.45", "    queue: 0.50"),
        ("    priority: 0.35", "    priority: 0.27"),
        ("    judge: 0.40", "    judge: 0.41"),
        ("    latency: 0.95", "    latency: 0.98"),
    ]
    again = _squad(tmp_path, "eval", "floors", "triage", "--write")
    assert "already so" in again.stdout


def test_floors_without_a_baseline_are_a_one_line_error(tmp_path: Path) -> None:
    copy_data(tmp_path)
    (tmp_path / "evals" / "baselines" / "triage.json").unlink()

    result = _squad(tmp_path, "eval", "floors", "triage")

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: evals/baselines/triage.json: no baseline to propose floors from; record one "
        "first (`squad eval refresh triage`)"
    )


def _provider_first(root: Path, server: FakeOpenAIServer) -> None:
    """The provider first in triage's chain, the offline model after it as last resort."""
    models_file = root / "config" / "models.yaml"
    models = yaml.safe_load(models_file.read_text(encoding="utf-8"))
    chain = models["aliases"]["triage"]["deployments"]
    provider = {
        "model": "openai/fake-triage",
        "api_base": server.base_url,
        "api_key_env": "FAKE_PROVIDER_KEY",
        "max_retries": 0,
    }
    models["aliases"]["triage"]["deployments"] = [provider, *chain]
    models_file.write_text(yaml.safe_dump(models), encoding="utf-8")
    answer = {"queue": "technical", "priority": "normal", "rationale": "The ticket says so."}
    server.default = Reply.ok(json.dumps(answer))


def test_a_providers_first_refresh_proposes_floors_and_writes_them_when_asked(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    copy_data(tmp_path)
    _provider_first(tmp_path, fake_openai)
    shipped = _thresholds(tmp_path)

    shown = _squad(tmp_path, "eval", "refresh", "triage")

    assert "floors for 'triage' from evals/baselines/triage.json" in shown.stderr, shown.stderr
    assert "write these with `squad eval floors triage --write`" in shown.stderr
    assert shown.returncode == 1  # the shipped floors are the offline model's
    assert _thresholds(tmp_path) == shipped

    written = _squad(tmp_path, "eval", "refresh", "triage", "--write-floors")

    assert written.returncode == 0, written.stdout + written.stderr
    assert "written to the suite file" in written.stdout
    floors = _thresholds(tmp_path)
    assert floors != shipped
    assert floors["queue"] < shipped["queue"]  # one queue for every ticket scores low
    assert "triage [triage@production]: gate pass" in written.stdout
    assert (tmp_path / "evals" / "evidence" / "triage" / "v1.json").is_file()

"""A live or record run that got no answers fails: its scores would measure an outage.

The triage alias's chain is replaced by one deployment, the real fake OpenAI-compatible
server on 127.0.0.1 (`squadkit.testing.openai_server`), so nothing falls back to the
offline model and every refused call is unanswered. Each test runs `squad` as a user does.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import zlib
from pathlib import Path
from typing import Any

import yaml

from squadkit.testing import FakeOpenAIServer, Reply
from tests.library.squad import COMMAND, copy_data


def _only_provider(root: Path, api_base: str) -> None:
    """Triage answered by one provider deployment alone: no offline last resort."""
    models_file = root / "config" / "models.yaml"
    models = yaml.safe_load(models_file.read_text(encoding="utf-8"))
    models["aliases"]["triage"]["deployments"] = [
        {
            "model": "openai/fake-triage",
            "api_base": api_base,
            "api_key_env": "FAKE_PROVIDER_KEY",
            "max_retries": 0,
        }
    ]
    models_file.write_text(yaml.safe_dump(models), encoding="utf-8")


def _squad(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FAKE_PROVIDER_KEY": "sk-test-not-a-real-key", "CI": "1"}
    return subprocess.run(
        [COMMAND, *args], cwd=root, capture_output=True, text=True, check=False, env=env
    )


def _errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_a_live_run_no_call_answered_fails_in_one_line(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    copy_data(tmp_path)
    _only_provider(tmp_path, fake_openai.base_url)
    fake_openai.default = Reply.error(401)

    result = _squad(tmp_path, "eval", "run", "triage", "--mode", "live", "--out", "out")

    assert result.returncode == 1, result.stdout + result.stderr
    (error,) = _errors(result)
    assert error.startswith("error: live run of suite 'triage' (triage@production): no call was")
    assert "(40 of 40 calls;" in error
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out" / "triage" / "report.json").is_file()  # the reports say why
    assert fake_openai.request_count >= 1


def test_a_record_run_against_an_unreachable_api_base_fails(tmp_path: Path) -> None:
    copy_data(tmp_path)
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _only_provider(tmp_path, f"http://127.0.0.1:{port}/v1")
    recordings = tmp_path / "evals" / "recordings" / "triage.jsonl"
    before = recordings.read_bytes()

    result = _squad(tmp_path, "eval", "run", "triage", "--mode", "record", "--out", "out")

    assert result.returncode == 1, result.stdout + result.stderr
    (error,) = _errors(result)
    assert "error: record run of suite 'triage' (triage@production): no call was answered" in error
    assert recordings.read_bytes() == before


def _some_tickets_refused(count: int, body: dict[str, Any]) -> Reply:
    """Refuse every request about a quarter of the tickets (by the first user message, so a
    ticket's repair request is refused too), answer the others."""
    del count
    first = next(m["content"] for m in body["messages"] if m["role"] == "user")
    refused = zlib.crc32(first.encode()) % 4 == 0
    return Reply.error(401) if refused else Reply.ok('{"queue": "billing"}')


def test_a_run_with_more_unanswered_calls_than_allowed_fails_naming_the_share(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    copy_data(tmp_path)
    _only_provider(tmp_path, fake_openai.base_url)
    fake_openai.responder = _some_tickets_refused

    result = _squad(tmp_path, "eval", "run", "triage", "--mode", "live", "--out", "out")

    assert result.returncode == 1, result.stdout + result.stderr
    (error,) = _errors(result)
    found = re.search(
        r"live run of suite 'triage' \(triage@production\): ([\d.]+)% unanswered "
        r"\((\d+) of 40 calls; at most 5\.0% allowed by max_error_share in triage\.yaml\)",
        error,
    )
    assert found, error
    assert 2 < int(found[2]) < 40  # some calls answered, more than 5% not
    assert float(found[1]) == round(int(found[2]) / 40 * 100, 1)


def test_a_share_of_unanswered_calls_within_the_allowed_share_passes(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    copy_data(tmp_path)
    _only_provider(tmp_path, fake_openai.base_url)
    fake_openai.responder = _some_tickets_refused
    run = ["eval", "run", "triage", "--mode", "live", "--out", "out"]

    result = _squad(tmp_path, *run, "--max-error-share", "0.95")

    assert result.returncode == 0, result.stdout + result.stderr
    assert not _errors(result)


def test_a_replayed_run_is_never_checked_for_answers(tmp_path: Path) -> None:
    copy_data(tmp_path)

    result = _squad(tmp_path, "eval", "run", "triage", "--out", "out", "--max-error-share", "0")

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_live_gate_no_call_answered_fails_as_unanswered_and_writes_no_evidence(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    copy_data(tmp_path)
    _only_provider(tmp_path, fake_openai.base_url)
    fake_openai.default = Reply.error(401)
    evidence = tmp_path / "evals" / "evidence"
    before = {p: p.read_bytes() for p in evidence.rglob("*") if p.is_file()}

    result = _squad(tmp_path, "eval", "gate", "triage", "--mode", "live", "--out", "out")

    assert result.returncode == 1, result.stdout + result.stderr
    (error,) = _errors(result)
    assert error.startswith("error: live run of suite 'triage' (triage@production): no call was")
    assert {p: p.read_bytes() for p in evidence.rglob("*") if p.is_file()} == before

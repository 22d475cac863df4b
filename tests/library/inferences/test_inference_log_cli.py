"""`squad inference-log migrate|prune|show` as a user runs them: exit 0, or one line and exit 2."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from squadkit.inferences import InferenceRecord, InferenceStore, uuid7
from tests.library.squad import COMMAND
from tests.logkit import answer_with_feedback


def _squad(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, "inference-log", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_creates_the_default_sqlite_log_under_dot_squad(tmp_path: Path) -> None:
    result = _squad(tmp_path, "migrate")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("at revision 0004")
    assert (tmp_path / ".squad" / "inference-log.sqlite3").is_file()


def test_prune_deletes_what_is_older_than_the_days_given(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    store = InferenceStore(url)
    store.migrate()
    now = datetime.now(UTC)
    store.insert(
        [
            InferenceRecord(uuid7(), now - timedelta(days=age), "r", "triage").row()
            for age in (1, 10, 100)
        ]
    )

    result = _squad(tmp_path, "prune", "--days", "7", SQUAD_INFERENCE_LOG_URL=url)

    assert result.returncode == 0, result.stderr
    assert "2 inference(s) older than 7.0 day(s) deleted" in result.stdout
    assert store.count() == 1


def test_a_store_that_is_down_is_one_line_and_exit_2(tmp_path: Path) -> None:
    down = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"

    result = _squad(tmp_path, "migrate", SQUAD_INFERENCE_LOG_URL=down)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "cannot migrate" in result.stderr
    assert "Traceback" not in result.stderr


def _logged(url: str, *, keep: bool) -> str:
    """One triage answer in the log at `url` (its content kept or not), with one feedback."""
    return answer_with_feedback(
        url,
        keep_content=keep,
        inputs='{"subject": "Charged twice"}',
        output='{"queue": "billing",\n"priority": "high"}',
        scores={"grounding": 1.0},
    )


def test_show_prints_one_line_per_field_with_the_kept_content_and_feedback(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    inference_id = _logged(url, keep=True)

    result = _squad(tmp_path, "show", inference_id, SQUAD_INFERENCE_LOG_URL=url)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"id: {inference_id}" in lines
    assert "prompt_version: 2" in lines
    assert "scores: grounding=1.0" in lines
    assert 'inputs: {"subject": "Charged twice"}' in lines
    assert 'output: "{\\"queue\\": \\"billing\\",\\n\\"priority\\": \\"high\\"}"' in lines
    assert any(line.startswith("feedback: correct = false by helpdesk at ") for line in lines)


def test_show_of_an_answer_whose_content_was_not_kept_prints_only_its_hash(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    inference_id = _logged(url, keep=False)

    result = _squad(tmp_path, "show", inference_id, SQUAD_INFERENCE_LOG_URL=url)

    assert result.returncode == 0, result.stderr
    assert "Charged twice" not in result.stdout
    assert "billing" not in result.stdout
    assert "inputs: not kept (sha256 " in result.stdout


def test_show_of_an_unknown_id_is_one_line_and_exit_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    _logged(url, keep=False)

    result = _squad(tmp_path, "show", "no-such-id", SQUAD_INFERENCE_LOG_URL=url)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "no inference 'no-such-id'" in result.stderr

"""`squad inference-log migrate|prune` as a user runs them: one line each, exit 0 or 2."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from squadkit.inferences import InferenceRecord, InferenceStore, uuid7
from tests.library.squad import COMMAND


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
    assert result.stdout.strip().endswith("at revision 0003")
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

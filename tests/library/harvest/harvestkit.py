"""A fixture squad with an inference log to harvest: rows written as the service writes them
(`InferenceRecord`, `canonical_json` content) and feedback stored as the API stores it."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from squadkit.inferences import (
    InferenceRecord,
    InferenceStore,
    canonical_json,
    content_of,
    store_feedback,
    uuid7,
)
from tests.library.squad import COMMAND

ANSWER = {"queue": "billing", "priority": "high", "rationale": "charged twice"}


def ticket(subject: str) -> dict[str, Any]:
    """Inputs of the triage feature no dataset case has."""
    return {"subject": subject, "body": f"{subject}: please help", "customer_tier": "pro",
            "channel": "email"}  # fmt: skip


@dataclass
class Log:
    """An inference log in a real database, written the way the service writes it."""

    store: InferenceStore

    def answer(
        self,
        inputs: dict[str, Any],
        *,
        output: Any = None,
        feature: str = "triage",
        version: int = 1,
        fallback: bool = False,
        scores: dict[str, float] | None = None,
        keep_content: bool = True,
        age: timedelta = timedelta(0),
        episode: str | None = None,
    ) -> str:
        """Log one answered inference; return its id."""
        record = InferenceRecord(
            id=uuid7(),
            created_at=datetime.now(UTC) - age,
            request_id="req",
            feature=feature,
            episode_id=episode,
            prompt="triage",
            prompt_version=version,
            prompt_label="production",
            prompt_hash=f"sha256:{version:064d}",
            fallback_used=fallback,
            scores=scores or {},
            inputs=content_of(canonical_json(inputs), keep=keep_content, redact=lambda s: s),
            output=content_of(
                canonical_json(ANSWER if output is None else output),
                keep=keep_content,
                redact=lambda s: s,
            ),
        )
        self.store.insert([record.row()])
        return record.id

    def feedback(
        self,
        inference_id: str | None,
        metric: str,
        kind: str,
        value: Any,
        episode: str | None = None,
    ) -> None:
        store_feedback(
            self.store,
            caller="crm",
            metric=metric,
            kind=kind,
            value=value,
            inference_id=inference_id,
            episode_id=episode,
            prompt="triage",
            prompt_version=1,
            idempotency_key=None,
        )


@dataclass
class Result:
    code: int
    out: str
    err: str


def squad(repo: Path, url: str, *args: str) -> Result:
    """`squad ARGS` in `repo` as a user runs it, the log at `url`."""
    done = subprocess.run(
        [COMMAND, *args],
        cwd=repo,
        env={**os.environ, "SQUAD_ROOT": str(repo), "SQUAD_INFERENCE_LOG_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def review_lines(repo: Path) -> list[dict[str, Any]]:
    path = repo / "evals" / "review" / "triage.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def dataset_lines(repo: Path) -> list[dict[str, Any]]:
    path = repo / "evals" / "datasets" / "triage.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

"""An inference log holding one answer and its feedback, written the way the service
writes them: for the library's tests of `squad inference-log show` and the template's
tests of the harvest workflow and the wrong-answer runbook."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from squadkit.inferences import InferenceRecord, InferenceStore, content_of, store_feedback, uuid7

TICKET = json.dumps(
    {"body": "Export drops the last row", "channel": "email", "customer_tier": "pro",
     "subject": "Charged twice"},
    sort_keys=True,
    separators=(",", ":"),
)  # fmt: skip
"""A triage ticket as the service logs it (canonical JSON)."""
ANSWER = '{"priority":"normal","queue":"billing"}'
"""The triage answer to it, as logged."""


def answer_with_feedback(
    url: str,
    *,
    correct: bool = False,
    keep_content: bool = True,
    inputs: str = TICKET,
    output: str = ANSWER,
    fallback_used: bool = False,
    scores: dict[str, float] | None = None,
) -> str:
    """One triage answer (request req-1, prompt v2 at `production`, caller helpdesk) in the
    log at `url` (migrated first), its content kept only when `keep_content`, with the
    feedback `correct: <correct>` by helpdesk on it; its inference id."""
    store = InferenceStore(url)
    store.migrate()
    inference_id = uuid7()
    record = InferenceRecord(
        inference_id,
        datetime.now(UTC),
        "req-1",
        "triage",
        caller="helpdesk",
        prompt="triage",
        prompt_version=2,
        prompt_label="production",
        fallback_used=fallback_used,
        scores=scores or {},
        inputs=content_of(inputs, keep=keep_content, redact=str),  # nothing to redact
        output=content_of(output, keep=keep_content, redact=str),
    )
    store.insert([record.row()])
    store_feedback(
        store,
        caller="helpdesk",
        metric="correct",
        kind="boolean",
        value=correct,
        inference_id=inference_id,
        episode_id=None,
        prompt="triage",
        prompt_version=2,
        idempotency_key=None,
    )
    store.dispose()
    return inference_id

"""One inference as the on-call engineer looks it up: every stored field and the feedback
on it, from the id a caller quotes (`X-Inference-Id`), for `squad inference-log show`.

Content (inputs and output) is shown only where the row kept it (the squad opted in);
otherwise the row says what it kept instead: the SHA-256 and the length.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from .feedback import FEEDBACK
from .store import INFERENCES, InferenceStore

__all__ = ["describe_inference", "inference_lines"]

_CONTENT = ("inputs", "output")


def describe_inference(store: InferenceStore, inference_id: str) -> list[str] | None:
    """The lines `squad inference-log show` prints for `inference_id`; None if unknown."""
    with store.engine.connect() as connection:
        row = connection.execute(select(INFERENCES).where(INFERENCES.c.id == inference_id)).first()
        if row is None:
            return None
        feedback = connection.execute(
            select(FEEDBACK)
            .where(FEEDBACK.c.inference_id == inference_id)
            .order_by(FEEDBACK.c.created_at, FEEDBACK.c.id)
        ).all()
    return inference_lines(dict(row._mapping), [dict(f._mapping) for f in feedback])


def inference_lines(row: dict[str, Any], feedback: list[dict[str, Any]]) -> list[str]:
    """One `field: value` line per column (content only if kept), then one per feedback."""
    lines = []
    for column in INFERENCES.columns:
        name = column.name
        if name in _CONTENT or name.endswith(("_sha256", "_chars")):
            continue
        lines.append(f"{name}: {_shown(row[name])}")
    for name in _CONTENT:
        digest, chars, text = row[f"{name}_sha256"], row[f"{name}_chars"], row[name]
        if digest is None:
            lines.append(f"{name}: -")
        elif text is None:
            lines.append(
                f"{name}: not kept (sha256 {digest}, {chars} chars; content is kept only "
                "with SQUAD_INFERENCE_LOG_CAPTURE_CONTENT=true)"
            )
        else:
            lines.append(f"{name}: {_one_line(text)}")
    for entry in feedback:
        lines.append(
            f"feedback: {entry['metric']} = {json.dumps(entry['value'], ensure_ascii=False)} "
            f"by {entry['caller']} at {_shown(entry['created_at'])}"
        )
    if not feedback:
        lines.append("feedback: none")
    return lines


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items())) or "-"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _one_line(text: str) -> str:
    """Stored text on one line: as is, or JSON-quoted when it holds a line break."""
    return json.dumps(text, ensure_ascii=False) if "\n" in text or "\r" in text else text

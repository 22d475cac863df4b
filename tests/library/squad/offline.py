"""The fixture squad's own offline model, next to the ones squadkit ships (see plugins)."""

from __future__ import annotations

from typing import Any


def count_words(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Answers how many words the last message has: easy to predict in a test."""
    return {"words": len(str(messages[-1]["content"]).split())}


LOCAL_MODELS = {"word-count-v1": count_words}

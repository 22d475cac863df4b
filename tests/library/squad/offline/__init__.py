"""The fixture squad's offline models (see plugins): two probes here, triage in `triage.py`.

A package's own `LOCAL_MODELS` counts like a module's, so this one also checks that the
package and its modules are all read.
"""

from __future__ import annotations

from typing import Any


def count_words(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Answers how many words the last message has: easy to predict in a test."""
    return {"words": len(str(messages[-1]["content"]).split())}


def broken(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Raises, as a squad's offline model with a bug would: the chain falls back past it."""
    raise RuntimeError("this offline model always fails")


LOCAL_MODELS = {"word-count-v1": count_words, "raising-v1": broken}

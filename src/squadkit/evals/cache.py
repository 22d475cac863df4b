"""The response cache: model answers on disk, keyed by the full request.

The key is a hash of everything that decides an answer: the alias, its chain of pinned
deployment model strings (so a model upgrade is a cache miss, never a stale hit), the
messages, the params, the output schema and the sample number of a repeat. Recordings are
plain JSON files under `evals/recordings/<suite>/`, committed so that a pull request without
an API key (a fork, a laptop offline) still gets a real, reproducible gate.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import EvalConfigError
from .paths import display_path


class RecordedResponse(BaseModel):
    """What one model call returned, as the runner and the scorers see it.

    `error` is set when the model answered but the answer was unusable (invalid output):
    that is the model's behaviour, so it is recorded and replayed like an answer.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = ""
    output: Any = None
    error: str | None = None
    alias: str
    deployment: str | None = None
    fallback_used: bool = False
    attempts: int = 1
    latency_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


def request_key(
    *,
    alias: str,
    chain: list[str],
    messages: list[dict[str, Any]],
    params: dict[str, Any] | None,
    output_schema: dict[str, Any] | None,
    sample: int = 0,
) -> str:
    """A stable hex digest of the full request (sample 0 is shared with single runs)."""
    request: dict[str, Any] = {
        "alias": alias,
        "chain": chain,
        "messages": messages,
        "params": params or {},
        "output_schema": output_schema,
    }
    if sample:
        request["sample"] = sample
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """A folder of `<key>.json` files; writes are atomic so concurrent shards never clash.

    `previous` is where the recordings were before a refresh moved them aside: an answer
    recorded there again is copied back byte for byte rather than rewritten.
    """

    def __init__(self, directory: Path, *, previous: Path | None = None) -> None:
        self.directory = directory
        self.previous = previous

    def path_for(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, key: str) -> RecordedResponse | None:
        path = self.path_for(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as error:
            raise EvalConfigError(
                f"{display_path(path)}: unreadable recording ({error}); delete it and record again"
            ) from None
        try:
            return RecordedResponse.model_validate(data["response"])
        except (KeyError, TypeError, ValidationError):
            raise EvalConfigError(
                f"{display_path(path)}: recording has no valid 'response'; "
                "delete it and record again"
            ) from None

    def put(
        self, key: str, request: dict[str, Any], response: RecordedResponse
    ) -> RecordedResponse:
        """Store `response` under `key`; `request` is a short, human-readable summary.

        Returns what is recorded now. A recording of the same answer that differs only in
        latency is kept as it is (and returned), so re-recording a deterministic model
        leaves git clean and the run reports what a replay will.
        """
        path = self.path_for(key)
        kept = self._same_answer(path, request, response)
        if kept is not None:
            return kept[0]
        if self.previous is not None:
            kept = self._same_answer(self.previous / path.name, request, response)
            if kept is not None:
                self._write(path, kept[1])
                return kept[0]
        body = {"key": key, "request": request, "response": response.model_dump(mode="json")}
        self._write(path, json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        return response

    def _write(self, path: Path, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        Path(tmp).replace(path)

    @staticmethod
    def _same_answer(
        path: Path, request: dict[str, Any], response: RecordedResponse
    ) -> tuple[RecordedResponse, str] | None:
        """The recording at `path` (and its text) when it holds this request and answer,
        latency aside."""
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text)
            recorded = RecordedResponse.model_validate(data["response"])
        except (OSError, ValueError, KeyError, TypeError):  # absent or unreadable: rewrite
            return None
        if data.get("request") != request:
            return None
        if recorded.model_copy(update={"latency_s": response.latency_s}) != response:
            return None
        return recorded, text

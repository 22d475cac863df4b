"""The response cache: model answers on disk, keyed by the full request.

The key is a hash of everything that decides an answer: the alias, its chain of pinned
deployment model strings (so a model upgrade is a cache miss, never a stale hit), the
messages, the params, the output schema and the sample number of a repeat. Recordings are
one JSON Lines file per suite, `evals/recordings/<suite>.jsonl`, committed so that a pull
request without an API key (a fork, a laptop offline) still gets a real, reproducible gate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, TypeVar

from pydantic import BaseModel, ValidationError

from ..calls import CallResult, Completion
from ..files import atomic_write, bounded_lines, display_path, folder_lock, open_lines
from .errors import EvalConfigError


class RecordedResponse(CallResult):
    """What one model call returned, as the runner and the scorers see it: the gateway's
    `CallResult` plus the alias asked, the provider requests made and an unusable answer.

    `error` is set when the model answered but the answer was unusable (invalid output):
    that is the model's behaviour, so it is recorded and replayed like an answer.
    """

    error: str | None = None
    alias: str
    attempts: int = 1

    @classmethod
    def answered(cls, completion: Completion) -> RecordedResponse:
        """The recording of an answered call (latency to the microsecond, for stable files)."""
        return cls.of(
            completion,
            alias=completion.alias,
            attempts=completion.attempts,
            latency_s=round(completion.latency_s, 6),
        )


Model = TypeVar("Model", bound=BaseModel)


def scrub(value: Any, redact: Callable[[str], str]) -> Any:
    """`value` (JSON-like data or a pydantic model) with `redact` applied to every string
    in it; dictionary keys are names, not content, and stay as they are. Where `redact`
    changed nothing (it returned each string itself, as `re.sub` does without a match),
    `value` itself is returned: most cases hold nothing to redact, so most scrubbing
    copies nothing (each string is still redacted: that is most of its cost)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, BaseModel):
        return scrubbed(value, redact)
    if isinstance(value, dict):
        items = {key: scrub(item, redact) for key, item in value.items()}
        return value if _same(items.values(), value.values()) else items
    if isinstance(value, list | tuple):
        scrubbed_items = [scrub(item, redact) for item in value]
        if _same(scrubbed_items, value):
            return value
        return scrubbed_items if isinstance(value, list) else tuple(scrubbed_items)
    return value


def _same(scrubbed_items: Iterable[Any], items: Iterable[Any]) -> bool:
    """Whether scrubbing kept every item as it was (the same objects)."""
    return all(new is old for new, old in zip(scrubbed_items, items, strict=True))


def scrubbed(model: Model, redact: Callable[[str], str]) -> Model:
    """`model` with `redact` applied to every string field, nested ones included: a copy
    when a field changed, else `model` itself (see `scrub`).

    The typed record is copied field by field rather than dumped to JSON and validated back:
    what is written from it is the same, and a field added to the model is scrubbed too.
    """
    update = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        clean = scrub(value, redact)
        if clean is not value:
            update[name] = clean
    return model.model_copy(update=update) if update else model


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
    """The recordings of one suite: `evals/recordings/<suite>.jsonl`, one line a recording.

    Lines are compact JSON sorted by key, so a diff shows exactly the answers that changed
    and a merge of two branches rarely conflicts. The first read indexes the file (key ->
    where its line starts) and each recording is read and parsed when it is asked for, so
    a replay holds the index, not every answer. Writes collect in memory until `flush()`,
    which merges them into the file under a lock on its folder and replaces it atomically
    (written beside, fsynced, renamed): concurrent shards keep each other's lines, and a
    crash leaves the old file or the new one, never half of one.

    `fresh=True` (a refresh) flushes exactly what this run recorded, dropping stale lines.
    Either way an answer recorded again unchanged but for its latency keeps its old line
    byte for byte, so re-recording a deterministic model leaves git clean.

    Used as a context manager (the eval run's), the cache flushes as the `with` block ends,
    by one rule whatever the mode: what was put is written, and a fresh cache writes only
    when the block succeeded (a failed record keeps what it recorded, a failed refresh
    leaves the file as it was; replay and live put nothing, so they write nothing).
    """

    def __init__(
        self,
        path: Path,
        *,
        fresh: bool = False,
        redact: Callable[[str], str] | None = None,
        root: Path | None = None,
    ) -> None:
        self.path = path
        self.fresh = fresh
        self.root = root  # the repository: recordings leading out of it are refused
        # Answers are scrubbed before they are kept: a key or an email a model repeats must
        # not land in a committed recording (`observability.persistence_redactor`).
        self.redact = redact
        self._index: _Index | None = None
        self._new: dict[str, str] = {}

    def get(self, key: str) -> RecordedResponse | None:
        line = self._new.get(key) or self._recorded_line(key)
        return None if line is None else self._parse(line)[1]

    def put(
        self, key: str, request: dict[str, Any], response: RecordedResponse
    ) -> RecordedResponse:
        """Keep `response` under `key` until `flush()`; `request` is a readable summary.

        Returns what will be recorded: the earlier recording when only the latency differs,
        so the run reports what a replay will.
        """
        if self.redact is not None:
            request = scrub(request, self.redact)
            response = scrubbed(response, self.redact)
        old = self._recorded_line(key)
        if old is not None:
            recorded_request, recorded = self._parse(old)
            same = recorded.model_copy(update={"latency_s": response.latency_s}) == response
            if same and recorded_request == request:
                self._new[key] = old
                return recorded
        body = {"key": key, "request": request, "response": response.model_dump(mode="json")}
        self._new[key] = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return response

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if error is None or not self.fresh:
                self.flush()
        finally:
            self._let_go()

    def flush(self) -> None:
        """Write what `put` collected (nothing to do when nothing was put)."""
        if not self._new and not self.fresh:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)

        # Under the lock, the file as it is now: another shard may have flushed since.
        def now() -> _Index:
            return _Index(self.path, None, {}) if self.fresh else _Index.of(self.path, self.root)

        with folder_lock(self.path.parent), now() as current:
            keys = sorted(set(self._new) | set(current.offsets))

            def lines() -> Iterator[str]:
                for key in keys:
                    yield f"{self._new.get(key) or current.line(key)}\n"

            atomic_write(self.path, lines())
        self._let_go()  # the next read indexes the file just written
        self._new = {}

    def _let_go(self) -> None:
        """Let go of the recordings file (the next read opens it again)."""
        if self._index is not None:
            self._index.close()
            self._index = None

    def _recorded_line(self, key: str) -> str | None:
        if self._index is None:
            self._index = _Index.of(self.path, self.root)
        return self._index.line(key)

    def _parse(self, line: str) -> tuple[Any, RecordedResponse]:
        number = self._index.numbers.get(line[8:72]) if self._index is not None else None
        where = f"{display_path(self.path)}{f':{number}' if number else ''}"
        try:
            data = json.loads(line)
            return data.get("request"), RecordedResponse.model_validate(data["response"])
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(["response", *(str(part) for part in first["loc"])])
            raise EvalConfigError(
                f"{where}: not a recording: field '{field}': {first['msg']}; delete the line "
                "and record again"
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            raise EvalConfigError(
                f"{where}: recording {line[8:20]}... has no valid 'response'; delete its "
                "line and record again"
            ) from None


class _Index:
    """Where each recording of a file starts, read from an open handle on that file.

    The handle keeps the version that was indexed: a concurrent flush renames a new file
    over the path, and the offsets stay those of the file this handle reads.
    """

    def __init__(
        self,
        path: Path,
        handle: BinaryIO | None,
        offsets: dict[str, int],
        numbers: dict[str, int] | None = None,
    ) -> None:
        self.path = path
        self.handle = handle
        self.offsets = offsets
        self.numbers = numbers or {}  # key -> line number, for messages

    @classmethod
    def of(cls, path: Path, root: Path | None = None) -> _Index:
        """Index `path` (refused when it leads out of `root`, the repository)."""
        try:
            handle = open_lines(path, root=root)
        except FileNotFoundError:
            return cls(path, None, {})
        except OSError as error:
            raise EvalConfigError(
                f"{display_path(path)}: unreadable recordings ({error.strerror})"
            ) from None
        offsets: dict[str, int] = {}
        numbers: dict[str, int] = {}
        with ExitStack() as on_failure:
            on_failure.enter_context(handle)
            for number, offset, raw in bounded_lines(handle, path):
                try:
                    line = raw.decode("utf-8").rstrip("\n")
                except UnicodeDecodeError:
                    raise EvalConfigError(
                        f"{display_path(path)}: not UTF-8 text; restore it from git or record again"
                    ) from None
                if line.strip():
                    key = _key_of(path, line, number)
                    offsets[key] = offset
                    numbers[key] = number
            on_failure.pop_all()  # indexed: the handle is the index's now
        return cls(path, handle, offsets, numbers)

    def __enter__(self) -> _Index:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def line(self, key: str) -> str | None:
        offset = self.offsets.get(key)
        if offset is None or self.handle is None:
            return None
        self.handle.seek(offset)
        return self.handle.readline().decode("utf-8").rstrip("\n")

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _key_of(path: Path, line: str, number: int) -> str:
    # Lines are written key first (`{"key":"<64 hex>",...`): read it without a parse.
    if line.startswith('{"key":"') and line[72:74] == '",':
        return line[8:72]
    try:
        key = json.loads(line)["key"]
    except (ValueError, KeyError, TypeError, RecursionError):
        key = None
    if not isinstance(key, str):
        raise EvalConfigError(
            f"{display_path(path)}:{number}: not a recording (a JSON object with "
            "'key', 'request' and 'response'); delete the line and record again"
        )
    return key

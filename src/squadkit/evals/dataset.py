"""Datasets: `evals/datasets/<name>.jsonl`, one case per line.

A case is `{"id", "inputs", "expected", "tags", "human", "provenance"}`: `inputs` go to
the prompt, `expected` holds the labelled answer the scorers compare with, `tags` slice the
report (ambiguous, adversarial, tier:enterprise...), and `human` holds reviewed judgements
of an answer, scorer name -> verdict (`true`/`false`, or a category the `llm_judge` scorer
declares): what `squad eval judge-agreement` checks each judge against (`agreement`). A
case that came from production through review (`squad harvest`, `squad review`) also
carries `provenance`: the inference it was, the prompt version that answered, who accepted
it and when. A malformed line is an `EvalConfigError` naming the file and the line, so a
bad edit is found in seconds.

A dataset is streamed, never held whole: `scan_dataset` reads every line once before a run
(so a bad line or a duplicate id fails before any model is called) and keeps only the
count, the ids and the content hash; `iter_cases` then yields the cases as the runner
takes them. `load_dataset` holds every case, for small files and scripts.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from ..errors import invalid_field
from ..files import bounded_lines, display_path, open_lines
from ..prompts.hashing import HASH_PREFIX
from .errors import EvalConfigError

_SCORER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Provenance(BaseModel):
    """Where a reviewed production case came from: enough to find the inference again and
    to know which prompt version's answer a person judged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inference_id: str = Field(min_length=1)
    prompt: str | None = None
    prompt_version: int | None = None
    prompt_hash: str | None = None
    inputs_sha256: str | None = Field(
        default=None, description="SHA-256 of the inputs as served (before redaction)."
    )
    reasons: list[str] = Field(default_factory=list, description="Why harvest picked it.")
    decision: Literal["accepted", "edited"] = "accepted"
    reviewed_by: str = Field(min_length=1)
    reviewed_on: date


class Case(BaseModel):
    """One labelled example."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^\S+$")
    inputs: dict[str, Any]
    expected: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    human: dict[str, bool | str] = Field(
        default_factory=dict,
        description="Reviewed verdicts: scorer name -> true/false or a category name.",
    )

    @field_validator("human", mode="before")
    @classmethod
    def _verdicts(cls, value: Any) -> Any:
        """One clear sentence per bad verdict (pydantic's union errors name its internals);
        whether the scorer exists and takes that verdict is the suite's to say
        (`agreement.human_labels`)."""
        if not isinstance(value, dict):
            raise PydanticCustomError(
                "human", 'expected a mapping of scorer name -> verdict, e.g. {"judge": true}'
            )
        for name, verdict in value.items():
            if not _SCORER_NAME.match(name):
                raise PydanticCustomError(
                    "human", "'{name}' is not a scorer name (lower case, digits, _)", {"name": name}
                )
            if not isinstance(verdict, bool) and not (
                isinstance(verdict, str) and verdict.strip() == verdict and verdict
            ):
                raise PydanticCustomError(
                    "human",
                    "verdict of '{name}' is {got}: give true, false or a category name",
                    {"name": name, "got": json.dumps(verdict)},
                )
        return value

    provenance: Provenance | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """What a run needs to know of a dataset before it streams it: its size and hash."""

    path: Path
    count: int
    hash: str

    @property
    def name(self) -> str:
        return self.path.stem


@dataclass(frozen=True)
class Dataset:
    """The cases of one dataset file, in file order, with the file's content hash."""

    path: Path
    cases: list[Case]
    hash: str

    @property
    def name(self) -> str:
        return self.path.stem


def scan_dataset(path: Path) -> DatasetInfo:
    """Validate every line of `path` (ids unique) without keeping the cases.

    Remembered per version of the file (size, modification time, inode), so the steps of
    one command that each need the count (workers, runner) read a large file once. A file
    changed in the last two seconds is read again every time: its next change could keep
    the same timestamp (the "racy git" rule).
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise EvalConfigError(
            f"{display_path(path)}: dataset not found; check the suite's 'dataset'"
        ) from None
    if time.time_ns() - stat.st_mtime_ns < _RACY_NS:
        return _scan(path)
    return _remembered(path.resolve(), stat.st_size, stat.st_mtime_ns, stat.st_ino, path)


_RACY_NS = 2_000_000_000


@lru_cache(maxsize=8)
def _remembered(resolved: Path, size: int, mtime_ns: int, inode: int, path: Path) -> DatasetInfo:
    del resolved, size, mtime_ns, inode  # the key: one entry per version of the file
    return _scan(path)


def _scan(path: Path) -> DatasetInfo:
    digest = hashlib.sha256()
    first_line: dict[str, int] = {}
    count = 0
    for number, case in _read(path, digest):
        if case.id in first_line:
            raise EvalConfigError(
                f"{display_path(path)}:{number}: duplicate case id '{case.id}' "
                f"(first on line {first_line[case.id]})"
            )
        first_line[case.id] = number
        count += 1
    if not count:
        raise EvalConfigError(
            f"{display_path(path)}: dataset has no cases; add one JSON object per line"
        )
    return DatasetInfo(path=path, count=count, hash=f"{HASH_PREFIX}{digest.hexdigest()}")


def iter_cases(path: Path) -> Iterator[tuple[int, Case]]:
    """The (dataset index, case) pairs of `path`, read one line at a time.

    Blank lines are skipped and do not count; run `scan_dataset` first to refuse a bad line
    or a duplicate id before anything is done with the cases.
    """
    for index, (_, case) in enumerate(_read(path, None)):
        yield index, case


def numbered_cases(path: Path) -> Iterator[tuple[int, Case]]:
    """The (line number, case) pairs of `path`, for messages that name a case's line."""
    return _read(path, None)


def load_dataset(path: Path) -> Dataset:
    """Read and validate every line of `path`, holding every case; blank lines are skipped."""
    info = scan_dataset(path)
    return Dataset(path=path, cases=[case for _, case in iter_cases(path)], hash=info.hash)


def _read(path: Path, digest: Any) -> Iterator[tuple[int, Case]]:
    """(line number, case) for each non-blank line; `digest` (a hash) sees every byte."""
    where = display_path(path)
    try:
        handle = open_lines(path)
    except FileNotFoundError:
        raise EvalConfigError(f"{where}: dataset not found; check the suite's 'dataset'") from None
    with handle:
        for number, _, raw in bounded_lines(handle, path):
            if digest is not None:
                digest.update(raw)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise EvalConfigError(f"{where}: not UTF-8 text ({error.reason})") from None
            if line.strip():
                yield number, _case(line, where, number)


def _case(line: str, where: str, number: int) -> Case:
    try:
        return Case.model_validate_json(line)  # the fast path: a valid line, parsed once
    except ValidationError:
        pass  # say what is wrong as the plain JSON reading sees it
    try:
        data = json.loads(line)
    except RecursionError:
        raise EvalConfigError(f"{where}:{number}: not valid JSON (nested too deeply)") from None
    except json.JSONDecodeError as error:
        raise EvalConfigError(
            f"{where}:{number}: not valid JSON ({error.msg} at column {error.colno}); "
            "each line must be one JSON object"
        ) from None
    if not isinstance(data, dict):
        raise EvalConfigError(
            f"{where}:{number}: expected a JSON object with 'id', 'inputs', 'expected'"
        )
    try:
        return Case.model_validate(data)
    except ValidationError as error:
        field = invalid_field(error, whole="(line)")
        raise EvalConfigError(f"{where}:{number}: {field}") from None

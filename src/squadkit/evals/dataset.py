"""Datasets: `evals/datasets/<name>.jsonl`, one case per line.

A case is `{"id", "inputs", "expected", "tags"}`: `inputs` go to the prompt, `expected`
holds the labelled answer the scorers compare with, `tags` slice the report (ambiguous,
adversarial, tier:enterprise...). A malformed line is an `EvalConfigError` naming the
file and the line, so a bad edit is found in seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..files import display_path
from ..prompts.hashing import file_hash
from .errors import EvalConfigError


class Case(BaseModel):
    """One labelled example."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^\S+$")
    inputs: dict[str, Any]
    expected: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Dataset:
    """The cases of one dataset file, in file order, with the file's content hash."""

    path: Path
    cases: list[Case]
    hash: str

    @property
    def name(self) -> str:
        return self.path.stem


def load_dataset(path: Path) -> Dataset:
    """Read and validate every line of `path`; blank lines are skipped."""
    where = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EvalConfigError(f"{where}: dataset not found; check the suite's 'dataset'") from None
    except UnicodeDecodeError as error:
        raise EvalConfigError(f"{where}: not UTF-8 text ({error.reason})") from None
    cases: list[Case] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
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
            case = Case.model_validate(data)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "(line)"
            raise EvalConfigError(f"{where}:{number}: field '{field}': {first['msg']}") from None
        if case.id in first_line:
            raise EvalConfigError(
                f"{where}:{number}: duplicate case id '{case.id}' "
                f"(first on line {first_line[case.id]})"
            )
        first_line[case.id] = number
        cases.append(case)
    if not cases:
        raise EvalConfigError(f"{where}: dataset has no cases; add one JSON object per line")
    return Dataset(path=path, cases=cases, hash=file_hash(path))

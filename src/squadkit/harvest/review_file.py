"""The review files of a suite, and what a reviewer's decisions do to the dataset.

`squad harvest SUITE` writes `evals/review/<suite>.jsonl` (one `Candidate` a line; a new
harvest replaces it). A reviewer decides through `squad review` (one candidate at a time)
or the review page, whose download `squad review --apply` reads:

- *accept* (the proposed expected answer) or *edit* (the reviewer's): the case is appended
  to the suite's dataset with its `provenance` (inference, prompt version, reviewer, date)
  and, for each pass/fail `llm_judge` of the suite, the reviewer's verdict on the logged
  answer in `human` (right when it says what the approved expected answer says),
  so the dataset's hash changes and the suite's evidence goes stale until the gate runs
  again, as after any dataset edit;
- *reject*: the input's hash is appended to `evals/review/<suite>.rejected.jsonl`, so no
  later harvest offers it again.

Every file is rewritten atomically under a folder lock, dataset first: a crash part-way
leaves decisions that a second `--apply` completes (an input already in the dataset is
skipped, not added twice).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import ConfigError, invalid_field
from ..evals.dataset import Case, Provenance, numbered_cases
from ..evals.scorers import LlmJudge
from ..evals.suite import Suite
from ..files import (
    MiB,
    atomic_write,
    bounded_lines,
    display_path,
    folder_lock,
    keep_inside,
    open_lines,
    read_text,
)
from ..inferences.record import inputs_sha256
from .candidates import Candidate
from .selection import Known

__all__ = [
    "Applied",
    "Decision",
    "Decisions",
    "RejectedInput",
    "apply_decisions",
    "dataset_known",
    "read_candidates",
    "read_decisions",
    "rejected_path",
    "review_path",
    "write_candidates",
]

DECISIONS_CAP = 64 * MiB
"""A decisions file: about 1 KB a candidate with an edited answer."""


class Decision(BaseModel):
    """What a reviewer decided about one candidate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inference_id: str = Field(min_length=1)
    decision: Literal["accept", "edit", "reject"]
    expected: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _edit_has_expected(self) -> Decision:
        if self.decision == "edit" and self.expected is None:
            raise ValueError("an 'edit' decision needs 'expected' (a JSON object)")
        return self


class Decisions(BaseModel):
    """The file the review page downloads (and `--apply` reads)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    suite: str
    decisions: list[Decision]


class RejectedInput(BaseModel):
    """One line of `<suite>.rejected.jsonl`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inference_id: str
    inputs_sha256: str
    rejected_by: str
    rejected_on: date


@dataclass
class Applied:
    accepted: list[str] = field(default_factory=list)
    """The ids of the cases appended to the dataset."""
    rejected: int = 0
    already_in_dataset: int = 0


_Line = TypeVar("_Line", "Candidate", "RejectedInput")


def review_path(suite: Suite) -> Path:
    return suite.evals_dir / "review" / f"{suite.name}.jsonl"


def rejected_path(suite: Suite) -> Path:
    return suite.evals_dir / "review" / f"{suite.name}.rejected.jsonl"


def _inside(suite: Suite, path: Path) -> Path:
    """`path`, refused when it (or `evals/review` as a symlink) leads out of the repo."""
    if path.exists() or path.is_symlink() or path.parent.is_symlink():
        keep_inside(path, suite.evals_dir.resolve().parent)
    return path


def write_candidates(suite: Suite, candidates: Iterable[Candidate]) -> Path:
    path = _inside(suite, review_path(suite))
    path.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(path.parent):
        atomic_write(path, (candidate.model_dump_json() + "\n" for candidate in candidates))
    return path


def read_candidates(suite: Suite) -> list[Candidate]:
    """The candidates waiting in the review file (none when there is no file)."""
    path = _inside(suite, review_path(suite))
    if not path.is_file():
        return []
    return list(_json_lines(path, Candidate))


def read_rejected(suite: Suite) -> Iterator[RejectedInput]:
    path = _inside(suite, rejected_path(suite))
    if path.is_file():
        yield from _json_lines(path, RejectedInput)


def _json_lines(path: Path, model: type[_Line]) -> Iterator[_Line]:
    """The lines of a review file as `model`s; a bad line is one error naming it."""
    where = display_path(path)
    with open_lines(path) as handle:
        for number, _, raw in bounded_lines(handle, path):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except ValueError as error:
                raise ConfigError(f"{where}:{number}: not valid JSON ({error})") from None
            if not isinstance(data, dict):
                raise ConfigError(f"{where}:{number}: expected a JSON object")
            try:
                yield model.model_validate(data)
            except ValidationError as error:
                field_problem = invalid_field(error, whole="(line)")
                raise ConfigError(
                    f"{where}:{number}: {field_problem}; harvest again to rewrite it"
                ) from None


def dataset_known(suite: Suite) -> tuple[Known, set[str]]:
    """What harvest must not offer again (dataset inputs, provenance, rejected inputs) and
    the dataset's case ids; `Known.expected_keys` are the keys its cases label."""
    known = Known()
    case_ids: set[str] = set()
    keys: dict[str, None] = {}
    for _, case in numbered_cases(suite.dataset_path):
        case_ids.add(case.id)
        known.in_dataset.add(inputs_sha256(case.inputs))
        keys.update(dict.fromkeys(case.expected))
        if case.provenance is not None:
            known.in_dataset.add(case.provenance.inference_id)
            if case.provenance.inputs_sha256:
                known.in_dataset.add(case.provenance.inputs_sha256)
    for rejected in read_rejected(suite):
        known.rejected.update((rejected.inputs_sha256, rejected.inference_id))
    known.expected_keys = list(keys)
    return known, case_ids


def read_decisions(path: Path, suite: Suite) -> list[Decision]:
    """The decisions of a file the review page downloaded (one line per problem)."""
    where = display_path(path)
    try:
        text = read_text(path, cap=DECISIONS_CAP)
    except FileNotFoundError:
        raise ConfigError(f"{where}: decisions file not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"{where}:{error.lineno}: not valid JSON ({error.msg} at column {error.colno})"
        ) from None
    try:
        decisions = Decisions.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{where}: {invalid_field(error, whole='(file)')}") from None
    if decisions.suite != suite.name:
        raise ConfigError(
            f"{where}: field 'suite': decisions for suite '{decisions.suite}', not "
            f"'{suite.name}'; apply them to their own suite"
        )
    return decisions.decisions


def apply_decisions(
    suite: Suite, decisions: list[Decision], *, by: str, today: date, source: str
) -> Applied:
    """Append accepted cases to the dataset, remember rejected inputs, and drop the decided
    candidates from the review file (see the module docstring). `source` names the
    decisions in messages (a file, or the command line)."""
    review = _inside(suite, review_path(suite))
    review.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(review.parent):
        waiting = {candidate.inference_id: candidate for candidate in read_candidates(suite)}
        for number, decision in enumerate(decisions, start=1):
            if decision.inference_id not in waiting:
                raise ConfigError(
                    f"{source}: decision {number}: inference {decision.inference_id} is not "
                    f"waiting in {display_path(review)}; harvest again or drop the decision"
                )
        known, case_ids = dataset_known(suite)
        judges = _pass_fail_judges(suite)
        applied = Applied()
        cases: list[Case] = []
        rejected: list[RejectedInput] = []
        for decision in decisions:
            candidate = waiting.pop(decision.inference_id)
            if decision.decision == "reject":
                rejected.append(
                    RejectedInput(
                        inference_id=candidate.inference_id,
                        inputs_sha256=candidate.inputs_sha256,
                        rejected_by=by,
                        rejected_on=today,
                    )
                )
                continue
            digest = inputs_sha256(candidate.inputs)
            if {candidate.inputs_sha256, digest, candidate.inference_id} & known.in_dataset:
                applied.already_in_dataset += 1
                continue
            case = _case(candidate, decision, by=by, today=today, taken=case_ids, judges=judges)
            known.in_dataset.update((candidate.inputs_sha256, digest, candidate.inference_id))
            case_ids.add(case.id)
            cases.append(case)
        if cases:
            with folder_lock(suite.dataset_path.parent):
                atomic_write(suite.dataset_path, _appended(suite.dataset_path, cases))
        if rejected:
            path = _inside(suite, rejected_path(suite))
            atomic_write(path, _appended(path, rejected))
        atomic_write(review, (c.model_dump_json() + "\n" for c in waiting.values()))
    applied.accepted = [case.id for case in cases]
    applied.rejected = len(rejected)
    return applied


def _pass_fail_judges(suite: Suite) -> list[str]:
    """The suite's `llm_judge` scorers that a person answers with true or false."""
    return [
        scorer.name
        for scorer in suite.spec.scorers
        if isinstance(scorer, LlmJudge) and True in scorer.verdicts()
    ]


def _answer_was_right(output: Any, expected: dict[str, Any]) -> bool:
    """Whether the logged answer says what the reviewed expected answer says, key by key
    (the keys the case labels: a rationale in the answer is not compared)."""
    answer = output if isinstance(output, dict) else {"output": output}
    return bool(expected) and all(answer.get(key) == value for key, value in expected.items())


def _case(
    candidate: Candidate,
    decision: Decision,
    *,
    by: str,
    today: date,
    taken: set[str],
    judges: list[str],
) -> Case:
    """The dataset case of an accepted candidate. Its `human` verdicts are the reviewer's
    judgement of the logged answer, for each pass/fail judge of the suite: right when it
    matches the expected answer the reviewer approved (`squad eval judge-agreement`)."""
    expected = candidate.proposed_expected if decision.expected is None else decision.expected
    edited = decision.decision == "edit" or expected != candidate.proposed_expected
    right = _answer_was_right(candidate.output, expected)
    length = 12
    while f"prod-{candidate.inputs_sha256[:length]}" in taken and length < 64:
        length += 4
    return Case(
        id=f"prod-{candidate.inputs_sha256[:length]}",
        inputs=candidate.inputs,
        expected=expected,
        tags=["production"],
        human=dict.fromkeys(judges, right),
        provenance=Provenance(
            inference_id=candidate.inference_id,
            prompt=candidate.prompt,
            prompt_version=candidate.prompt_version,
            prompt_hash=candidate.prompt_hash,
            inputs_sha256=candidate.inputs_sha256,
            reasons=list(candidate.reasons),
            decision="edited" if edited else "accepted",
            reviewed_by=by,
            reviewed_on=today,
        ),
    )


def _appended(path: Path, items: list[Case] | list[RejectedInput]) -> Iterator[str]:
    """`path`'s text as it is (streamed), then one JSON line per item."""
    last = "\n"
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as handle:
            for chunk in iter(lambda: handle.read(MiB), ""):
                last = chunk
                yield chunk
    if last and not last.endswith("\n"):
        yield "\n"
    for item in items:
        yield _line(item) + "\n"


def _line(item: Case | RejectedInput) -> str:
    if isinstance(item, RejectedInput):
        return item.model_dump_json()
    data: dict[str, Any] = {
        "id": item.id,
        "inputs": item.inputs,
        "expected": item.expected,
        "tags": item.tags,
    }
    if item.human:
        data["human"] = item.human
    if item.provenance is not None:  # exclude_none on the whole case would touch inputs
        data["provenance"] = item.provenance.model_dump(mode="json", exclude_none=True)
    return json.dumps(data, ensure_ascii=False)

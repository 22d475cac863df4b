"""`Report`: one eval report, whichever way its cases are held; how 100,000 cases fit in MBs.

As each case finishes, the runner scrubs its result and appends it to a spool file (an
unnamed temporary file beside the report, owned by the run: gone when the run ends, however
it ends); only its `CaseScores` stay in memory, which is all that summaries, statistics and
the gate read. `Report` is what every command, view and the gate are given: the header and
every case's scores in memory, each case read when asked for from where it is kept (a run's
spool, a report or baseline file, or memory for a whole `EvalReport`: `Report.of`). The
views and `report.json` read the cases back one at a time in dataset order, and `load()`
gives the whole `EvalReport` when a caller wants it (a small run, a test, a script).
"""

from __future__ import annotations

import os
import tempfile
from array import array
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Protocol, Self

from ..errors import ConfigError
from ..files import REPORT_CAP, atomic_write, open_lines
from .errors import EvalConfigError
from .report import ArmResult, CaseResult, EvalReport, GateResult, read_report
from .summary import CaseScores


class CaseSource(Protocol):
    """Where a report's cases are kept, each found by its arm's position and dataset index."""

    def text(self, arm: int, index: int) -> str:
        """The case's JSON, as `CaseResult.model_dump_json(indent=1)` writes it."""
        ...

    def case(self, arm: int, index: int) -> CaseResult: ...


class CaseFile:
    """Case results in a file, each read when asked for: a spool, or a report on disk.

    Where each case's JSON lies is kept by arm and dataset index in flat arrays, not
    objects: a run of 100,000 cases holds 100,000 of these.
    """

    def __init__(self, file: IO[bytes], *, indent: int = 0) -> None:
        self._file = file
        self._dedent = "\n" + " " * indent if indent else ""  # a case inside a report
        self._slots: list[dict[int, int]] = []
        self._offsets = array("q")
        self._sizes = array("q")

    def place(self, arm: int, index: int, offset: int, size: int) -> None:
        """Remember that arm `arm`'s case `index` is the `size` bytes at `offset`."""
        while len(self._slots) <= arm:
            self._slots.append({})
        self._slots[arm][index] = len(self._offsets)
        self._offsets.append(offset)
        self._sizes.append(size)

    def text(self, arm: int, index: int) -> str:
        """The case's JSON, as `CaseResult.model_dump_json(indent=1)` wrote it."""
        slot = self._slots[arm][index]
        self._file.seek(self._offsets[slot])
        text = self._file.read(self._sizes[slot]).decode("utf-8")
        return text.replace(self._dedent, "\n") if self._dedent else text

    def case(self, arm: int, index: int) -> CaseResult:
        return CaseResult.model_validate_json(self.text(arm, index))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._file.close()


class CaseSpool(CaseFile):
    """Case results, each as the JSON `report.json` holds it, in an unnamed temporary file."""

    def __init__(self, folder: Path | None = None) -> None:
        # Beside the report: in its folder or, before that exists, the nearest folder above
        # it (a run that fails leaves no folder behind); else the system's temporary folder.
        while folder is not None and not folder.is_dir():
            folder = folder.parent if folder.parent != folder else None
        # Held for the run's life: the run enters the spool, and its end closes the file.
        super().__init__(tempfile.TemporaryFile(dir=folder, prefix=".spool-"))  # noqa: SIM115
        self._end = 0

    def add(self, arm: int, case: CaseResult) -> CaseScores:
        """Keep `case` on disk; return what stays in memory."""
        data = case.model_dump_json(indent=1).encode("utf-8")
        self._file.seek(self._end)
        self._file.write(data)
        self.place(arm, case.index, self._end, len(data))
        self._end += len(data)
        return CaseScores.of(case)


class CaseList:
    """A whole report's cases, held in memory and read through the same interface."""

    def __init__(self, report: EvalReport) -> None:
        self._arms = [{case.index: case for case in arm.cases} for arm in report.arms]

    def text(self, arm: int, index: int) -> str:
        return self.case(arm, index).model_dump_json(indent=1)

    def case(self, arm: int, index: int) -> CaseResult:
        return self._arms[arm][index]


@dataclass(frozen=True)
class _Arms:
    """Some arms of a source, numbered from 0 in the order given (a report of fewer arms)."""

    source: CaseSource
    positions: tuple[int, ...]

    def text(self, arm: int, index: int) -> str:
        return self.source.text(self.positions[arm], index)

    def case(self, arm: int, index: int) -> CaseResult:
        return self.source.case(self.positions[arm], index)


# `report.json` is `EvalReport.model_dump_json(indent=1)`: an arm's cases are items of its
# `cases` list, four levels deep. A raw newline only ever separates tokens (one inside a
# string is escaped), so this is where the list of an arm without cases sits.
_EMPTY_CASES = '\n   "cases": []'
_CASE_INDENT = "\n    "


@dataclass(frozen=True)
class Report:
    """An eval report as the commands, the views and the gate read it: its cases read one at
    a time from `source`, whatever keeps them (a run's spool, a file, memory).

    `header` is the report with every arm's `cases` left empty (its summaries are those of
    the whole run); `scores[i]` holds arm `i`'s `CaseScores` in dataset order. A report does
    not own its source: the run (`runner.EvalRun`) or the `with` block that read it
    (`read_streamed`) does, and after that ends the header and scores stay readable.
    """

    header: EvalReport
    scores: list[list[CaseScores]]
    source: CaseSource = field(repr=False)
    # What the run learnt that the report's file does not hold: e.g. why the first
    # deployment did not answer when a fallback did (the gate's failure names it), and
    # the model alias each arm's prompt version names (evidence is only for that alias).
    notes: tuple[str, ...] = ()
    prompt_aliases: Mapping[str, str] = field(default_factory=dict)  # arm name -> alias

    @classmethod
    def of(cls, report: EvalReport) -> Report:
        """A whole report seen through this interface (its cases stay in memory)."""
        header = report.model_copy(
            update={"arms": [arm.model_copy(update={"cases": []}) for arm in report.arms]}
        )
        scores = [[CaseScores.of(case) for case in arm.cases] for arm in report.arms]
        return cls(header=header, scores=scores, source=CaseList(report))

    # What the header says, read as on an `EvalReport`.
    @property
    def suite(self) -> str:
        return self.header.suite

    @property
    def gate(self) -> GateResult | None:
        return self.header.gate

    @property
    def arms(self) -> list[ArmResult]:
        """The arms without their cases (`cases()` reads those)."""
        return self.header.arms

    def arm(self, name: str | None = None) -> ArmResult:
        return self.header.arm(name)

    def position(self, name: str | None = None) -> int:
        return self.header.arms.index(self.header.arm(name))

    def arm_scores(self, name: str | None = None) -> list[CaseScores]:
        return self.scores[self.position(name)]

    def cases(self, name: str | None = None) -> Iterator[CaseResult]:
        """The arm's cases, whole, in dataset order, one at a time."""
        position = self.position(name)
        for scores in self.scores[position]:
            yield self.source.case(position, scores.index)

    def finder(self, name: str | None = None) -> Callable[[str], CaseResult | None]:
        """A lookup of the arm's cases by id, each read when it is looked up."""
        position = self.position(name)
        where = {scores.id: scores.index for scores in self.scores[position]}

        def find(case_id: str) -> CaseResult | None:
            index = where.get(case_id)
            return None if index is None else self.source.case(position, index)

        return find

    def with_gate(self, gate: GateResult | None) -> Report:
        return replace(self, header=self.header.model_copy(update={"gate": gate}))

    def only(self, name: str | None = None) -> Report:
        """This report with one arm, the first by default (the gate judges one arm at a
        time); its cases are read from the same source."""
        position = self.position(name)
        header = self.header.model_copy(update={"arms": [self.header.arms[position]]})
        source = _Arms(self.source, (position,))
        return replace(self, header=header, scores=[self.scores[position]], source=source)

    def load(self) -> EvalReport:
        """The whole report, every case in memory."""
        arms = [
            arm.model_copy(update={"cases": list(self.cases(arm.name))}) for arm in self.header.arms
        ]
        return self.header.model_copy(update={"arms": arms})

    def json_pieces(self) -> Iterator[str]:
        """`report.json`, piece by piece: the text `model_dump_json(indent=1)` of the whole
        report would be, plus a final newline, without ever holding it whole."""
        skeleton = self.header.model_dump_json(indent=1)
        parts = skeleton.split(_EMPTY_CASES)
        if len(parts) != len(self.header.arms) + 1:  # pragma: no cover - pydantic's layout
            raise EvalConfigError("cannot write report.json: unexpected layout of the report")
        yield parts[0]
        for position, rest in enumerate(parts[1:]):
            cases = self.scores[position]
            if not cases:
                yield _EMPTY_CASES
            else:
                yield '\n   "cases": ['
                for number, scores in enumerate(cases):
                    text = self.source.text(position, scores.index).replace("\n", _CASE_INDENT)
                    yield ("," if number else "") + _CASE_INDENT + text
                yield "\n   ]"
            yield rest
        yield "\n"


def as_report(report: EvalReport | Report) -> Report:
    """`report` as a `Report` (a whole `EvalReport` keeps its cases in memory)."""
    return report if isinstance(report, Report) else Report.of(report)


def write_report_json(report: EvalReport | Report, path: Path) -> Path:
    """`report.json` (or a baseline), written atomically and never held whole."""
    atomic_write(path, as_report(report).json_pieces())
    return path


@contextmanager
def read_streamed(path: Path) -> Iterator[Report]:
    """A report or baseline read case by case while the `with` block runs: memory keeps its
    header and its cases' scores, and `cases()` reads each case from the file again.

    That needs the layout `write_report_json` writes (every report and baseline squadkit
    wrote); any other file, and a malformed one, is read whole by `read_report`, which
    names what is wrong.
    """
    with ExitStack() as stack:
        yield _read(path, stack)


def _read(path: Path, stack: ExitStack) -> Report:
    try:
        handle = stack.enter_context(open_lines(path))
    except (OSError, ConfigError):
        return Report.of(read_report(path))  # which says what is wrong
    if os.fstat(handle.fileno()).st_size > REPORT_CAP:
        return Report.of(read_report(path))  # which refuses it, naming the cap
    try:
        return _read_laid_out(handle)
    except ValueError:  # JSON, UTF-8 and validation errors, or another layout
        return Report.of(read_report(path))


_OPEN_CASES, _CASE_START, _CASE_ENDS = b'   "cases": [\n', b"    {\n", (b"    }\n", b"    },\n")


def _read_laid_out(handle: IO[bytes]) -> Report:
    """`read_streamed` of a file laid out as `json_pieces` writes it (else a ValueError)."""
    cases = CaseFile(handle, indent=4)
    header: list[bytes] = []
    scores: list[list[CaseScores]] = []
    in_cases = False
    case: list[bytes] | None = None  # the lines of the case being read
    start = offset = 0
    for line in handle:
        if case is not None:
            case.append(line)
            if line in _CASE_ENDS:
                end = offset + len(line) - (2 if line.endswith(b",\n") else 1)
                result = CaseResult.model_validate_json(b"".join(case)[: end - start + 4])
                scores[-1].append(CaseScores.of(result))
                cases.place(len(scores) - 1, result.index, start, end - start)
                case = None
        elif in_cases and line == _CASE_START:
            case, start = [line], offset + 4
        elif in_cases:
            if line.strip() not in (b"]", b"],"):
                raise ValueError("not a case")
            header.append(line)
            in_cases = False
        elif line == _OPEN_CASES:
            header.append(line)
            scores.append([])
            in_cases = True
        else:
            if line.startswith(_EMPTY_CASES[1:].encode()):
                scores.append([])
            header.append(line)
        offset += len(line)
    report = EvalReport.model_validate_json(b"".join(header))
    if in_cases or case is not None or len(scores) != len(report.arms):
        raise ValueError("unexpected layout")
    if any(arm.cases for arm in report.arms):
        raise ValueError("cases outside the layout")
    return Report(header=report, scores=scores, source=cases)

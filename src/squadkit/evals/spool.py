"""A report whose cases wait on disk: how a run of 100,000 cases fits in a few hundred MB.

As each case finishes, the runner scrubs its result and appends it to a spool file (an
unnamed temporary file beside the report: gone when the run ends, however it ends); only
its `CaseScores` stay in memory, which is all that summaries, statistics and the gate
read. `StreamedReport` is the report of such a run: the views and `report.json` read the
cases back one at a time in dataset order, and `load()` gives the whole `EvalReport` when
a caller wants it (a small run, a test, a script).
"""

from __future__ import annotations

import tempfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from ..files import atomic_write
from .errors import EvalConfigError
from .report import ArmResult, CaseResult, CaseScores, EvalReport, GateResult


class CaseSpool:
    """Case results, each as the JSON `report.json` holds it, in an unnamed temporary file."""

    def __init__(self, folder: Path | None = None) -> None:
        # Beside the report: in its folder or, before that exists, the nearest folder above
        # it (a run that fails leaves no folder behind); else the system's temporary folder.
        while folder is not None and not folder.is_dir():
            folder = folder.parent if folder.parent != folder else None
        # Held for the report's life and closed by `close()`, not by a `with` block.
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=folder, prefix=".spool-")  # noqa: SIM115
        self._end = 0
        # Where each case's JSON lies, by arm and dataset index (flat arrays, not objects:
        # a run of 100,000 cases holds 100,000 of these).
        self._slots: list[dict[int, int]] = []
        self._offsets = array("q")
        self._sizes = array("q")

    def add(self, arm: int, case: CaseResult) -> CaseScores:
        """Keep `case` on disk; return what stays in memory."""
        data = case.model_dump_json(indent=1).encode("utf-8")
        self._file.seek(self._end)
        self._file.write(data)
        while len(self._slots) <= arm:
            self._slots.append({})
        self._slots[arm][case.index] = len(self._offsets)
        self._offsets.append(self._end)
        self._sizes.append(len(data))
        self._end += len(data)
        return CaseScores.of(case)

    def text(self, arm: int, index: int) -> str:
        """The case's JSON, as `CaseResult.model_dump_json(indent=1)` wrote it."""
        slot = self._slots[arm][index]
        self._file.seek(self._offsets[slot])
        return self._file.read(self._sizes[slot]).decode("utf-8")

    def case(self, arm: int, index: int) -> CaseResult:
        return CaseResult.model_validate_json(self.text(arm, index))

    def close(self) -> None:
        self._file.close()


# `report.json` is `EvalReport.model_dump_json(indent=1)`: an arm's cases are items of its
# `cases` list, four levels deep. A raw newline only ever separates tokens (one inside a
# string is escaped), so this is where the list of an arm without cases sits.
_EMPTY_CASES = '\n   "cases": []'
_CASE_INDENT = "\n    "


@dataclass
class StreamedReport:
    """An `EvalReport` whose cases are read one at a time (from a spool, or from memory).

    `header` is the report with every arm's `cases` left empty (its summaries are those of
    the whole run); `scores[i]` holds arm `i`'s `CaseScores` in dataset order.
    """

    header: EvalReport
    scores: list[list[CaseScores]]
    spool: CaseSpool | None = None
    whole: EvalReport | None = field(default=None, repr=False)  # when not spooled

    @classmethod
    def of(cls, report: EvalReport) -> StreamedReport:
        """A whole report seen through this interface (its cases stay in memory)."""
        header = report.model_copy(
            update={"arms": [arm.model_copy(update={"cases": []}) for arm in report.arms]}
        )
        scores = [[CaseScores.of(case) for case in arm.cases] for arm in report.arms]
        return cls(header=header, scores=scores, whole=report)

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
        if self.whole is not None:
            yield from self.whole.arms[position].cases
            return
        spool = self._spool()
        for scores in self.scores[position]:
            yield spool.case(position, scores.index)

    def with_gate(self, gate: GateResult | None) -> StreamedReport:
        whole = self.whole.model_copy(update={"gate": gate}) if self.whole else None
        return replace(self, header=self.header.model_copy(update={"gate": gate}), whole=whole)

    def first_arm(self) -> StreamedReport:
        """This report with its first arm only (a baseline is one arm)."""
        header = self.header.model_copy(update={"arms": self.header.arms[:1]})
        whole = self.whole.model_copy(update={"arms": self.whole.arms[:1]}) if self.whole else None
        return replace(self, header=header, scores=self.scores[:1], whole=whole)

    def load(self) -> EvalReport:
        """The whole report, every case in memory."""
        if self.whole is not None:
            return self.whole
        arms = [
            arm.model_copy(update={"cases": list(self.cases(arm.name))}) for arm in self.header.arms
        ]
        return self.header.model_copy(update={"arms": arms})

    def json_pieces(self) -> Iterator[str]:
        """`report.json`, piece by piece: the text `model_dump_json(indent=1)` of the whole
        report would be, plus a final newline, without ever holding it whole."""
        if self.whole is not None:
            yield self.whole.model_dump_json(indent=1) + "\n"
            return
        spool = self._spool()
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
                    text = spool.text(position, scores.index).replace("\n", _CASE_INDENT)
                    yield ("," if number else "") + _CASE_INDENT + text
                yield "\n   ]"
            yield rest
        yield "\n"

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()

    def _spool(self) -> CaseSpool:
        if self.spool is None:  # pragma: no cover - `of` sets `whole`, the runner a spool
            raise EvalConfigError("this report has neither its cases nor a spool")
        return self.spool


def streamed(report: EvalReport | StreamedReport) -> StreamedReport:
    """`report` through the streamed interface (a whole report keeps its cases in memory)."""
    return report if isinstance(report, StreamedReport) else StreamedReport.of(report)


def write_report_json(report: EvalReport | StreamedReport, path: Path) -> Path:
    """`report.json` (or a baseline), written atomically and never held whole."""
    atomic_write(path, streamed(report).json_pieces())
    return path

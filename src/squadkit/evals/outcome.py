"""What every `squad eval` command works on and hands back: an open report and an `Outcome`.

A command opens its report for a `with` block (`open_report`): a run's (an `EvalRun`, its
report made by `workers.run_report`, its cases in the run's spool) or a report file's; and
the suite's baseline beside it (`open_baseline`). Whoever opened them closes them when the
block ends; what outlives the block is the `Outcome`: the report's header and scores (what
the CLI prints), the files written, and for a gate its verdict and evidence. Apart from
`workflow` because the gate (`plan_gate`) and the other commands (`workflow`) share them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from ..files import display_path
from .errors import EvalConfigError
from .report import EvalReport, read_report
from .runner import EvalRun, RunOptions
from .spool import Report, read_streamed
from .workers import run_report

if TYPE_CHECKING:
    from ..settings import Settings
    from .suite import Suite, Target

__all__ = ["Outcome", "open_baseline", "open_report"]


@dataclass
class Outcome:
    """What a command produced: the report, the files written and, for a gate, evidence.

    `result` holds the report's header and every case's scores (what the commands print);
    `report` is the whole report, read back from the `report.json` (or baseline) written.
    """

    result: Report
    suite: Suite | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    evidence: Path | None = None
    notes: list[str] = field(default_factory=list)
    failure: str | None = None  # a failed (or inconclusive) gate's one-line message
    inconclusive: bool = False  # the failure is an inconclusive gate (exit 3)

    @cached_property
    def report(self) -> EvalReport:
        return read_report(self.paths.get("json") or self.paths["baseline"])


@contextmanager
def open_baseline(suite: Suite) -> Iterator[Report | None]:
    """The committed baseline, read case by case while the `with` block runs (None: none)."""
    if not suite.baseline_path.exists():
        yield None
        return
    with read_streamed(suite.baseline_path) as baseline:
        yield baseline


@contextmanager
def open_report(
    settings: Settings,
    suite: Suite,
    options: RunOptions,
    targets: list[Target],
    *,
    report_path: Path | None = None,
    workers: int = 1,
    on_shard: Callable[[str], None] = lambda _: None,
    spool_dir: Path | None = None,
) -> Iterator[Report]:
    """The report a command works on while the `with` block runs: the report at
    `report_path` (of `suite`), else a run of `targets` whose cases wait in `spool_dir`."""
    if report_path is not None:
        with read_streamed(report_path) as report:
            if report.suite != suite.name:
                raise EvalConfigError(
                    f"{display_path(report_path)}: report is of suite '{report.suite}', "
                    f"not '{suite.name}'"
                )
            yield report
        return
    with EvalRun.open(
        suite, settings=settings, options=options, targets=targets, spool_dir=spool_dir
    ) as run:
        yield run_report(run, workers=workers, on_shard=on_shard)

"""Gating an eval plan: each version a pull request changes, beside what its label serves.

`squad eval gate --plan` gates several versions of one suite from one run, where `gate`
gates one arm. It lives apart from `workflow` because it is the one command that needs
the served version's scores (from this run or from committed evidence) and the plan's
side-by-side summary; `workflow.judge` still decides each version's verdict.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..files import display_path
from ..prompts.evidence import evidence_path, read_evidence
from .errors import EvalConfigError
from .plan import EvalPlan, PlannedGate
from .render_plan import GatedVersion, ServedScores, plan_summary
from .runner import RunOptions
from .spool import Report
from .suite import Suite
from .workflow import Outcome, judge, open_baseline, open_report

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["PlanOutcome", "gate_plan"]


@dataclass
class PlanOutcome:
    """What gating a plan's versions of one suite produced; `failure` when any failed."""

    suite: Suite
    outcomes: list[Outcome]  # one per gated version, in plan order
    summary: str
    summary_path: Path
    failure: str | None = None


def gate_plan(
    settings: Settings,
    suite: Suite,
    plan: EvalPlan,
    options: RunOptions,
    out_dir: Path,
    *,
    report_path: Path | None = None,
    evidence: bool = True,
    workers: int = 1,
    on_shard: Callable[[str], None] = lambda _: None,
) -> PlanOutcome:
    """Gate every version `plan` lists for `suite`, each beside what its label serves today.

    The arms come from one run of the plan's targets (or a merged report of it, `report_path`).
    Each gated version gets its own reports in `out_dir/<suite>/<arm>/`; `out_dir/<suite>/
    summary.md` is the side-by-side view of them all, then each one's summary. Every version
    is gated even after one fails; `PlanOutcome.failure` says which failed.
    """
    planned = plan.for_suite(suite.name) or [
        PlannedGate(
            suite=suite.name, target=suite.spec.target, version=None, reasons=("suite target",)
        )
    ]
    targets = plan.targets(suite.name) or [suite.spec.target]
    gated: list[GatedVersion] = []
    outcomes: list[Outcome] = []
    with open_report(
        settings,
        suite,
        options,
        targets,
        report_path=report_path,
        workers=workers,
        on_shard=on_shard,
        spool_dir=out_dir / suite.name,
    ) as report:
        if report.header.shard is not None:
            raise EvalConfigError(
                "the gate needs a whole run, not one shard: merge the shards first"
            )
        with open_baseline(suite) as baseline:
            for entry in planned:
                one = report.only(entry.arm)
                folder = out_dir / suite.name / _folder(entry.arm)
                outcome = judge(settings, suite, one, baseline, folder, evidence=evidence)
                outcomes.append(outcome)
                gated.append(
                    GatedVersion(entry, outcome.result, _served(suite, report, entry), baseline)
                )
            summary = plan_summary(suite.name, plan.base, gated)
    (out_dir / suite.name).mkdir(parents=True, exist_ok=True)
    path = out_dir / suite.name / "summary.md"
    path.write_text(summary, encoding="utf-8")
    failures = [o.failure for o in outcomes if o.failure]
    return PlanOutcome(
        suite=suite,
        outcomes=outcomes,
        summary=summary,
        summary_path=path,
        failure=" / ".join(failures) if failures else None,
    )


def _folder(arm: str) -> str:
    return re.sub(r"[^\w.@+-]", "_", arm)


def _served(suite: Suite, report: Report, entry: PlannedGate) -> ServedScores | None:
    """The scores of the version `entry`'s label serves at the base: from this run when it
    ran that version, else from its committed evidence (what a gated label requires)."""
    against = entry.against
    if against is None or against.version is None:
        return None
    for arm in report.arms:
        if arm.prompt.name == entry.target.prompt_name() and arm.prompt.version == against.version:
            scores = {
                name: (stats.mean, stats.ci_low, stats.ci_high)
                for name, stats in arm.summary.scorers.items()
            }
            return ServedScores(version=against.version, source="this run", scores=scores)
    path = evidence_path(suite.evidence_dir, entry.target.prompt_name(), against.version)
    if not path.is_file():
        return None
    record = read_evidence(path)
    scores = {}
    for name, value in record.scores.items():
        if isinstance(value, dict) and isinstance(value.get("mean"), int | float):
            ci = value.get("ci") or [value["mean"], value["mean"]]
            scores[name] = (float(value["mean"]), float(ci[0]), float(ci[1]))
    source = f"its evidence, {display_path(path)}"
    if record.dataset_hash != report.header.dataset_hash:
        source += ", on an earlier dataset"
    return ServedScores(version=against.version, source=source, scores=scores)

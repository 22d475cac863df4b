"""The eval gate, one path for the plain gate and a plan's: each version beside its label's.

`squad eval gate --plan` gates every version a pull request adds or changes, each beside
what its label serves today; `squad eval gate` gates one arm: a plan of one entry
(`single`). Both are `gate_plan`: one report (a run of the plan's arms, or a report file)
and the committed baseline, opened for the gate's `with` block, and `judge` for each
entry: the gate's verdict on that arm, its reports, and evidence on a pass. A plan also
writes the side-by-side summary, with the served version's scores (from this run or from
committed evidence).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..files import display_path
from ..prompts import PromptRegistry
from ..prompts.evidence import evidence_path, read_evidence
from .agreement import advisory_judges
from .answered import unanswered
from .approval import apply_approval
from .errors import CallsUnanswered, EvalConfigError
from .gate import evaluate_gate, write_gate_evidence
from .outcome import Outcome, open_baseline, open_report
from .plan import EvalPlan, PlannedGate
from .render import markdown_summary, write_reports
from .render_plan import GatedVersion, ServedScores, plan_summary
from .report import GateResult, PromptInfo
from .runner import RunOptions
from .spool import Report
from .suite import Suite

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["PlanOutcome", "gate_plan", "judge"]


@dataclass
class PlanOutcome:
    """What gating a plan's versions of one suite produced; `failure` when any failed.

    `summary` is what a reader sees of it, as `summary_path` holds it: the side-by-side
    view of a plan's versions, or a single entry's summary beside the baseline.
    """

    suite: Suite
    outcomes: list[Outcome]  # one per gated version, in plan order
    summary: str
    summary_path: Path
    failure: str | None = None
    inconclusive: bool = False  # every failure is an inconclusive gate (exit 3, not 1)


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
    single: bool = False,
) -> PlanOutcome:
    """Gate every version `plan` lists for `suite`, each beside what its label serves today.

    The arms come from one run of the plan's targets (or a merged report of it, `report_path`).
    Each gated version gets its own reports in `out_dir/<suite>/<arm>/`; `out_dir/<suite>/
    summary.md` is the side-by-side view of them all, then each one's summary. Every version
    is gated even after one fails; `PlanOutcome.failure` says which failed.

    `single` is the plain gate, a plan of one entry: it gates the report's first arm (a
    report file's, whatever its name), its reports go to `out_dir/<suite>/`, and there is
    no side-by-side view (`summary` is the entry's own).
    """
    planned = plan.for_suite(suite.name) or [
        PlannedGate(
            suite=suite.name, target=suite.spec.target, version=None, reasons=("suite target",)
        )
    ]
    targets = plan.targets(suite.name) or [suite.spec.target]
    folder = out_dir / suite.name
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
        spool_dir=folder,
    ) as report:
        _require_whole(report)
        unanswered_why = unanswered(report, suite)
        if unanswered_why is not None:  # an outage is not gated, and earns no evidence
            raise CallsUnanswered(unanswered_why)
        with open_baseline(suite) as baseline:
            for entry in planned:
                one = report.only(None if single else entry.arm)
                where = folder if single else folder / _folder(entry.arm)
                outcome = judge(settings, suite, one, baseline, where, evidence=evidence)
                outcomes.append(outcome)
                served = None if single else _served(suite, report, entry)
                gated.append(GatedVersion(entry, outcome.result, served, baseline))
            if single:
                summary = markdown_summary(outcomes[0].result, baseline)  # its summary.md
            else:
                summary = _with_notes(plan_summary(suite.name, plan.base, gated), plan.notes)
    path = folder / "summary.md"
    if not single:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(summary, encoding="utf-8")
    failures = [o.failure for o in outcomes if o.failure]
    return PlanOutcome(
        suite=suite,
        outcomes=outcomes,
        summary=summary,
        summary_path=path,
        failure=" / ".join(failures) if failures else None,
        inconclusive=bool(failures) and all(o.inconclusive for o in outcomes if o.failure),
    )


def judge(
    settings: Settings,
    suite: Suite,
    report: Report,
    baseline: Report | None,
    out_dir: Path,
    *,
    evidence: bool = True,
) -> Outcome:
    """Apply the gate to the first arm of a whole report, write its views into `out_dir`;
    a pass (or an inconclusive gate a committed approval accepts) writes evidence. A fail or
    an inconclusive gate is `Outcome.failure` (the message `gate` raises); a gated suite
    without its baseline fails (`evaluate_gate`) and writes none."""
    _require_whole(report)
    notes: list[str] = []
    if baseline is not None and baseline.header.dataset_hash != report.header.dataset_hash:
        raise EvalConfigError(
            f"{display_path(suite.baseline_path)}: baseline was made on another version of "
            f"{report.header.dataset}; regenerate it with `squad eval baseline {suite.name}`"
        )
    result = evaluate_gate(
        report,
        suite.spec.gate,
        baseline,
        baseline_name=display_path(suite.baseline_path) if baseline else None,
        advisory=advisory_judges(suite, report.arm_scores()),
    )
    result, mismatch = apply_approval(result, report, suite.evals_dir / "approvals")
    if mismatch is not None:
        notes.append(mismatch)
    report = report.with_gate(result)
    paths = write_reports(report, out_dir, baseline=baseline)
    outcome = Outcome(suite=suite, result=report, paths=paths, notes=notes)
    if result.verdict == "inconclusive":
        outcome.inconclusive = True
        prompt = report.arm(result.arm).prompt
        where = f"evals/approvals/{prompt.name}/v{prompt.version}.yaml"
        outcome.failure = inconclusive_message(suite, result, paths["json"], where, mismatch)
        return outcome
    if result.verdict == "fail":
        why = list(report.notes) if result.answered_by_fallback else []
        outcome.failure = (
            f"eval gate failed for suite '{suite.name}' ({result.arm}): "
            + "; ".join([*result.reasons, *why])
            + f". Report: {display_path(paths['html'])}"
        )
        return outcome
    arm = report.arm(result.arm)
    if evidence and arm.prompt.alias != _prompt_alias(settings, report, arm.name, arm.prompt):
        notes.append("no evidence written: the run overrode the prompt's model alias")
    elif evidence:
        outcome.evidence = write_gate_evidence(
            report, result, suite=suite.name, evidence_dir=suite.evidence_dir
        )
    return outcome


def inconclusive_message(
    suite: Suite, result: GateResult, report_json: Path, approval: str, mismatch: str | None
) -> str:
    """The one line an inconclusive gate ends with: which rows, what would decide them, and
    the report hash an approval would name."""
    rows = [
        f"{c.scorer} {c.delta:+.3f} ({c.ci_low:+.3f}..{c.ci_high:+.3f}) "
        + (
            f"needs about {c.cases_to_decide} cases (now {c.n})"
            if c.cases_to_decide is not None
            else "cannot decide at any size (the change sits on the margin)"
        )
        + (f" or about {c.repeats_to_decide} repeats" if c.repeats_to_decide else "")
        for c in result.regressions
        if c.outcome == "inconclusive"
    ]
    margin = result.regressions[0].margin if result.regressions else 0.0
    return (
        f"eval gate inconclusive for suite '{suite.name}' ({result.arm}): the data show "
        f"neither that any drop is within the margin {margin:.3f} nor a drop beyond it: "
        + "; ".join(rows)
        + ". Not a pass: add cases, add repeats (--repeats), or commit a reviewed approval "
        f"naming report hash {result.report_hash} (`squad eval approve {suite.name} --report "
        f"{display_path(report_json)} --by NAME --reason WHY` writes {approval}; "
        "docs/evals.md)" + (f". {mismatch}" if mismatch else "") + "."
    )


def _with_notes(summary: str, notes: tuple[str, ...]) -> str:
    """The plan's own notes (a label no longer gated, a version no suite evaluates) under
    the summary's title, where a reviewer of the PR comment reads first."""
    if not notes:
        return summary
    title, _, rest = summary.partition("\n")
    return "\n".join([title, "", *(f"> **Note:** {note}" for note in notes), rest])


def _require_whole(report: Report) -> None:
    if report.header.shard is not None:
        raise EvalConfigError("the gate needs a whole run, not one shard: merge the shards first")


def _prompt_alias(settings: Settings, report: Report, arm: str, prompt: PromptInfo) -> str:
    """The model alias `arm`'s prompt version names (evidence is for that alias): what the
    run knew, or for a report read from a file, what the registry says."""
    known = report.prompt_aliases.get(arm)
    if known is not None:
        return known
    registry = PromptRegistry.load(settings.prompts_dir, label_overrides={})
    return registry.get(prompt.name, version=prompt.version).model


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

"""The eval plan's Markdown: each gated version beside what its label serves today.

A pull request's comment when `squad eval gate --plan` gated several versions of a suite
(`plan_gate.gate_plan` fills in `GatedVersion`s). Apart from `render` because it is a view
of several gated reports and the plan that chose them, not of one report; each version's
own summary is still `render.markdown_summary`, and the marks and numbers read the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .render import markdown_summary, score_text
from .render_gate import FAIL, INCONCLUSIVE, PASS, VERDICTS, row_mark

if TYPE_CHECKING:
    from .plan import PlannedGate
    from .report import EvalReport
    from .spool import Report

__all__ = ["GatedVersion", "ServedScores", "plan_summary"]


@dataclass(frozen=True)
class ServedScores:
    """Per-scorer (mean, CI low, CI high) of the version a label serves at the base."""

    version: int
    source: str  # "this run", or the evidence file it was read from
    scores: dict[str, tuple[float, float, float]]


@dataclass(frozen=True)
class GatedVersion:
    """One version of an eval plan after its gate: the gated report and what it replaces."""

    planned: PlannedGate
    report: EvalReport | Report  # one arm, `gate` set
    served: ServedScores | None
    baseline: EvalReport | Report | None = None


def plan_summary(suite: str, base: str | None, gated: list[GatedVersion]) -> str:
    """The PR comment's view of a plan: each gated version beside what its label serves
    today, scorer by scorer, with the gate's verdict; then each version's full summary."""
    verdicts = {g.report.gate.verdict for g in gated if g.report.gate is not None}
    overall = FAIL if "fail" in verdicts else INCONCLUSIVE if "inconclusive" in verdicts else PASS
    lines = [f"## Eval `{suite}` - gate {overall}", ""]
    if base is None:
        lines.append("Gated: the suite's target (no base to compare a change with).")
    else:
        lines.append(
            f"Gated against base `{base[:12]}`: every prompt version this change adds or "
            "changes and every version a gated label points to, each beside the version its "
            "label serves today. Each verdict is the gate's own: the suite's thresholds and "
            "its regression check against the committed baseline."
        )
    lines += ["", "| Version | Why | Beside (today) | Verdict |", "| --- | --- | --- | --- |"]
    for g in gated:
        lines.append(
            f"| `{_arm_title(g)}` | {', '.join(g.planned.reasons)} | {_beside(g)} "
            f"| {_verdict(g.report)} |"
        )
    for g in gated:
        lines += ["", *_side_by_side(g)]
    for g in gated:
        lines += [
            "",
            f"<details><summary>Full summary of <code>{_arm_title(g)}</code></summary>",
            "",
            markdown_summary(g.report, g.baseline).replace("## Eval", "### Eval", 1),
            "</details>",
        ]
    lines.append("")
    return "\n".join(lines)


def _arm_title(g: GatedVersion) -> str:
    prompt = g.report.arm().prompt
    return f"{prompt.name}@v{prompt.version}"


def _verdict(report: EvalReport | Report) -> str:
    if report.gate is None:
        return "-"
    return VERDICTS[report.gate.verdict]


def _beside(g: GatedVersion) -> str:
    against = g.planned.against
    if against is None:
        return "-"
    if against.version is None:
        return f"`{against.label}`: new label"
    return f"`{against.label}`: v{against.version}"


def _side_by_side(g: GatedVersion) -> list[str]:
    arm = g.report.arm()
    gate = g.report.gate
    against, served = g.planned.against, g.served
    title = f"### `{_arm_title(g)}` - {_verdict(g.report)}"
    if against is None or served is None:
        why = (
            "nothing to show it beside"
            if against is None
            else f"`{against.label}` served "
            + (f"v{against.version}, without evidence" if against.version else "nothing")
        )
        head = [title, "", f"Today: {why}.", ""]
    else:
        head = [
            title,
            "",
            f"Beside v{served.version}, which `{against.label}` serves today "
            f"(scores from {served.source}).",
            "",
        ]
    old = f"v{served.version} ({against.label} today)" if served and against else "today"
    lines = [
        *head,
        f"| Scorer | {old} | v{arm.prompt.version} | Delta | Gate |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    thresholds = {t.scorer: t for t in gate.thresholds} if gate else {}
    regressions = {r.scorer: r for r in gate.regressions} if gate else {}
    for name, stats in arm.summary.scorers.items():
        before = served.scores.get(name) if served else None
        was = (
            f"{score_text(before[0])} ({score_text(before[1])}..{score_text(before[2])})"
            if before
            else "-"
        )
        now = f"{score_text(stats.mean)} ({score_text(stats.ci_low)}..{score_text(stats.ci_high)})"
        delta = f"{stats.mean - before[0]:+.3f}" if before else "-"
        mark = row_mark(
            thresholds.get(name),
            regressions.get(name),
            advisory=bool(gate and name in gate.advisory),
        )
        lines.append(f"| {name} | {was} | {now} | {delta} | {mark} |")
    if gate and gate.reasons:
        lines += ["", *(f"- {reason}" for reason in gate.reasons)]
    if gate and gate.approval is not None:
        lines += [
            "",
            f"- Inconclusive, accepted by the approval `{gate.approval.file}` (approved by "
            f"{gate.approval.approved_by}: {gate.approval.reason}; report hash "
            f"`{gate.report_hash}`)",
        ]
    elif gate and gate.verdict == "inconclusive":
        lines += ["", *(f"- {c.decision}" for c in gate.regressions if c.outcome == "inconclusive")]
        lines.append(
            f"- Not a pass: add cases or repeats, or commit a reviewed approval naming report "
            f"hash `{gate.report_hash}` (docs/evals.md)"
        )
    return lines

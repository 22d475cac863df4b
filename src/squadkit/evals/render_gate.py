"""How every view names the gate's verdict and a gated scorer's outcome, in words.

Apart from `render` (the views themselves) so the summary, the plan's side-by-side view
and the HTML page read the three outcomes (`gate`) one way: a mark per row, a sentence on
what the row's sample can decide, and what an inconclusive gate says before its numbers.
"""

from __future__ import annotations

from .report import GateResult, RegressionCheck, ThresholdCheck

__all__ = [
    "ADVISORY",
    "FAIL",
    "INCONCLUSIVE",
    "PASS",
    "VERDICTS",
    "advisory_lines",
    "inconclusive_lines",
    "row_mark",
    "sample_text",
]

PASS, FAIL = "PASS", "FAIL"  # a check's mark in every Markdown view
INCONCLUSIVE = "INCONCLUSIVE"  # neither shown: not a pass (`gate`)
ADVISORY = "ADVISORY"  # a judge people have not shown to agree with: shown, not gating
VERDICTS = {
    "pass": PASS,
    "fail": FAIL,
    "inconclusive": INCONCLUSIVE,
    "pass-with-approval": "PASS (approved)",
}
"""How every view names a gate's verdict."""


def row_mark(
    threshold: ThresholdCheck | None, check: RegressionCheck | None, *, advisory: bool = False
) -> str:
    """A gated scorer's mark: FAIL (a missed threshold or a drop shown), INCONCLUSIVE, PASS,
    ADVISORY for a judge whose rows do not gate (`agreement`), or nothing for a scorer the
    gate does not read."""
    if advisory:
        return ADVISORY
    if (threshold is not None and not threshold.passed) or (check and check.outcome == "fail"):
        return FAIL
    if check is not None and check.outcome == "inconclusive":
        return INCONCLUSIVE
    return PASS if threshold or check else ""


def sample_text(check: RegressionCheck) -> str:
    """What a row's sample can and cannot decide: the smallest drop it rules out and about
    how many cases (and repeats) would decide at the margin. Empty for a report written
    before these were recorded."""
    if check.rules_out is None or check.delta_sd is None:
        return ""
    ruled = (
        "rules out any drop"
        if check.rules_out <= 0
        else f"rules out drops beyond {check.rules_out:.3f}"
    )
    if check.cases_to_decide is None:
        needed = "cannot decide at any size (the change sits on the margin)"
    else:
        needed = f"about {check.cases_to_decide} case(s) decide at margin {check.margin:.3f}"
    if check.repeats_to_decide is not None:
        needed += f" (or about {check.repeats_to_decide} repeats)"
    if check.outcome == "inconclusive" and check.repeats_to_decide is None:
        return f"this sample ({check.n} cases) {ruled}"  # its decision names the cases
    return f"this sample ({check.n} cases) {ruled}; {needed}"


def inconclusive_lines(gate: GateResult) -> list[str]:
    """What an inconclusive gate (or one accepted by approval) says before the numbers."""
    rows = [c.decision for c in gate.regressions if c.outcome == "inconclusive"]
    if gate.approval is not None:
        head = [
            f"**Inconclusive, accepted by approval** `{gate.approval.file}` "
            f"(approved by {gate.approval.approved_by}: {gate.approval.reason})",
        ]
    else:
        head = [
            "**Why the gate is inconclusive (not a pass)**",
            "",
            *(f"- {row}" for row in rows),
            "",
            "Ways forward: more cases, more repeats, or a reviewed approval committed as "
            "`evals/approvals/<prompt>/v<N>.yaml` naming this report hash "
            "(`squad eval approve`, docs/evals.md).",
        ]
    return [*head, "", f"Report hash `{gate.report_hash}`.", ""]


def advisory_lines(gate: GateResult | None) -> list[str]:
    """Which judges did not gate, and why: their agreement with people falls short."""
    if gate is None or not gate.advisory:
        return []
    return [
        "**Advisory judges (shown, not gating)**",
        "",
        *(f"- {scorer}: {why}" for scorer, why in sorted(gate.advisory.items())),
        "",
    ]

"""The JUnit XML view of an `EvalReport`: one testcase per case x scorer, and the gate's checks.

CI systems show it as test results. Apart from `render` because it is written piece by
piece as `ElementTree.indent` would lay out the whole tree, which takes its own helpers;
`render.write_reports` writes it beside the other views.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from .spool import as_report
from .stats import mean

if TYPE_CHECKING:
    from .report import CaseResult, EvalReport, GateResult
    from .spool import Report

__all__ = ["junit_pieces", "junit_xml"]


def junit_xml(report: EvalReport | Report) -> str:
    """One `<testcase>` per case x scorer (failure below the scorer's pass_score)."""
    return "".join(junit_pieces(report))


_JUNIT_INDENT = "  "


def junit_pieces(report: EvalReport | Report) -> Iterator[str]:
    """`junit_xml`, piece by piece: the totals come from the scores, then case by case.

    The text is what `ElementTree.indent` gives the whole tree: one element a line, two
    spaces a level.
    """
    run = as_report(report)
    header = run.header
    pass_scores = {info.name: info.pass_score for info in header.scorers}
    suites: list[tuple[ET.Element, list[ET.Element] | None]] = []
    total = failures = 0
    for position, arm in enumerate(header.arms):
        cases = run.scores[position]
        count = len(cases) * len(header.scorers)
        arm_failures = sum(
            1
            for c in cases
            for scorer, value in c.scores.items()
            if value < pass_scores.get(scorer, 0.5)
        )
        suite = ET.Element("testsuite", name=f"{header.suite}[{arm.name}]")
        suite.set("tests", str(count))
        suite.set("failures", str(arm_failures))
        suites.append((suite, None))
        total += count
        failures += arm_failures
    if header.gate is not None:
        gate_suite, checks = _gate_suite(header.suite, header.gate)
        suites.append((gate_suite, checks))
        total += int(gate_suite.get("tests", "0"))
        failures += int(gate_suite.get("failures", "0"))
    root = ET.Element("testsuites", name=f"eval {header.suite}")
    root.set("tests", str(total))
    root.set("failures", str(failures))
    yield '<?xml version="1.0" encoding="UTF-8"?>\n' + _open_tag(root)
    for position, (suite, children) in enumerate(suites):
        elements = (
            children
            if children is not None
            else (
                element
                for case in run.cases(header.arms[position].name)
                for element in _junit_cases(header.suite, case, pass_scores)
            )
        )
        yield from _element_lines(suite, elements)
    yield "\n</testsuites>\n"


def _junit_cases(
    suite: str, case: CaseResult, pass_scores: dict[str, float]
) -> Iterator[ET.Element]:
    for scorer, value in case.scores.items():
        testcase = ET.Element(
            "testcase",
            classname=f"{suite}.{scorer}",
            name=case.id,
            time=f"{mean([a.latency_s for a in case.attempts]):.3f}",
        )
        if value < pass_scores.get(scorer, 0.5):
            reason = case.attempts[0].scores[scorer].reason
            failure = ET.SubElement(testcase, "failure", message=f"{scorer}={value:.3f}: {reason}")
            failure.text = json.dumps(case.attempts[0].output, ensure_ascii=False)
        yield testcase


def _gate_suite(suite: str, gate: GateResult) -> tuple[ET.Element, list[ET.Element]]:
    """The gate's checks as a testsuite of their own; an advisory judge's are skipped (they
    do not gate), with the reason."""
    gate_suite = ET.Element("testsuite", name=f"{suite}[gate]")
    cases: list[ET.Element] = []
    gate_failures = 0
    for threshold in gate.thresholds:
        testcase = ET.Element(
            "testcase", classname=f"{suite}.gate", name=f"threshold {threshold.scorer}"
        )
        if threshold.scorer in gate.advisory:
            ET.SubElement(testcase, "skipped", message=gate.advisory[threshold.scorer])
        elif not threshold.passed:
            gate_failures += 1
            ET.SubElement(
                testcase,
                "failure",
                message=f"mean {threshold.mean:.3f} < {threshold.threshold:.3f}",
            )
        cases.append(testcase)
    for check in gate.regressions:
        testcase = ET.Element(
            "testcase", classname=f"{suite}.gate", name=f"regression {check.scorer}"
        )
        if check.scorer in gate.advisory:
            ET.SubElement(testcase, "skipped", message=gate.advisory[check.scorer])
        elif check.outcome in ("fail", "inconclusive"):  # an inconclusive row is not a pass
            gate_failures += 1
            prefix = "inconclusive: " if check.outcome == "inconclusive" else ""
            ET.SubElement(
                testcase,
                "failure",
                message=f"{prefix}delta {check.delta:+.3f} "
                f"({check.ci_low:+.3f}..{check.ci_high:+.3f})",
            )
        cases.append(testcase)
    gate_suite.set("tests", str(len(cases)))
    gate_suite.set("failures", str(gate_failures))
    skipped = sum(1 for case in cases if case.find("skipped") is not None)
    if skipped:
        gate_suite.set("skipped", str(skipped))
    return gate_suite, cases


def _open_tag(element: ET.Element) -> str:
    closing = f"</{element.tag}>"
    return ET.tostring(element, encoding="unicode", short_empty_elements=False)[: -len(closing)]


def _element_lines(suite: ET.Element, children: Iterable[ET.Element]) -> Iterator[str]:
    """A testsuite at level 1 and its children at level 2, as `ElementTree.indent` lays
    them out (an empty one is a self-closing tag)."""
    opened = False
    for child in children:
        if not opened:
            yield f"\n{_JUNIT_INDENT}{_open_tag(suite)}"
            opened = True
        ET.indent(child, space=_JUNIT_INDENT, level=2)
        yield f"\n{_JUNIT_INDENT * 2}" + ET.tostring(child, encoding="unicode")
    if opened:
        yield f"\n{_JUNIT_INDENT}</{suite.tag}>"
    else:
        yield f"\n{_JUNIT_INDENT}" + ET.tostring(suite, encoding="unicode")

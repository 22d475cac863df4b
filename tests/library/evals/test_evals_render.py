"""The HTML report shows what a model answered as text: nothing in an answer becomes markup."""

from __future__ import annotations

from squadkit.evals import EvalReport, html_page, read_report
from tests.library.evals.evalkit import SQUAD

ATTACK = "<script>alert('pwned')</script><img src=x onerror=alert(1)>"


def with_first_answer(report: EvalReport, text: str) -> EvalReport:
    """`report` with its first case answered `text` (not JSON, as a hostile model might)."""
    arm = report.arms[0]
    case = arm.cases[0]
    attempt = case.attempts[0].model_copy(update={"text": text, "output": None})
    case = case.model_copy(update={"attempts": [attempt, *case.attempts[1:]]})
    arm = arm.model_copy(update={"cases": [case, *arm.cases[1:]]})
    return report.model_copy(update={"arms": [arm, *report.arms[1:]]})


def test_an_answer_containing_a_script_is_escaped_in_the_html_report() -> None:
    baseline = read_report(SQUAD / "evals" / "baselines" / "triage.json")
    report = with_first_answer(baseline, ATTACK)

    page = html_page(report, baseline)

    assert "<script>alert" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(" in page
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<script>") == 1  # the page's own filter script, nothing else

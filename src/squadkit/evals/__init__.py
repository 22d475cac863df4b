"""Evaluations: suites of labelled cases, scorers, a cached runner, reports and the CI gate.

    suite = load_suite(settings.evals_dir / "triage.yaml")
    report = await run_suite(suite, settings=settings, options=RunOptions(mode="replay"))
    verdict = evaluate_gate(report, suite.spec.gate, read_report(suite.baseline_path))

A run is one `runner.EvalRun` (a context manager owning its spool and recordings cache);
`async with runner.stream_suite(...) as report` is `run_suite` for large datasets: the
dataset is read as the cases run, each finished case waits on disk and memory keeps its
scores (`spool.Report`, the one report type the gate and the views read, whole or
streamed; `with spool.read_streamed(path)` reads a baseline that way).

The `squad eval` commands (run, gate, baseline, compare, merge) are thin shells over
`workflow`; `agreement` checks each `llm_judge` against people's labels (`judge-agreement`).
Replaying recordings never imports litellm.
"""

# The surface is `_LAZY` below, imported on first use (PEP 562) so that `squad prompts
# check`'s cached path (`squadkit.evals.verify`) pays for none of the runner, scorers and
# reports. The same names are imported under TYPE_CHECKING for mypy and editors, which
# cannot read a computed `__all__`; hence the two directives (the imports are the
# re-exports) and `tests/library/evals/test_evals_surface.py`, which keeps both lists equal.
# mypy: implicit-reexport
# ruff: noqa: F401

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .agreement import Agreement, judge_agreement
    from .cache import RecordedResponse, ResponseCache, request_key
    from .dataset import Case, Provenance, load_dataset
    from .errors import EvalConfigError, GateFailed, ReplayMiss
    from .gate import evaluate_gate
    from .render import html_page
    from .render_junit import junit_xml
    from .report import EvalReport, read_report
    from .runner import RunOptions, run_suite
    from .scorers import ScorerSpec
    from .scorers.base import Score, ScoreContext
    from .suite import Suite, Target, load_suite
    from .summary import merge_reports

_LAZY = {  # name -> the submodule that defines it
    "Agreement": "agreement",
    "judge_agreement": "agreement",
    "RecordedResponse": "cache",
    "ResponseCache": "cache",
    "request_key": "cache",
    "Case": "dataset",
    "load_dataset": "dataset",
    "Provenance": "dataset",
    "EvalConfigError": "errors",
    "GateFailed": "errors",
    "ReplayMiss": "errors",
    "evaluate_gate": "gate",
    "html_page": "render",
    "junit_xml": "render_junit",
    "EvalReport": "report",
    "merge_reports": "summary",
    "read_report": "report",
    "RunOptions": "runner",
    "run_suite": "runner",
    "ScorerSpec": "scorers",
    "Score": "scorers.base",
    "ScoreContext": "scorers.base",
    "Suite": "suite",
    "Target": "suite",
    "load_suite": "suite",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)

"""Evaluations: suites of labelled cases, scorers, a cached runner, reports and the CI gate.

    suite = load_suite(settings.evals_dir / "triage.yaml")
    report = await run_suite(suite, settings=settings, options=RunOptions(mode="replay"))
    verdict = evaluate_gate(report, suite.spec.gate, read_report(suite.baseline_path))

`stream_suite` is `run_suite` for large datasets: the dataset is read as the cases run,
each finished case waits on disk and memory keeps its scores (`StreamedReport`, which
the gate and the views read like a report; `read_streamed` reads a baseline that way).

The `squad eval` commands (run, gate, baseline, compare, merge) are thin shells over
`workflow`. Replaying recordings never imports litellm.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cache import RecordedResponse, ResponseCache, request_key
    from .dataset import Case, Dataset, DatasetInfo, iter_cases, load_dataset, scan_dataset
    from .errors import EvalConfigError, GateFailed, RefreshIncomplete, ReplayMiss, ShardFailed
    from .gate import compare_arms, evaluate_gate, write_gate_evidence
    from .render import html_page, markdown_summary, write_reports
    from .render_junit import junit_xml
    from .report import (
        REPORT_SCHEMA_VERSION,
        ArmResult,
        CaseResult,
        CaseScores,
        EvalReport,
        GateResult,
        merge_reports,
        read_report,
        summarize,
    )
    from .runner import MODES, RunOptions, parse_shard, run_suite, stream_suite
    from .scorers import JUDGE_OUTPUT_SCHEMA, Score, ScoreContext, ScorerSpec
    from .spool import StreamedReport, read_streamed
    from .stats import holm, paired_bootstrap, wilson
    from .suite import Gate, Regression, Suite, SuiteSpec, Target, load_suite

# Name -> submodule. Imported on first use (PEP 562), so `squadkit.evals.verify`'s cache
# lookup in `squad prompts check` does not pay for the runner, scorers and reports.
_EXPORTS = {
    "CaseScores": "report",
    "DatasetInfo": "dataset",
    "StreamedReport": "spool",
    "iter_cases": "dataset",
    "read_streamed": "spool",
    "scan_dataset": "dataset",
    "stream_suite": "runner",
    "ArmResult": "report",
    "Case": "dataset",
    "CaseResult": "report",
    "Dataset": "dataset",
    "EvalConfigError": "errors",
    "EvalReport": "report",
    "Gate": "suite",
    "GateFailed": "errors",
    "RefreshIncomplete": "errors",
    "GateResult": "report",
    "JUDGE_OUTPUT_SCHEMA": "scorers",
    "MODES": "runner",
    "REPORT_SCHEMA_VERSION": "report",
    "RecordedResponse": "cache",
    "Regression": "suite",
    "ReplayMiss": "errors",
    "ResponseCache": "cache",
    "RunOptions": "runner",
    "Score": "scorers",
    "ScoreContext": "scorers",
    "ScorerSpec": "scorers",
    "ShardFailed": "errors",
    "Suite": "suite",
    "SuiteSpec": "suite",
    "Target": "suite",
    "compare_arms": "gate",
    "evaluate_gate": "gate",
    "holm": "stats",
    "html_page": "render",
    "junit_xml": "render_junit",
    "load_dataset": "dataset",
    "load_suite": "suite",
    "markdown_summary": "render",
    "merge_reports": "report",
    "paired_bootstrap": "stats",
    "parse_shard": "runner",
    "read_report": "report",
    "request_key": "cache",
    "run_suite": "runner",
    "summarize": "report",
    "wilson": "stats",
    "write_gate_evidence": "gate",
    "write_reports": "render",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "JUDGE_OUTPUT_SCHEMA",
    "MODES",
    "REPORT_SCHEMA_VERSION",
    "ArmResult",
    "Case",
    "CaseResult",
    "CaseScores",
    "Dataset",
    "DatasetInfo",
    "EvalConfigError",
    "EvalReport",
    "Gate",
    "GateFailed",
    "GateResult",
    "RecordedResponse",
    "RefreshIncomplete",
    "Regression",
    "ReplayMiss",
    "ResponseCache",
    "RunOptions",
    "Score",
    "ScoreContext",
    "ScorerSpec",
    "ShardFailed",
    "StreamedReport",
    "Suite",
    "SuiteSpec",
    "Target",
    "compare_arms",
    "evaluate_gate",
    "holm",
    "html_page",
    "iter_cases",
    "junit_xml",
    "load_dataset",
    "load_suite",
    "markdown_summary",
    "merge_reports",
    "paired_bootstrap",
    "parse_shard",
    "read_report",
    "read_streamed",
    "request_key",
    "run_suite",
    "scan_dataset",
    "stream_suite",
    "summarize",
    "wilson",
    "write_gate_evidence",
    "write_reports",
]

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

from .cache import RecordedResponse, ResponseCache, request_key
from .dataset import Case, Dataset, DatasetInfo, iter_cases, load_dataset, scan_dataset
from .errors import EvalConfigError, GateFailed, ReplayMiss, ShardFailed
from .gate import compare_arms, evaluate_gate, write_gate_evidence
from .render import html_page, junit_xml, markdown_summary, write_reports
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

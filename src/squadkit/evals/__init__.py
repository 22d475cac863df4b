"""Evaluations: suites of labelled cases, scorers, a cached runner, reports and the CI gate.

    suite = load_suite(settings.evals_dir / "triage.yaml")
    report = await run_suite(suite, settings=settings, options=RunOptions(mode="replay"))
    verdict = evaluate_gate(report, suite.spec.gate, read_report(suite.baseline_path))

The `squad eval` commands (run, gate, baseline, compare, merge) are thin shells over
`workflow`. Replaying recordings never imports litellm.
"""

from .cache import RecordedResponse, ResponseCache, request_key
from .dataset import Case, Dataset, load_dataset
from .errors import EvalConfigError, GateFailed, ReplayMiss, ShardFailed
from .gate import compare_arms, evaluate_gate, write_gate_evidence
from .render import html_page, junit_xml, markdown_summary, write_reports
from .report import (
    REPORT_SCHEMA_VERSION,
    ArmResult,
    CaseResult,
    EvalReport,
    GateResult,
    merge_reports,
    read_report,
    summarize,
)
from .runner import MODES, RunOptions, parse_shard, run_suite
from .scorers import JUDGE_OUTPUT_SCHEMA, Score, ScoreContext, ScorerSpec
from .stats import holm, paired_bootstrap, wilson
from .suite import Gate, Regression, Suite, SuiteSpec, Target, load_suite

__all__ = [
    "JUDGE_OUTPUT_SCHEMA",
    "MODES",
    "REPORT_SCHEMA_VERSION",
    "ArmResult",
    "Case",
    "CaseResult",
    "Dataset",
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
    "Suite",
    "SuiteSpec",
    "Target",
    "compare_arms",
    "evaluate_gate",
    "holm",
    "html_page",
    "junit_xml",
    "load_dataset",
    "load_suite",
    "markdown_summary",
    "merge_reports",
    "paired_bootstrap",
    "parse_shard",
    "read_report",
    "request_key",
    "run_suite",
    "summarize",
    "wilson",
    "write_gate_evidence",
    "write_reports",
]

"""The runner, reports and gate on the fixture squad's suite, replayed from its recordings."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from squadkit.evals import (
    EvalConfigError,
    EvalReport,
    ReplayMiss,
    RunOptions,
    load_suite,
    merge_reports,
    read_report,
    run_suite,
    workflow,
)
from squadkit.evals.report import write_json
from squadkit.prompts import read_evidence
from squadkit.settings import Settings
from tests.library.evals.evalkit import drop_recordings


def replay(settings: Settings, *, shard: tuple[int, int] | None = None) -> EvalReport:
    suite = load_suite(settings.evals_dir / "triage.yaml")
    return asyncio.run(
        run_suite(
            suite, settings=settings, options=RunOptions(mode="replay", shard=shard, progress=False)
        )
    )


def test_replay_reproduces_the_committed_baseline(settings: Settings) -> None:
    report = replay(settings)
    baseline = read_report(settings.evals_dir / "baselines" / "triage.json")
    assert report.arm().cases == baseline.arm().cases
    assert report.arm().summary == baseline.arm().summary


def test_replay_with_a_missing_recording_names_the_case(settings: Settings) -> None:
    recordings = settings.evals_dir / "recordings" / "triage.jsonl"
    drop_recordings(recordings, case="ticket-041", alias="triage")
    with pytest.raises(
        ReplayMiss, match="case 'ticket-041': no recording for model alias 'triage'"
    ):
        replay(settings)


def test_refresh_with_nothing_changed_leaves_evals_untouched(
    settings: Settings, tmp_path: Path
) -> None:
    """The fixture's recordings, baseline and evidence come from an earlier `squad eval refresh`
    in another process: recording every answer again changes no file (a recording differing
    only in latency is kept; the baseline and the evidence but for their dates)."""

    def snapshot() -> dict[str, bytes]:
        root = settings.evals_dir
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    before = snapshot()
    suite = load_suite(settings.evals_dir / "triage.yaml")

    outcomes = workflow.refresh(settings, suite, tmp_path / "again")  # GateFailed if not

    assert all(outcome.evidence is not None for outcome in outcomes)  # every arm passed
    after = snapshot()
    changed = sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
    assert changed == [], (
        "refresh rewrote these files; if the offline models or the prompts changed on purpose, "
        "regenerate the fixture squad's evals (see tests/library/squad/__init__.py)"
    )


def test_shards_merged_equal_an_unsharded_run(settings: Settings) -> None:
    whole = replay(settings)
    shards = [replay(settings, shard=(i, 3)) for i in (1, 2, 3)]
    assert sum(len(s.arm().cases) for s in shards) == len(whole.arm().cases)
    merged = merge_reports(shards)
    assert merged.arm().cases == whole.arm().cases
    assert merged.arm().summary == whole.arm().summary
    assert merged.arm().models == whole.arm().models


def test_reports_validate_against_their_schema(settings: Settings, tmp_path: Path) -> None:
    suite = load_suite(settings.evals_dir / "triage.yaml")
    outcome = workflow.gate(
        settings, suite, RunOptions(mode="replay", progress=False), [suite.spec.target], tmp_path
    )
    paths = outcome.paths
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    jsonschema.validate(data, EvalReport.model_json_schema())
    assert data["schema_version"] == 1
    assert data["arms"][0]["prompt"]["hash"].startswith("sha256:")
    junit = ET.parse(paths["junit"]).getroot()  # noqa: S314 - our own file
    cases = len(data["arms"][0]["cases"])
    scorers = len(data["scorers"])
    testsuite = junit.find("testsuite")
    assert testsuite is not None
    assert testsuite.get("tests") == str(cases * scorers)
    summary = paths["markdown"].read_text(encoding="utf-8")
    assert "gate PASS" in summary
    assert "| queue |" in summary
    page = paths["html"].read_text(encoding="utf-8")
    assert page.count("<tr data-fails=") == cases
    assert "<script src" not in page  # self-contained


def test_passing_gate_writes_evidence_matching_the_committed_one(
    settings: Settings, tmp_path: Path
) -> None:
    suite = load_suite(settings.evals_dir / "triage.yaml")
    evidence = settings.evals_dir / "evidence" / "triage" / "v1.json"
    committed = read_evidence(evidence)
    evidence.unlink()
    outcome = workflow.gate(
        settings, suite, RunOptions(mode="replay", progress=False), [suite.spec.target], tmp_path
    )
    assert outcome.evidence == evidence
    written = read_evidence(evidence)
    assert written.model_dump(exclude={"created_at"}) == committed.model_dump(
        exclude={"created_at"}
    )
    assert written.models == {"triage": ["local/triage-rules-v1"]}  # the cases under test
    assert written.judges == {"judge": ["local/judge-heuristic-v1"]}


def test_gate_refuses_a_baseline_of_another_dataset_version(
    settings: Settings, tmp_path: Path
) -> None:
    baseline_path = settings.evals_dir / "baselines" / "triage.json"
    baseline = read_report(baseline_path)
    write_json(baseline.model_copy(update={"dataset_hash": "sha256:" + "0" * 64}), baseline_path)
    suite = load_suite(settings.evals_dir / "triage.yaml")
    with pytest.raises(EvalConfigError, match="baseline was made on another version"):
        workflow.gate(
            settings,
            suite,
            RunOptions(mode="replay", progress=False),
            [suite.spec.target],
            tmp_path,
        )


def test_compare_prints_deltas_with_intervals(settings: Settings, tmp_path: Path) -> None:
    baseline = settings.evals_dir / "baselines" / "triage.json"
    copy = tmp_path / "new.json"
    shutil.copy(baseline, copy)
    text = workflow.compare(baseline, copy)
    assert "| queue |" in text
    assert "+0.000" in text

"""A large run is streamed: the dataset read as it runs, recordings read on demand, cases
spooled to disk, every report written case by case; what it writes is what a whole report
would have written. (How little memory that takes is `benchmarks/run.py`'s figure.)"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import yaml

from squadkit.evals import (
    RecordedResponse,
    ResponseCache,
    RunOptions,
    evaluate_gate,
    junit_xml,
    load_suite,
    read_report,
    request_key,
)
from squadkit.evals.render import html_page, markdown_summary
from squadkit.evals.runner import stream_suite
from squadkit.evals.spool import CaseFile, CaseList, Report, read_streamed
from squadkit.gateway import load_models_config
from squadkit.prompts import PromptRegistry
from squadkit.settings import Settings
from tests.library.squad import COMMAND

CASES = 20_000
SCORERS = [
    {"name": "schema", "type": "json_schema"},
    {"name": "queue", "type": "json_field", "path": "queue", "expected_field": "queue"},
    {"name": "priority", "type": "json_field", "path": "priority", "expected_field": "priority"},
]


def bulk_suite(repo: Path, cases: int) -> list[dict[str, Any]]:
    """A `bulk` suite in `repo`: `cases` distinct tickets (the fixture's, numbered) on the
    bare triage prompt, each with one recorded answer: the expected queue, priority normal."""
    source = (repo / "evals" / "datasets" / "triage.jsonl").read_text(encoding="utf-8")
    tickets = [json.loads(line) for line in source.splitlines()]
    written = []
    with (repo / "evals" / "datasets" / "bulk.jsonl").open("w", encoding="utf-8") as out:
        for i in range(cases):
            case = json.loads(json.dumps(tickets[i % len(tickets)]))
            case["id"] = f"bulk-{i:06d}"
            case["inputs"]["subject"] = f"{case['inputs']['subject']} #{i}"  # distinct requests
            out.write(json.dumps(case) + "\n")
            written.append(case)
    suite = {
        "name": "bulk",
        "target": {"prompt": "triage", "label": "production"},
        "dataset": "datasets/bulk.jsonl",
        "concurrency": 32,
        "scorers": SCORERS,
        "gate": {"thresholds": {"queue": 0.99}, "regression": None},
    }
    (repo / "evals" / "bulk.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    settings = Settings(root=repo)
    version = PromptRegistry.load(settings.prompts_dir, label_overrides={}).get("triage")
    chain = load_models_config(settings.models_file).deployment_chain(version.model)
    cache = ResponseCache(repo / "evals" / "recordings" / "bulk.jsonl")
    for case in written:
        rendered = version.render(case["inputs"])
        key = request_key(
            alias=rendered.model,
            chain=chain,
            messages=rendered.messages,
            params=rendered.params,
            output_schema=rendered.output_schema,
        )
        output = {
            "queue": case["expected"]["queue"],
            "priority": "normal",
            "rationale": "As asked.",
        }
        answer = RecordedResponse(
            text=json.dumps(output), output=output, alias=rendered.model, deployment=chain[0]
        )
        cache.put(key, {"case": case["id"]}, answer)
    cache.flush()
    return written


def squad(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, "eval", *args], cwd=repo, capture_output=True, text=True, check=False
    )


def test_twenty_thousand_replayed_cases_stream_into_complete_reports(repo: Path) -> None:
    cases = bulk_suite(repo, CASES)

    ran = squad(repo, "run", "bulk", "--mode", "replay", "--out", "out")

    assert ran.returncode == 0, ran.stderr
    report = read_report(repo / "out" / "bulk" / "report.json")
    arm = report.arm()
    assert [c.id for c in arm.cases] == [c["id"] for c in cases]  # every case, in file order
    assert [c.index for c in arm.cases] == list(range(CASES))
    normal = sum(1 for c in cases if c["expected"]["priority"] == "normal")
    assert arm.summary.cases == CASES
    assert arm.summary.scorers["queue"].passed == CASES
    assert arm.summary.scorers["priority"].passed == normal
    assert arm.cases[-1].inputs["subject"].endswith(f"#{CASES - 1}")
    assert arm.cases[-1].attempts[0].output == {
        "queue": cases[-1]["expected"]["queue"],
        "priority": "normal",
        "rationale": "As asked.",
    }
    junit = ET.parse(repo / "out" / "bulk" / "junit.xml").getroot()  # noqa: S314 - our own file
    assert junit.get("tests") == str(CASES * len(SCORERS))
    assert junit.get("failures") == str(CASES - normal)
    html = (repo / "out" / "bulk" / "report.html").read_text(encoding="utf-8")
    assert html.count("<tr data-fails=") == CASES
    assert not list((repo / "out" / "bulk").glob(".spool*"))  # the spool left nothing behind

    shard = squad(repo, "run", "bulk", "--shard", "2/3", "--out", "shard")
    assert shard.returncode == 0, shard.stderr
    shard_report = read_report(repo / "shard" / "shard-2-of-3" / "bulk" / "report.json")
    indexes = [c.index for c in shard_report.arm().cases]
    assert indexes == list(range(1, CASES, 3))  # selected by index as the file is read


def test_a_duplicate_id_on_the_last_line_fails_before_any_case_runs(repo: Path) -> None:
    cases = bulk_suite(repo, 200)
    with (repo / "evals" / "datasets" / "bulk.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(cases[3]) + "\n")

    ran = squad(repo, "run", "bulk", "--mode", "replay", "--out", "out")

    assert ran.returncode == 2
    assert "bulk.jsonl:201: duplicate case id 'bulk-000003' (first on line 4)" in ran.stderr
    assert not (repo / "out").exists()


def test_streamed_views_are_those_of_the_whole_report(settings: Settings) -> None:
    suite = load_suite(settings.evals_dir / "triage.yaml")
    baseline = read_report(suite.baseline_path)
    options = RunOptions(mode="replay", progress=False)

    async def run() -> None:
        targets = list(suite.spec.matrix)
        async with stream_suite(suite, settings=settings, options=options, targets=targets) as ran:
            whole = ran.load()
            gate = evaluate_gate(whole, suite.spec.gate, baseline)
            assert evaluate_gate(ran, suite.spec.gate, baseline) == gate
            streamed, whole = ran.with_gate(gate), whole.model_copy(update={"gate": gate})
            assert "".join(streamed.json_pieces()) == whole.model_dump_json(indent=1) + "\n"
            assert junit_xml(streamed) == _tree_junit(junit_xml(whole))
            assert html_page(streamed, baseline) == html_page(whole, baseline)
            assert markdown_summary(streamed, baseline) == markdown_summary(whole, baseline)
            in_memory = Report.of(whole)
            assert "".join(in_memory.json_pieces()) == "".join(streamed.json_pieces())

    asyncio.run(run())


def _tree_junit(text: str) -> str:
    """JUnit XML laid out by ElementTree itself (what the views wrote before they streamed)."""
    root = ET.fromstring(text.split("\n", 1)[1])  # noqa: S314 - our own output
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def test_a_baseline_is_read_case_by_case_as_it_was_written(settings: Settings) -> None:
    path = settings.evals_dir / "baselines" / "triage.json"
    with read_streamed(path) as baseline:
        assert isinstance(baseline.source, CaseFile)  # its cases stay in the file until read
        assert baseline.load() == read_report(path)
        assert "".join(baseline.json_pieces()) == path.read_text(encoding="utf-8")
        first = read_report(path).arm().cases[7]
        assert baseline.finder()(first.id) == first
        assert baseline.finder()("no-such-case") is None


def test_a_baseline_in_another_layout_is_read_whole(settings: Settings, tmp_path: Path) -> None:
    whole = read_report(settings.evals_dir / "baselines" / "triage.json")
    compact = tmp_path / "compact.json"
    compact.write_text(whole.model_dump_json(), encoding="utf-8")  # one line, no indent

    with read_streamed(compact) as baseline:
        assert isinstance(baseline.source, CaseList)
        assert baseline.load() == whole
        assert [c.id for c in baseline.arm_scores()] == [c.id for c in whole.arm().cases]

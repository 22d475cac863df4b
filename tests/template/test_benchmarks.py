"""`make bench` works end to end at a small scale.

The harness (`benchmarks/run.py`) renders the template, runs the library's benchmark scripts
(`benchmarks/library/`) against the rendered repo and reads the figures they print. Speeds
are not asserted here (they are the benchmark's business); what is asserted is that every
figure of a section was read and judged, so a change to a script's output or to the
harness's parsing fails here, not in the next full run.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def load_harness() -> ModuleType:
    """A fresh copy of the harness module: its figures and notes are module-level lists."""
    spec = importlib.util.spec_from_file_location("bench_harness", HARNESS)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve their annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bench() -> Iterator[ModuleType]:
    try:
        yield load_harness()
    finally:
        sys.modules.pop("bench_harness", None)


@pytest.fixture(scope="module")
def synced_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One rendered, installed repo (as `make bench` makes) for the sections that need one."""
    try:
        return Path(load_harness().render_synced(tmp_path_factory.mktemp("bench")))
    finally:
        sys.modules.pop("bench_harness", None)


def read_figures(bench: ModuleType) -> dict[str, Any]:
    """The harness's figures that got a sample, by name (its `Figure` rows)."""
    return {found.name: found for found in bench.FIGURES if found.samples}


def assert_measured_and_judged(figures: dict[str, Any], *, unreferenced: set[str]) -> None:
    """Every reference measured and every target judged, but for the `unreferenced` rows."""
    for found in figures.values():
        if found.reference and found.name not in unreferenced:
            assert found.reference_samples, f"{found.name}: its reference was not measured"
        if found.target and found.name not in unreferenced:
            assert found.meets_target is not None, f"{found.name}: target not judged"


def test_failed_steps_are_read_from_make_and_its_sub_make(bench: ModuleType) -> None:
    output = (
        "make[1]: *** [Makefile:14: lint] Error 1\n"
        "make[1]: *** Waiting for unfinished jobs....\n"
        "make: *** [Makefile:35: check] Error 2\n"
    )
    assert bench.FAILED_TARGET.findall(output) == ["lint", "check"]


def test_render_inventory_counts_files_and_python_lines_by_top_folder(
    bench: ModuleType, tmp_path: Path
) -> None:
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "objects" / "ab").write_text("not counted\n")
    (tmp_path / "src" / "squad").mkdir(parents=True)
    (tmp_path / "src" / "squad" / "feature.py").write_text("a = 1\nb = 2\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_feature.py").write_text("def test() -> None:\n    pass\n\n")
    (tmp_path / "tests" / "data.json").write_text("{}\n")
    (tmp_path / "Makefile").write_text("check:\n")

    found = bench.inventory(tmp_path)

    assert found["files"] == {"src": 1, "tests": 2, ".": 1}
    assert found["python_lines"] == {"src": 2, "tests": 3}


@pytest.mark.slow
def test_quick_copier_section_reads_copy_times_and_the_size_of_a_render(
    bench: ModuleType, tmp_path: Path
) -> None:
    bench.bench_copier(tmp_path, 1)
    assert bench.NOTES == []
    read = read_figures(bench)
    assert {
        "copier copy, defaults (incl. git init + uv lock task)",
        "copier copy --skip-tasks, defaults",
        "files in a fresh default render",
        "Python lines a squad owns or reads (src/ + tests/)",
    } <= read.keys()
    assert_measured_and_judged(read, unreferenced=set())
    inventory = bench.RAW["render_inventory"]
    assert inventory["files"]["src"] >= 1, "the render has no src/: wrong folder counted"
    assert inventory["python_lines"]["tests"] >= 1


@pytest.mark.slow
def test_quick_startup_and_gateway_sections_read_every_figure(
    bench: ModuleType, synced_repo: Path
) -> None:
    bench.QUICK_GATEWAY_ARGS = ["--sequential", "5", "--calls", "50"]
    bench.QUICK_TRACING_ARGS = ["--calls", "200", "--gateway-calls", "5"]
    bench.bench_startup(synced_repo, 1)
    bench.bench_gateway(synced_repo, quick=True, repeats=1)
    assert bench.NOTES == []
    read = read_figures(bench)
    expected = {
        "squad --help start-up",
        "squad prompts check start-up",
        "gateway call p50, 0 ms provider",
        "litellm Router alone, call p50",
        "gateway CPU per call",
        "gateway calls/s at c50, 0 ms provider",
    }
    assert expected <= read.keys()
    assert any(name.startswith("tracing hooks per call") for name in read)
    assert any(name.startswith("gateway call p50 with tracing") for name in read)
    assert_measured_and_judged(read, unreferenced=set())


@pytest.mark.slow
def test_quick_service_section_reads_every_figure(bench: ModuleType, synced_repo: Path) -> None:
    bench.bench_service(synced_repo, 1, 0.5)
    assert bench.NOTES == []
    read = read_figures(bench)
    assert {
        "service POST /v1/triage requests/s",
        "service p99 latency",
        "peak RSS, service under load",
    } <= read.keys()
    assert_measured_and_judged(read, unreferenced=set())


@pytest.mark.slow
def test_quick_eval_section_reads_every_figure_but_promptfoos(
    bench: ModuleType, synced_repo: Path, tmp_path: Path
) -> None:
    bench.CASES, bench.CONCURRENCY = 40, 20
    bench.bench_eval(synced_repo, tmp_path, 1, promptfoo=False, breakdown=True)
    assert bench.NOTES == ["promptfoo skipped (--no-promptfoo)"]
    read = read_figures(bench)
    whole_runs = {
        "squad eval run, 1,000 cases, end to end",
        f"squad eval run --workers {bench.WORKERS}, 1,000 cases, end to end",
    }
    assert {
        *whole_runs,
        "peak RSS, squad eval run",
        "eval runner (in-process, import excluded)",
        "eval runner calls/s (in-process, a process's first run timed whole)",
        "litellm import (first thing a live eval pays)",
        "CPU per call: run_suite (1 call/case)",
    } <= read.keys()
    assert_measured_and_judged(read, unreferenced=whole_runs)  # promptfoo is their reference


@pytest.mark.slow
def test_quick_hotpath_section_reads_and_judges_both_ratios(
    bench: ModuleType, synced_repo: Path
) -> None:
    bench.CASES, bench.CONCURRENCY = 40, 20
    bench.bench_hotpath(synced_repo, 1, 0.5)
    assert bench.NOTES == []
    read = read_figures(bench)
    assert {
        "eval runner calls/s (in-process, a process's first run timed whole)",
        "eval runner calls/s (in-process, first call untimed as the reference's)",
        "eval runner CPU per case (in-process, first call untimed)",
        "service POST /v1/triage requests/s",
    } <= read.keys()
    assert_measured_and_judged(read, unreferenced=set())


@pytest.mark.slow
def test_quick_memory_section_reads_its_figure(
    bench: ModuleType, synced_repo: Path, tmp_path: Path
) -> None:
    bench.bench_memory(synced_repo, tmp_path, 300)
    assert bench.NOTES == []
    read = read_figures(bench)
    figure = read["peak RSS, squad eval run, 100,000 replayed cases"]
    assert "300 cases, not 100,000" in figure.note  # a smaller run says so
    assert_measured_and_judged(read, unreferenced=set())


def test_quick_redaction_section_reads_every_figure(bench: ModuleType) -> None:
    bench.bench_redaction(1, megabytes=0.2)
    assert bench.NOTES == []
    read = read_figures(bench)
    assert {name.removeprefix("redact 10 MB: ") for name in read} == {
        "prose with addresses and keys",
        "prose with 80k near-misses",
        "one run of letters",
        "a@a.a repeated",
        "one address, a dotted domain",
    }
    assert all("0.2 MB, not 10" in found.note for found in read.values())
    assert_measured_and_judged(read, unreferenced=set())


def test_quick_harvest_section_reads_every_figure(bench: ModuleType) -> None:
    bench.bench_harvest(2000)
    assert bench.NOTES == []
    read = read_figures(bench)
    assert "squad harvest, 1,000,000 inferences (sqlite)" in read
    assert "squad harvest peak RSS (sqlite)" in read
    assert all("2,000 inferences, not 1,000,000" in found.note for found in read.values())


def test_quick_assignment_section_reads_the_added_cost_beside_the_plain_lookup(
    bench: ModuleType,
) -> None:
    bench.bench_assignment(1, calls=2000)
    assert bench.NOTES == []
    read = read_figures(bench)
    assert set(read) == {
        "experiment assigned: added per request",
        "no experiment running: added per request",
    }
    assert_measured_and_judged(read, unreferenced=set())


def test_quick_guardrails_section_reads_and_judges_one_check(bench: ModuleType) -> None:
    bench.bench_guardrails(1, rows=2000)
    assert bench.NOTES == []
    read = read_figures(bench)
    assert set(read) == {"guardrail check, 2,000 logged answers"}
    assert_measured_and_judged(read, unreferenced=set())


def test_quick_calibration_section_reads_every_cell_through_the_gates_decision(
    bench: ModuleType,
) -> None:
    """The section runs the simulation with this checkout's squadkit and keeps every cell:
    4 true changes x 2 disagreement rates x 3 sizes, each with its three shares."""
    bench.QUICK_CALIBRATION_ARGS = ["--runs", "3", "--resamples", "50"]
    bench.bench_calibration(quick=True)
    cells = bench.RAW["calibration"]["cells"]
    assert len(cells) == 24
    for cell in cells:
        assert cell["pass"] + cell["fail"] + cell["inconclusive"] == pytest.approx(1.0)
    judged = [cell["target"] for cell in cells if cell["change"] in (0.0, -0.05)]
    assert all(target.startswith(("pass <= 5%", "fail <= 5%")) for target in judged)
    assert all(not note.startswith("calibration printed no result") for note in bench.NOTES)


def test_quick_experiments_section_reads_both_figures_through_the_experiments_decisions(
    bench: ModuleType,
) -> None:
    """The section simulates experiments with this checkout's squadkit, keeps every row and
    turns two into judged figures: false winners beside a naive daily z-test, and requests
    until a 5-point lift is decided beside a one-look test's planned size."""
    bench.QUICK_EXPERIMENT_ARGS = ["--experiments", "5"]
    bench.bench_experiments(quick=True)
    assert bench.NOTES == []
    rows = bench.RAW["experiments"]["rows"]
    assert len(rows) == 15
    assert all(0.0 <= row["declared"] <= 1.0 for row in rows)
    read = read_figures(bench)
    false_winners = read["experiments: false winners, 30 daily looks (no difference, both 60%)"]
    assert false_winners.meets_target is not None
    assert false_winners.reference_samples  # the naive z-test, same simulated experiments
    decided = read["experiments: median requests to decide 60% -> 65%"]
    assert decided.reference_samples == [bench.RAW["experiments"]["fixed_sample_requests"]]


@pytest.mark.slow
def test_quick_inferencelog_section_reads_and_judges_both_stores(
    bench: ModuleType, synced_repo: Path
) -> None:
    """The log's p50 over off and feedback's p99 at 200 requests/s, on SQLite and (the
    machines this project runs on have it) PostgreSQL."""
    bench.QUICK_INFERENCELOG_ARGS = ["--duration", "0.5", "--rounds", "1", "--calls", "50"]
    bench.QUICK_FEEDBACK_ARGS = ["--duration", "0.5", "--seed", "5"]
    bench.bench_inferencelog(synced_repo, quick=True)
    assert bench.NOTES == []
    read = read_figures(bench)
    assert {
        "service p50, inference log on SQLite",
        "service p50, inference log on PostgreSQL",
        "POST /v1/feedback p99 at 200 req/s, SQLite",
        "POST /v1/feedback p99 at 200 req/s, PostgreSQL",
    } <= read.keys()
    assert_measured_and_judged(read, unreferenced=set())

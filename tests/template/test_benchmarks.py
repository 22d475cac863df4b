"""`make bench` works end to end at a small scale.

The harness (`benchmarks/run.py`) renders the template, runs the rendered repo's own
benchmark scripts and reads the figures they print. Speeds are not asserted here (they are
the benchmark's business); what is asserted is that every figure of a section was read, so a
change to a script's output or to the harness's parsing fails here, not in the next full run.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

HARNESS = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


@pytest.fixture
def bench() -> Iterator[ModuleType]:
    """A fresh copy of the harness module: its figures and notes are module-level lists."""
    spec = importlib.util.spec_from_file_location("bench_harness", HARNESS)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve their annotations through it
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_failed_steps_are_read_from_make_and_its_sub_make(bench: ModuleType) -> None:
    output = (
        "make[1]: *** [Makefile:14: lint] Error 1\n"
        "make[1]: *** Waiting for unfinished jobs....\n"
        "make: *** [Makefile:35: check] Error 2\n"
    )
    assert bench.FAILED_TARGET.findall(output) == ["lint", "check"]


@pytest.mark.slow
def test_quick_startup_and_gateway_sections_read_every_figure(
    bench: ModuleType, tmp_path: Path
) -> None:
    bench.QUICK_GATEWAY_ARGS = ["--sequential", "5", "--calls", "50"]
    bench.QUICK_TRACING_ARGS = ["--calls", "200", "--gateway-calls", "5"]
    repo = bench.render_synced(tmp_path)
    bench.bench_startup(repo, 1)
    bench.bench_gateway(repo, quick=True, repeats=1)
    assert bench.NOTES == []
    read = {found.name: found for found in bench.FIGURES if found.samples}
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
    for found in read.values():
        assert found.reference_samples, f"{found.name}: its reference was not measured"
        if found.target:
            assert found.meets_target is not None, f"{found.name}: target not judged"
